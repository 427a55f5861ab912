#pragma once
// Kernel launching for the CUDA backend: grid-stride loops over a flat index range, and a check
// after every launch so that a bad configuration is reported where it happened.
#include <algorithm>

#include "../../core/host_device.hpp"
#include "../../core/shape.hpp"
#include "cuda.hpp"

namespace chroma::kernels::cuda_detail {

using chroma::cuda_detail::check;
using chroma::cuda_detail::stream;

inline constexpr int block_threads = 256;
/// Enough blocks to fill any current GPU several times; the grid-stride loop covers the rest.
inline constexpr index_t max_blocks = 8192;

inline unsigned blocks_for(index_t count) {
    return static_cast<unsigned>(std::clamp<index_t>((count + block_threads - 1) / block_threads, 1, max_blocks));
}

/// Throws cuda_error if the launch just made failed (bad configuration, no device, an earlier fault).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), std::string("launching ") + kernel); }

/// The flat indices one thread visits in a grid-stride loop: first, first + stride, ...
__device__ inline index_t grid_first() { return static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline index_t grid_stride() { return static_cast<index_t>(blockDim.x) * gridDim.x; }

/// Calls body(i) for every i in [0, count).
template <class Body>
__global__ void for_each_index_kernel(index_t count, Body body) {
    for (index_t i = grid_first(); i < count; i += grid_stride()) body(i);
}

/// Runs body(i) on the GPU for every i in [0, count); `name` appears in launch errors.
/// Body is a copyable functor with a CHROMA_HOST_DEVICE operator()(index_t) const (host too, so
/// that tests can check the index arithmetic of every kernel body without a GPU).
template <class Body>
void for_each_index(const char* name, index_t count, const Body& body) {
    if (count <= 0) return;
    for_each_index_kernel<<<blocks_for(count), block_threads, 0, stream()>>>(count, body);
    check_launch(name);
}

}  // namespace chroma::kernels::cuda_detail
