#pragma once
// Block-wide sums in double for the CUDA kernels that reduce (BatchNorm, bias gradients, norms).
// The order of the additions depends only on the block size, which is fixed, so results are the
// same from run to run.
#include "launch.cuh"

namespace chroma::kernels::cuda_detail {

/// Threads per block of every reducing kernel; block_sum assumes exactly this many.
inline constexpr int reduce_threads = 256;

/// The sum of `value` over the block, returned to every thread. All threads must call it.
__device__ inline double block_sum(double value) {
    static_assert(reduce_threads % 32 == 0 && reduce_threads <= 1024);
    __shared__ double warp_sums[reduce_threads / 32];
    __shared__ double total;
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
    const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
    if (lane == 0) warp_sums[warp] = value;
    __syncthreads();
    if (warp == 0) {
        value = lane < reduce_threads / 32 ? warp_sums[lane] : 0.0;
        for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
        if (lane == 0) total = value;
    }
    __syncthreads();
    const double result = total;
    __syncthreads();  // the next call may overwrite warp_sums and total
    return result;
}

/// For each channel c (one block each), adds the sum of data[n, c, :] over all n into sums[c].
template <class T>
__global__ void add_channel_sums_kernel(const T* data, index_t images, index_t channels, index_t plane, T* sums) {
    const index_t c = blockIdx.x;
    double sum = 0.0;
    for (index_t j = threadIdx.x; j < images * plane; j += reduce_threads)
        sum += static_cast<double>(data[((j / plane) * channels + c) * plane + j % plane]);
    sum = block_sum(sum);
    if (threadIdx.x == 0) sums[c] = static_cast<T>(static_cast<double>(sums[c]) + sum);
}

/// sums[c] += the sum of channel c of an NCHW array (a bias gradient).
template <class T>
void add_channel_sums(const T* data, index_t images, index_t channels, index_t plane, T* sums) {
    if (channels <= 0) return;
    add_channel_sums_kernel<<<static_cast<unsigned>(channels), reduce_threads, 0, stream()>>>(data, images, channels,
                                                                                            plane, sums);
    check_launch("add_channel_sums");
}

}  // namespace chroma::kernels::cuda_detail
