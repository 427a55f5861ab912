#pragma once
// The CUDA backend policy: tensors in GPU memory, arithmetic in Chroma's own kernels and cuBLAS.
//
// This header is plain C++ over the CUDA runtime API (no nvcc needed): host code compiled by
// g++ may hold Tensor<T, cuda> and move data with to_device / to_host (transfer.hpp). The
// kernels are .cuh headers under nvcc; include <chroma/backend/cuda/all.cuh> before any other
// Chroma header in a .cu file (the layers find kernel overloads by qualified name, so the CUDA
// overloads must be declared before the layers are).
//
// Streams: all work goes to the default stream of the current device, in order. Any host
// thread may use any tensor, and nothing needs an explicit synchronisation except reading
// results on the host, which to_host does. (Under `nvcc --default-stream per-thread` stream 0
// becomes each thread's own stream; then keep a tensor on the thread that made it, or call
// cuda::synchronize() before handing it over.)
//
// Storage: cudaMallocAsync / cudaFreeAsync on that stream. The driver's stream-ordered pool is
// the caching allocator (freed blocks are reused without a device-wide synchronisation, unlike
// cudaFree, which thrust::device_vector uses); the pool keeps what it has until
// cuda::release_cached_memory(). No managed memory: the CPU never dereferences a device pointer.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/backend.hpp"
#include "../../core/error.hpp"
#include "../../core/shape.hpp"

namespace chroma {

/// A CUDA runtime or cuBLAS call failed: no device, out of GPU memory, a bad kernel launch, or a
/// kernel that faulted earlier. what() names the operation and the CUDA error.
class cuda_error : public error {
public:
    cuda_error(std::string message, int code) : error(std::move(message)), code_(code) {}
    /// The cudaError_t (or, for cuBLAS, the cublasStatus_t) value.
    int code() const noexcept { return code_; }

private:
    int code_;
};

namespace cuda_detail {

/// The stream every kernel, copy, allocation and GEMM of the backend is ordered on.
inline cudaStream_t stream() noexcept { return nullptr; }

inline std::string byte_text(std::size_t bytes) {
    return std::to_string(bytes) + " bytes (" + std::to_string(bytes >> 20) + " MiB)";
}

/// Throws cuda_error when `status` is not cudaSuccess; `what` says what was being done.
inline void check(cudaError_t status, std::string_view what) {
    if (status == cudaSuccess) return;
    cudaGetLastError();  // clears a non-sticky error so that later calls report their own
    std::string hint;
    switch (status) {
        case cudaErrorNoDevice:
        case cudaErrorInsufficientDriver:
        case cudaErrorInvalidDevice:
            hint = "no usable CUDA device (check the driver, nvidia-smi and CUDA_VISIBLE_DEVICES); ";
            break;
        case cudaErrorMemoryAllocation: hint = "out of GPU memory; "; break;
        case cudaErrorLaunchFailure:
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchOutOfResources:
        case cudaErrorInvalidConfiguration:
            hint = "a kernel failed (it may have been launched before this call); ";
            break;
        default: break;
    }
    throw cuda_error("CUDA: " + std::string(what) + " failed: " + hint + cudaGetErrorName(status) + " (" +
                         cudaGetErrorString(status) + ")",
                     static_cast<int>(status));
}

/// Lets the current device's default memory pool keep freed blocks instead of returning them to
/// the driver at each synchronisation (what makes cudaMallocAsync a caching allocator). Once per device.
/// `what` names the operation that needed it (an allocation), for error messages.
inline void keep_freed_memory_cached(std::string_view what) {
    static std::mutex mutex;
    static std::vector<bool> done;
    int device = 0;
    check(cudaGetDevice(&device), what);
    const std::lock_guard lock(mutex);
    if (done.size() <= static_cast<std::size_t>(device)) done.resize(static_cast<std::size_t>(device) + 1, false);
    if (done[static_cast<std::size_t>(device)]) return;
    cudaMemPool_t pool = nullptr;
    check(cudaDeviceGetDefaultMemPool(&pool, device), "getting the device's memory pool");
    std::uint64_t keep_everything = std::numeric_limits<std::uint64_t>::max();
    check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything),
          "configuring the device's memory pool");
    done[static_cast<std::size_t>(device)] = true;
}

/// An owning, fixed-size array in GPU memory, zero-filled when created (as host tensors are).
/// Zero elements allocate nothing, so empty tensors work without a device.
template <class T>
class device_buffer {
public:
    device_buffer() = default;
    explicit device_buffer(std::size_t count) : size_(count) {
        if (count == 0) return;
        const std::size_t bytes = count * sizeof(T);
        const std::string what = "allocating " + byte_text(bytes) + " of GPU memory";
        keep_freed_memory_cached(what);
        void* memory = nullptr;
        check(cudaMallocAsync(&memory, bytes, stream()), what);
        data_ = static_cast<T*>(memory);
        if (const cudaError_t status = cudaMemsetAsync(memory, 0, bytes, stream()); status != cudaSuccess) {
            release();
            check(status, "zeroing new GPU memory");
        }
    }
    ~device_buffer() { release(); }

    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    device_buffer(device_buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    device_buffer& operator=(device_buffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    void release() noexcept {
        // Stream-ordered: the block returns to the pool after the work queued before it. An error
        // here (the runtime already shut down at exit) leaves nothing to clean up, so it is ignored.
        if (data_) cudaFreeAsync(data_, stream());
        data_ = nullptr;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace cuda_detail

struct cuda {
    template <class T>
    using buffer = cuda_detail::device_buffer<T>;
    static constexpr std::string_view name = "cuda";
    static constexpr bool host_accessible = false;

    /// Whether at least one CUDA device can be used. Never throws.
    static bool device_available() noexcept {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            cudaGetLastError();
            return false;
        }
        return count > 0;
    }
    /// Waits for all queued GPU work and throws cuda_error if any of it failed.
    static void synchronize() {
        cuda_detail::check(cudaStreamSynchronize(cuda_detail::stream()), "waiting for the GPU");
    }
    /// Returns the memory pool's cached blocks (freed tensors) to the driver.
    static void release_cached_memory() {
        int device = 0;
        cuda_detail::check(cudaGetDevice(&device), "finding the current device");
        cudaMemPool_t pool = nullptr;
        cuda_detail::check(cudaDeviceGetDefaultMemPool(&pool, device), "getting the device's memory pool");
        cuda_detail::check(cudaStreamSynchronize(cuda_detail::stream()), "waiting for the GPU");
        cuda_detail::check(cudaMemPoolTrimTo(pool, 0), "releasing cached GPU memory");
    }
    /// Device-to-device copy of `count` values; Tensor::clone uses it.
    template <class T>
    static void copy(const T* from, T* to, index_t count) {
        if (count <= 0) return;
        cuda_detail::check(cudaMemcpyAsync(to, from, static_cast<std::size_t>(count) * sizeof(T),
                                           cudaMemcpyDeviceToDevice, cuda_detail::stream()),
                           "copying on the GPU");
    }
};

static_assert(Backend<cuda>);

}  // namespace chroma
