#pragma once
// The GEMMs of the convolutions on cuBLAS, written in the CPU's row-major terms.
//
// cuBLAS is column-major. A row-major M x N matrix with leading dimension N is, read
// column-major, its N x M transpose. So the row-major C = op(A) * op(B) is computed as the
// column-major C^T = op(B)^T * op(A)^T: cuBLAS gets B before A and the sizes (N, M, K), each
// operand keeping its own transpose flag and its row length as leading dimension.
//
// One cuBLAS handle per device, made on first use and kept for the program's life (a handle may
// be shared by threads as long as its stream is not changed, and it never is: the default stream).
// Math mode is cuBLAS's default, full FP32 (no TF32), so results match the CPU's to float rounding.
#include <cublas_v2.h>

#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/error.hpp"
#include "cuda.hpp"

namespace chroma::kernels::cuda_detail {

inline void check_cublas(cublasStatus_t status, const char* what) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    throw cuda_error(std::string("cuBLAS: ") + what + " failed: " + cublasGetStatusName(status) + " (" +
                         cublasGetStatusString(status) + ")",
                     static_cast<int>(status));
}

/// The cuBLAS handle of the current device, bound to the backend's stream.
inline cublasHandle_t cublas_handle() {
    // Never destroyed: the driver frees them at exit, and destroying them from a static destructor
    // could run after the CUDA runtime has shut down.
    static std::mutex mutex;
    static std::vector<cublasHandle_t> handles;  // by device ordinal
    int device = 0;
    chroma::cuda_detail::check(cudaGetDevice(&device), "finding the current device");
    const std::lock_guard lock(mutex);
    if (handles.size() <= static_cast<std::size_t>(device)) handles.resize(static_cast<std::size_t>(device) + 1);
    cublasHandle_t& handle = handles[static_cast<std::size_t>(device)];
    if (!handle) {
        cublasHandle_t made = nullptr;
        check_cublas(cublasCreate(&made), "creating a handle");
        if (const cublasStatus_t status = cublasSetStream(made, chroma::cuda_detail::stream());
            status != CUBLAS_STATUS_SUCCESS) {
            cublasDestroy(made);
            check_cublas(status, "setting the handle's stream");
        }
        handle = made;
    }
    return handle;
}

/// cuBLAS takes int sizes; refuses (rather than wraps) a dimension that does not fit.
inline int blas_int(index_t value, const char* what) {
    if (value < 0 || value > std::numeric_limits<int>::max())
        throw usage_error(std::string("CUDA GEMM: ") + what + " = " + std::to_string(value) +
                          " does not fit cuBLAS's int sizes; use smaller batches or images");
    return static_cast<int>(value);
}

/// The column-major GEMM that computes a row-major one: cuBLAS's first operand is B, its second
/// A, and its result C^T (see the top of this file). Separate from the call so tests can check it.
struct column_major_gemm {
    bool transpose_first, transpose_second;  // of B and of A
    int rows, columns, inner;                // N, M, K
    int ld_first, ld_second, ld_result;      // B's, A's and C's row lengths
};

inline column_major_gemm column_major_arguments(bool transpose_a, bool transpose_b, index_t m, index_t n, index_t k) {
    const int M = blas_int(m, "rows"), N = blas_int(n, "columns"), K = blas_int(k, "inner size");
    return column_major_gemm{.transpose_first = transpose_b, .transpose_second = transpose_a, .rows = N,
                             .columns = M, .inner = K, .ld_first = transpose_b ? K : N,
                             .ld_second = transpose_a ? M : K, .ld_result = N};
}

/// For b in [0, batch): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, all row-major, with op(A)
/// M x K, op(B) K x N and C N values per row. A_b = A + b * a_stride (a_stride 0 shares one A).
/// A is stored K x M when transpose_a, else M x K; B is stored N x K when transpose_b, else K x N.
template <class T>
void gemm(bool transpose_a, bool transpose_b, index_t m, index_t n, index_t k, T alpha, const T* a, index_t a_stride,
          const T* b, index_t b_stride, T beta, T* c, index_t c_stride, index_t batch) {
    if (m == 0 || n == 0 || batch == 0) return;
    const column_major_gemm g = column_major_arguments(transpose_a, transpose_b, m, n, k);
    const cublasOperation_t op_first = g.transpose_first ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_second = g.transpose_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int count = blas_int(batch, "batch");
    if constexpr (std::is_same_v<T, float>)
        check_cublas(cublasSgemmStridedBatched(cublas_handle(), op_first, op_second, g.rows, g.columns, g.inner,
                                               &alpha, b, g.ld_first, b_stride, a, g.ld_second, a_stride, &beta, c,
                                               g.ld_result, c_stride, count),
                     "SGEMM");
    else
        check_cublas(cublasDgemmStridedBatched(cublas_handle(), op_first, op_second, g.rows, g.columns, g.inner,
                                               &alpha, b, g.ld_first, b_stride, a, g.ld_second, a_stride, &beta, c,
                                               g.ld_result, c_stride, count),
                     "DGEMM");
}

}  // namespace chroma::kernels::cuda_detail
