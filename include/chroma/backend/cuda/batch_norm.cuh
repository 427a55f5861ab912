#pragma once
// Batch normalisation on the GPU, as backend/cpu/batch_norm.hpp: one block per channel sums its
// N x H x W values in double (mean, then squared deviations, as the CPU does), updates the
// running statistics exactly as the CPU does, and normalises the channel.
#include <cmath>

#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"
#include "reduce.cuh"

namespace chroma::kernels {
namespace cuda_detail {

/// The offset of value j (of n * plane) of channel c in an NCHW array.
__device__ inline index_t channel_offset(index_t j, index_t c, index_t channels, index_t plane) {
    return ((j / plane) * channels + c) * plane + j % plane;
}

template <class T>
__global__ void batch_norm_training_kernel(const T* x, const T* weight, const T* bias, T momentum, T eps,
                                           T* running_mean, T* running_var, T* batches_tracked, T* saved_mean,
                                           T* saved_invstd, T* y, index_t images, index_t channels, index_t plane) {
    const index_t c = blockIdx.x, count = images * plane;
    double sum = 0.0;
    for (index_t j = threadIdx.x; j < count; j += reduce_threads) sum += x[channel_offset(j, c, channels, plane)];
    const double mean = block_sum(sum) / static_cast<double>(count);
    // A second pass for the variance avoids the cancellation of E[x^2] - E[x]^2.
    double squares = 0.0;
    for (index_t j = threadIdx.x; j < count; j += reduce_threads) {
        const double d = x[channel_offset(j, c, channels, plane)] - mean;
        squares += d * d;
    }
    squares = block_sum(squares);
    const double variance = squares / static_cast<double>(count);
    const T invstd = static_cast<T>(1.0 / sqrt(variance + static_cast<double>(eps)));
    if (threadIdx.x == 0) {
        saved_mean[c] = static_cast<T>(mean);
        saved_invstd[c] = invstd;
        const T unbiased = static_cast<T>(squares / static_cast<double>(count - 1));
        running_mean[c] = (T(1) - momentum) * running_mean[c] + momentum * static_cast<T>(mean);
        running_var[c] = (T(1) - momentum) * running_var[c] + momentum * unbiased;
        if (c == 0) batches_tracked[0] += T(1);
    }
    const T mean_t = static_cast<T>(mean), scale = invstd * weight[c], shift = bias[c];
    for (index_t j = threadIdx.x; j < count; j += reduce_threads) {
        const index_t at = channel_offset(j, c, channels, plane);
        y[at] = (x[at] - mean_t) * scale + shift;
    }
}

template <class T>
struct running_statistics_op {
    const T *running_mean, *running_var;
    T eps;
    T *saved_mean, *saved_invstd;
    CHROMA_HOST_DEVICE void operator()(index_t c) const {
        saved_mean[c] = running_mean[c];
        saved_invstd[c] = T(1) / sqrt(running_var[c] + eps);
    }
};

template <class T>
struct batch_norm_apply_op {
    const T *x, *weight, *bias, *mean, *invstd;
    T* y;
    index_t channels, plane;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t c = (i / plane) % channels;
        y[i] = (x[i] - mean[c]) * (invstd[c] * weight[c]) + bias[c];
    }
};

template <class T>
__global__ void batch_norm_backward_kernel(const T* x, const T* dy, const T* weight, const T* saved_mean,
                                           const T* saved_invstd, bool batch_statistics, T* dx, T* dweight, T* dbias,
                                           index_t images, index_t channels, index_t plane) {
    const index_t c = blockIdx.x, count = images * plane;
    const double mean = saved_mean[c], invstd = saved_invstd[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (index_t j = threadIdx.x; j < count; j += reduce_threads) {
        const index_t at = channel_offset(j, c, channels, plane);
        sum_dy += dy[at];
        sum_dy_xhat += dy[at] * (x[at] - mean);
    }
    sum_dy = block_sum(sum_dy);
    sum_dy_xhat = block_sum(sum_dy_xhat) * invstd;
    if (threadIdx.x == 0) {
        dweight[c] += static_cast<T>(sum_dy_xhat);
        dbias[c] += static_cast<T>(sum_dy);
    }
    const double gain = weight[c] * invstd;
    // dx = gain * (dy - mean(dy) - xhat * mean(dy * xhat)) in training; gain * dy otherwise.
    const double mean_dy = batch_statistics ? sum_dy / static_cast<double>(count) : 0.0;
    const double mean_dy_xhat = batch_statistics ? sum_dy_xhat / static_cast<double>(count) : 0.0;
    const T a = static_cast<T>(gain);
    const T b = static_cast<T>(-gain * mean_dy_xhat * invstd);
    const T shift = static_cast<T>(-gain * mean_dy);
    const T mean_t = static_cast<T>(mean);
    for (index_t j = threadIdx.x; j < count; j += reduce_threads) {
        const index_t at = channel_offset(j, c, channels, plane);
        dx[at] = a * dy[at] + b * (x[at] - mean_t) + shift;
    }
}

}  // namespace cuda_detail

/// Training mode, as the CPU's: batch statistics, running statistics moved by momentum
/// (running_var towards the unbiased variance), batches_tracked + 1. y must have x's shape.
template <class T>
void batch_norm_forward_training(const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight, const Tensor<T, cuda>& bias,
                                 T momentum, T eps, Tensor<T, cuda>& running_mean, Tensor<T, cuda>& running_var,
                                 Tensor<T, cuda>& batches_tracked, Tensor<T, cuda>& saved_mean,
                                 Tensor<T, cuda>& saved_invstd, Tensor<T, cuda>& y) {
    const Shape& s = x.shape();
    if (s.c <= 0) return;
    cuda_detail::batch_norm_training_kernel<<<static_cast<unsigned>(s.c), cuda_detail::reduce_threads, 0,
                                              cuda_detail::stream()>>>(
        x.data(), weight.data(), bias.data(), momentum, eps, running_mean.data(), running_var.data(),
        batches_tracked.data(), saved_mean.data(), saved_invstd.data(), y.data(), s.n, s.c, s.plane());
    cuda_detail::check_launch("batch_norm_forward_training");
}

/// Evaluation mode: normalises with the running statistics and writes saved_mean and
/// saved_invstd from them for backward. y must have x's shape.
template <class T>
void batch_norm_forward_inference(const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight, const Tensor<T, cuda>& bias,
                                  T eps, const Tensor<T, cuda>& running_mean, const Tensor<T, cuda>& running_var,
                                  Tensor<T, cuda>& saved_mean, Tensor<T, cuda>& saved_invstd, Tensor<T, cuda>& y) {
    const Shape& s = x.shape();
    cuda_detail::for_each_index("batch_norm_running_statistics", s.c,
                                cuda_detail::running_statistics_op<T>{running_mean.data(), running_var.data(), eps,
                                                                      saved_mean.data(), saved_invstd.data()});
    cuda_detail::for_each_index("batch_norm_forward_inference", x.size(),
                                cuda_detail::batch_norm_apply_op<T>{x.data(), weight.data(), bias.data(),
                                                                    saved_mean.data(), saved_invstd.data(), y.data(),
                                                                    s.c, s.plane()});
}

/// Adds the weight and bias gradients into dweight and dbias and writes dx (see the CPU's).
template <class T>
void batch_norm_backward(const Tensor<T, cuda>& x, const Tensor<T, cuda>& dy, const Tensor<T, cuda>& weight,
                         const Tensor<T, cuda>& saved_mean, const Tensor<T, cuda>& saved_invstd, bool batch_statistics,
                         Tensor<T, cuda>& dx, Tensor<T, cuda>& dweight, Tensor<T, cuda>& dbias) {
    const Shape& s = x.shape();
    if (s.c <= 0) return;
    cuda_detail::batch_norm_backward_kernel<<<static_cast<unsigned>(s.c), cuda_detail::reduce_threads, 0,
                                              cuda_detail::stream()>>>(
        x.data(), dy.data(), weight.data(), saved_mean.data(), saved_invstd.data(), batch_statistics, dx.data(),
        dweight.data(), dbias.data(), s.n, s.c, s.plane());
    cuda_detail::check_launch("batch_norm_backward");
}

}  // namespace chroma::kernels
