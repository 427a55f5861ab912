#pragma once
// Row-major matrix views over raw memory and the GEMM every layer's heavy arithmetic reduces to:
// multiply() runs on Chroma's own packed kernels (packed_gemm.hpp) or on Eigen.
#include <Eigen/Core>

#include <optional>
#include <type_traits>

#include "../../core/shape.hpp"
#include "packed_gemm.hpp"

namespace chroma::kernels::cpu_detail {

template <class T>
using row_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using matrix_view = Eigen::Map<row_matrix<T>>;
template <class T>
using const_matrix_view = Eigen::Map<const row_matrix<T>>;

template <class T>
matrix_view<T> view(T* data, index_t rows, index_t cols) {
    return matrix_view<T>(data, rows, cols);
}
template <class T>
const_matrix_view<T> view(const T* data, index_t rows, index_t cols) {
    return const_matrix_view<T>(data, rows, cols);
}

}  // namespace chroma::kernels::cpu_detail

namespace chroma::kernels::cpu_detail {

/// A stored row-major matrix (rows x cols as stored) that a product uses as is or transposed.
template <class T>
struct operand {
    const T* data;
    index_t rows, cols;
    bool transposed = false;
    index_t used_rows() const { return transposed ? cols : rows; }
    index_t used_cols() const { return transposed ? rows : cols; }
};
template <class T>
operand<T> as_is(const T* data, index_t rows, index_t cols) {
    return {data, rows, cols, false};
}
template <class T>
operand<T> transposed(const T* data, index_t rows, index_t cols) {
    return {data, rows, cols, true};
}

/// C (+)= A * B, C row-major and dense. Single precision runs on Chroma's own kernels where the
/// CPU has them (cpu_gemm::active_instruction_set) and the product is large enough for them
/// (cpu_gemm::worth_packing), on up to `threads` threads; the rest on Eigen. `kernels`, when
/// given, forces that choice whatever the size (the tests use it).
template <class T>
void multiply(const operand<T>& a, const operand<T>& b, T* c, bool accumulate, int threads,
              std::optional<cpu_gemm::instruction_set> kernels = std::nullopt) {
    const index_t m = a.used_rows(), n = b.used_cols(), depth = a.used_cols();
    if constexpr (std::is_same_v<T, float>) {
        const auto kernel = kernels ? cpu_gemm::kernel_for(*kernels) : cpu_gemm::kernel_for_product(m, n, depth);
        if (kernel.tile) {
            auto with_b = [&](const auto& pack_a) {
                if (b.transposed)
                    cpu_gemm::gemm(kernel, m, n, depth, pack_a, cpu_gemm::pack_b_columns_of{b.data, b.cols}, c, n,
                                   accumulate, threads);
                else
                    cpu_gemm::gemm(kernel, m, n, depth, pack_a, cpu_gemm::pack_b_rows_of{b.data, b.cols}, c, n,
                                   accumulate, threads);
            };
            if (a.transposed)
                with_b(cpu_gemm::pack_columns_of{a.data, a.cols});
            else
                with_b(cpu_gemm::pack_rows_of{a.data, a.cols});
            return;
        }
    }
    auto C = view(c, m, n);
    const auto A = view(a.data, a.rows, a.cols);
    const auto B = view(b.data, b.rows, b.cols);
    auto run = [&](const auto& left, const auto& right) {
        if (accumulate)
            C.noalias() += left * right;
        else
            C.noalias() = left * right;
    };
    if (!a.transposed && !b.transposed) run(A, B);
    else if (a.transposed && !b.transposed) run(A.transpose(), B);
    else if (!a.transposed) run(A, B.transpose());
    else run(A.transpose(), B.transpose());
}

}  // namespace chroma::kernels::cpu_detail
