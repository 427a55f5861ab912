#pragma once
// Softmax over the channels of an [N, Q, H, W] logit tensor, fused into the classification
// losses: per-pixel maths in CHROMA_HOST_DEVICE functions, the loops over pixels in CPU kernels.
// A pixel's Q logits lie H*W apart in memory (NCHW), hence the `stride` arguments.
#include <cmath>
#include <vector>

#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"

namespace chroma::loss::terms {

/// log(sum_q exp(z_q)) over one pixel's `count` logits, shifted by the maximum so nothing overflows.
template <class T>
CHROMA_HOST_DEVICE double log_sum_exp(const T* z, index_t count, index_t stride) {
    double top = static_cast<double>(z[0]);
    for (index_t q = 1; q < count; ++q) {
        const double v = static_cast<double>(z[q * stride]);
        top = v > top ? v : top;
    }
    double sum = 0.0;
    for (index_t q = 0; q < count; ++q) sum += std::exp(static_cast<double>(z[q * stride]) - top);
    return top + std::log(sum);
}

/// The first channel holding a pixel's largest value (argmax with ties going to the lower index).
template <class T>
CHROMA_HOST_DEVICE index_t argmax(const T* x, index_t count, index_t stride) {
    index_t best = 0;
    for (index_t q = 1; q < count; ++q)
        if (x[q * stride] > x[best * stride]) best = q;
    return best;
}

/// One pixel's cross-entropy -sum_q target_q log softmax(z)_q, times `weight`; writes
/// scale * weight * (softmax(z)_q * sum(target) - target_q) into grad when grad is not null
/// (softmax(z) - target for a target that sums to 1).
template <class T>
CHROMA_HOST_DEVICE double softmax_cross_entropy_pixel(const T* z, const T* target, T* grad, index_t count,
                                                      index_t stride, double weight, double scale) {
    const double lse = log_sum_exp(z, count, stride);
    double loss = 0.0, target_sum = 0.0;
    for (index_t q = 0; q < count; ++q) {
        const double t = static_cast<double>(target[q * stride]);
        loss += t * (lse - static_cast<double>(z[q * stride]));
        target_sum += t;
    }
    if (grad)
        for (index_t q = 0; q < count; ++q) {
            const double p = std::exp(static_cast<double>(z[q * stride]) - lse);
            const double t = static_cast<double>(target[q * stride]);
            grad[q * stride] = static_cast<T>(scale * weight * (p * target_sum - t));
        }
    return weight * loss;
}

}  // namespace chroma::loss::terms

namespace chroma::kernels {

/// scale * sum over pixels of v * CE(pixel), where v = class_weights[argmax of the pixel's
/// target] (1 when class_weights is null). Writes the gradient w.r.t. the logits when asked.
template <class T>
double softmax_cross_entropy(const Tensor<T, cpu>& logits, const Tensor<T, cpu>& target, const double* class_weights,
                             double scale, Tensor<T, cpu>* grad) {
    const Shape s = logits.shape();
    const index_t plane = s.plane();
    const T* z = logits.data();
    const T* t = target.data();
    T* g = grad ? grad->data() : nullptr;
    const double sum = cpu_detail::ordered_sum(s.n * plane, 3 * s.c, [&](index_t pixel) {
        const index_t base = (pixel / plane) * s.c * plane + pixel % plane;
        const double weight = class_weights ? class_weights[loss::terms::argmax(t + base, s.c, plane)] : 1.0;
        return loss::terms::softmax_cross_entropy_pixel(z + base, t + base, g ? g + base : nullptr, s.c, plane,
                                                        weight, scale);
    });
    return scale * sum;
}

/// The softmax over channels averaged over every pixel of the batch: Q values summing to 1.
template <class T>
std::vector<double> mean_softmax(const Tensor<T, cpu>& logits) {
    const Shape s = logits.shape();
    const index_t plane = s.plane(), pixels = s.n * plane;
    std::vector<double> mean = cpu_detail::ordered_sums(pixels, s.c, 3 * s.c, [&](index_t pixel, double* sums) {
        const T* z = logits.data() + (pixel / plane) * s.c * plane + pixel % plane;
        const double lse = loss::terms::log_sum_exp(z, s.c, plane);
        for (index_t q = 0; q < s.c; ++q) sums[q] += std::exp(static_cast<double>(z[q * plane]) - lse);
    });
    for (double& m : mean) m /= static_cast<double>(pixels);
    return mean;
}

/// The gradient w.r.t. the logits of sum_q direction_q * mean_softmax(logits)_q, times scale:
/// per pixel, scale / pixels * p_k * (direction_k - sum_q direction_q p_q), with p = softmax.
/// Written into grad, or added to it when `accumulate` is true.
template <class T>
void mean_softmax_backward(const Tensor<T, cpu>& logits, const std::vector<double>& direction, double scale,
                           Tensor<T, cpu>& grad, bool accumulate = false) {
    const Shape s = logits.shape();
    const index_t plane = s.plane(), pixels = s.n * plane;
    const double per_pixel = scale / static_cast<double>(pixels);
    cpu_detail::parallel_for(pixels, 4 * s.c, [&](index_t pixel) {
        const index_t base = (pixel / plane) * s.c * plane + pixel % plane;
        const T* z = logits.data() + base;
        T* g = grad.data() + base;
        const double lse = loss::terms::log_sum_exp(z, s.c, plane);
        double expected = 0.0;
        for (index_t q = 0; q < s.c; ++q)
            expected += direction[static_cast<std::size_t>(q)] * std::exp(static_cast<double>(z[q * plane]) - lse);
        for (index_t q = 0; q < s.c; ++q) {
            const double p = std::exp(static_cast<double>(z[q * plane]) - lse);
            const T value = static_cast<T>(per_pixel * p * (direction[static_cast<std::size_t>(q)] - expected));
            g[q * plane] = accumulate ? g[q * plane] + value : value;
        }
    });
}

}  // namespace chroma::kernels
