#pragma once
// Batch normalisation on the CPU, as torch.nn.BatchNorm2d: each channel is normalised over its
// N x H x W values. Channels run in parallel; one channel's sums stay in one thread and are
// accumulated in double, so results do not depend on the thread count.
#include <cmath>
#include <span>
#include <vector>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {
namespace cpu_detail {

/// Calls body(values) for each of the N planes (H x W values) of channel c of an NCHW tensor.
template <class T, class F>
void for_each_plane_of_channel(T* data, const Shape& s, index_t c, F&& body) {
    for (index_t n = 0; n < s.n; ++n) body(data + (n * s.c + c) * s.plane());
}

/// y = (x - mean) * scale + shift over channel c, with scale = invstd * weight and shift = bias.
/// (Subtracting the mean first keeps float precision when |mean| is much larger than the spread.)
template <class T>
void batch_norm_apply(const Tensor<T, cpu>& x, Tensor<T, cpu>& y, index_t c, T mean, T scale, T shift) {
    const Shape& s = x.shape();
    const index_t plane = s.plane();
    for (index_t n = 0; n < s.n; ++n) {
        const T* in = x.data() + (n * s.c + c) * plane;
        T* out = y.data() + (n * s.c + c) * plane;
        for (index_t i = 0; i < plane; ++i) out[i] = (in[i] - mean) * scale + shift;
    }
}

}  // namespace cpu_detail

/// Training mode: normalises x with its own per-channel mean and biased variance, writes
/// saved_mean and saved_invstd = 1 / sqrt(var + eps) for backward, moves the running statistics
/// towards the batch's (running_var towards the unbiased variance) and adds 1 to batches_tracked.
/// Needs more than one value per channel; y must already have x's shape.
template <class T>
void batch_norm_forward_training(const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight, const Tensor<T, cpu>& bias,
                                 T momentum, T eps, Tensor<T, cpu>& running_mean, Tensor<T, cpu>& running_var,
                                 Tensor<T, cpu>& batches_tracked, Tensor<T, cpu>& saved_mean,
                                 Tensor<T, cpu>& saved_invstd, Tensor<T, cpu>& y) {
    using namespace cpu_detail;
    const Shape& s = x.shape();
    const index_t count = s.n * s.plane();
    parallel_for(s.c, count, [&](index_t c) {
        double sum = 0.0;
        for_each_plane_of_channel(x.data(), s, c, [&](const T* v) {
            for (index_t i = 0; i < s.plane(); ++i) sum += v[i];
        });
        const double mean = sum / static_cast<double>(count);
        // A second pass for the variance avoids the cancellation of E[x^2] - E[x]^2.
        double squares = 0.0;
        for_each_plane_of_channel(x.data(), s, c, [&](const T* v) {
            for (index_t i = 0; i < s.plane(); ++i) squares += (v[i] - mean) * (v[i] - mean);
        });
        const double variance = squares / static_cast<double>(count);
        const T invstd = static_cast<T>(1.0 / std::sqrt(variance + static_cast<double>(eps)));
        saved_mean.data()[c] = static_cast<T>(mean);
        saved_invstd.data()[c] = invstd;
        const T unbiased = static_cast<T>(squares / static_cast<double>(count - 1));
        running_mean.data()[c] = (T(1) - momentum) * running_mean.data()[c] + momentum * static_cast<T>(mean);
        running_var.data()[c] = (T(1) - momentum) * running_var.data()[c] + momentum * unbiased;
        batch_norm_apply(x, y, c, static_cast<T>(mean), invstd * weight.data()[c], bias.data()[c]);
    });
    batches_tracked.data()[0] += T(1);
}

/// Evaluation mode: normalises x with the running statistics; writes saved_mean and
/// saved_invstd from them for backward. y must already have x's shape.
template <class T>
void batch_norm_forward_inference(const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight, const Tensor<T, cpu>& bias,
                                  T eps, const Tensor<T, cpu>& running_mean, const Tensor<T, cpu>& running_var,
                                  Tensor<T, cpu>& saved_mean, Tensor<T, cpu>& saved_invstd, Tensor<T, cpu>& y) {
    using namespace cpu_detail;
    const Shape& s = x.shape();
    parallel_for(s.c, s.n * s.plane(), [&](index_t c) {
        const T mean = running_mean.data()[c];
        const T invstd = T(1) / std::sqrt(running_var.data()[c] + eps);
        saved_mean.data()[c] = mean;
        saved_invstd.data()[c] = invstd;
        batch_norm_apply(x, y, c, mean, invstd * weight.data()[c], bias.data()[c]);
    });
}

/// Adds the weight and bias gradients into dweight and dbias and writes dx. With
/// batch_statistics (the forward ran in training mode) the mean and variance depend on x and
/// dx carries their terms; otherwise they were constants and dx = dy * weight * invstd.
template <class T>
void batch_norm_backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& dy, const Tensor<T, cpu>& weight,
                         const Tensor<T, cpu>& saved_mean, const Tensor<T, cpu>& saved_invstd, bool batch_statistics,
                         Tensor<T, cpu>& dx, Tensor<T, cpu>& dweight, Tensor<T, cpu>& dbias) {
    const Shape& s = x.shape();
    const index_t plane = s.plane();
    const index_t count = s.n * plane;
    cpu_detail::parallel_for(s.c, 2 * count, [&](index_t c) {
        const double mean = saved_mean.data()[c];
        const double invstd = saved_invstd.data()[c];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (index_t n = 0; n < s.n; ++n) {
            const T* in = x.data() + (n * s.c + c) * plane;
            const T* grad_out = dy.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) {
                sum_dy += grad_out[i];
                sum_dy_xhat += grad_out[i] * (in[i] - mean);
            }
        }
        sum_dy_xhat *= invstd;
        dweight.data()[c] += static_cast<T>(sum_dy_xhat);
        dbias.data()[c] += static_cast<T>(sum_dy);

        const double gain = weight.data()[c] * invstd;
        // dx = gain * (dy - mean(dy) - xhat * mean(dy * xhat)) in training; gain * dy otherwise.
        const double mean_dy = batch_statistics ? sum_dy / static_cast<double>(count) : 0.0;
        const double mean_dy_xhat = batch_statistics ? sum_dy_xhat / static_cast<double>(count) : 0.0;
        // As dx = a * dy + b * (x - mean) + shift, with b and shift zero outside training.
        const T a = static_cast<T>(gain);
        const T b = static_cast<T>(-gain * mean_dy_xhat * invstd);
        const T shift = static_cast<T>(-gain * mean_dy);
        const T mean_t = static_cast<T>(mean);
        for (index_t n = 0; n < s.n; ++n) {
            const T* in = x.data() + (n * s.c + c) * plane;
            const T* grad_out = dy.data() + (n * s.c + c) * plane;
            T* grad_in = dx.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) grad_in[i] = a * grad_out[i] + b * (in[i] - mean_t) + shift;
        }
    });
}

/// Training mode with the statistics of a batch split over several processes (synchronised
/// BatchNorm): `all_reduce(std::span<double>)` sums its values over the processes in place. The
/// mean and the variance are those of the union of every process's x, in the same two passes as
/// batch_norm_forward_training (the sums, then the squares about the global mean), so each
/// process normalises as one process would normalise the whole batch. Returns this process's
/// share of the values (its count over the total), which the backward needs.
template <class T, class AllReduce>
double batch_norm_forward_training_synchronised(const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                                                const Tensor<T, cpu>& bias, T momentum, T eps,
                                                Tensor<T, cpu>& running_mean, Tensor<T, cpu>& running_var,
                                                Tensor<T, cpu>& batches_tracked, Tensor<T, cpu>& saved_mean,
                                                Tensor<T, cpu>& saved_invstd, Tensor<T, cpu>& y, AllReduce&& all_reduce) {
    using namespace cpu_detail;
    const Shape& s = x.shape();
    const index_t local_count = s.n * s.plane();
    // [sum of channel 0 .. C-1, value count], then [sum of squares about the mean of each channel].
    std::vector<double> sums(static_cast<std::size_t>(s.c) + 1, 0.0);
    parallel_for(s.c, local_count, [&](index_t c) {
        double sum = 0.0;
        for_each_plane_of_channel(x.data(), s, c, [&](const T* v) {
            for (index_t i = 0; i < s.plane(); ++i) sum += v[i];
        });
        sums[static_cast<std::size_t>(c)] = sum;
    });
    sums.back() = static_cast<double>(local_count);
    all_reduce(std::span<double>(sums));
    const double count = sums.back();
    std::vector<double> squares(static_cast<std::size_t>(s.c), 0.0);
    parallel_for(s.c, local_count, [&](index_t c) {
        const double mean = sums[static_cast<std::size_t>(c)] / count;
        double total = 0.0;
        for_each_plane_of_channel(x.data(), s, c, [&](const T* v) {
            for (index_t i = 0; i < s.plane(); ++i) total += (v[i] - mean) * (v[i] - mean);
        });
        squares[static_cast<std::size_t>(c)] = total;
    });
    all_reduce(std::span<double>(squares));
    parallel_for(s.c, local_count, [&](index_t c) {
        const double mean = sums[static_cast<std::size_t>(c)] / count;
        const double total = squares[static_cast<std::size_t>(c)];
        const T invstd = static_cast<T>(1.0 / std::sqrt(total / count + static_cast<double>(eps)));
        saved_mean.data()[c] = static_cast<T>(mean);
        saved_invstd.data()[c] = invstd;
        const T unbiased = static_cast<T>(total / (count - 1.0));
        running_mean.data()[c] = (T(1) - momentum) * running_mean.data()[c] + momentum * static_cast<T>(mean);
        running_var.data()[c] = (T(1) - momentum) * running_var.data()[c] + momentum * unbiased;
        batch_norm_apply(x, y, c, static_cast<T>(mean), invstd * weight.data()[c], bias.data()[c]);
    });
    batches_tracked.data()[0] += T(1);
    return static_cast<double>(local_count) / count;
}

/// The backward of batch_norm_forward_training_synchronised. Each process's dy is the gradient
/// of its own mean loss, and the processes' parameter gradients are later averaged weighted by
/// their shares (distributed::GradientAverager), so the loss of the whole batch has gradient
/// share * dy here: the mean terms of dx are summed over the processes in that weighting, and dx
/// is returned divided by `share` again, in the units of this process's own loss. dweight and
/// dbias get this process's own sums, as in batch_norm_backward.
template <class T, class AllReduce>
void batch_norm_backward_synchronised(const Tensor<T, cpu>& x, const Tensor<T, cpu>& dy, const Tensor<T, cpu>& weight,
                                      const Tensor<T, cpu>& saved_mean, const Tensor<T, cpu>& saved_invstd, double share,
                                      Tensor<T, cpu>& dx, Tensor<T, cpu>& dweight, Tensor<T, cpu>& dbias,
                                      AllReduce&& all_reduce) {
    const Shape& s = x.shape();
    const index_t plane = s.plane();
    const index_t local_count = s.n * plane;
    // [share * sum of dy, share * sum of dy * xhat] per channel, then summed over the processes.
    std::vector<double> sums(2 * static_cast<std::size_t>(s.c), 0.0);
    cpu_detail::parallel_for(s.c, local_count, [&](index_t c) {
        const double mean = saved_mean.data()[c];
        const double invstd = saved_invstd.data()[c];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (index_t n = 0; n < s.n; ++n) {
            const T* in = x.data() + (n * s.c + c) * plane;
            const T* grad_out = dy.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) {
                sum_dy += grad_out[i];
                sum_dy_xhat += grad_out[i] * (in[i] - mean);
            }
        }
        sum_dy_xhat *= invstd;
        dweight.data()[c] += static_cast<T>(sum_dy_xhat);
        dbias.data()[c] += static_cast<T>(sum_dy);
        sums[2 * static_cast<std::size_t>(c)] = share * sum_dy;
        sums[2 * static_cast<std::size_t>(c) + 1] = share * sum_dy_xhat;
    });
    all_reduce(std::span<double>(sums));
    // The whole batch holds local_count / share values per channel.
    const double count = static_cast<double>(local_count) / share;
    cpu_detail::parallel_for(s.c, local_count, [&](index_t c) {
        const double mean = saved_mean.data()[c];
        const double invstd = saved_invstd.data()[c];
        const double gain = weight.data()[c] * invstd;
        const double mean_dy = sums[2 * static_cast<std::size_t>(c)] / count / share;
        const double mean_dy_xhat = sums[2 * static_cast<std::size_t>(c) + 1] / count / share;
        const T a = static_cast<T>(gain);
        const T b = static_cast<T>(-gain * mean_dy_xhat * invstd);
        const T shift = static_cast<T>(-gain * mean_dy);
        const T mean_t = static_cast<T>(mean);
        for (index_t n = 0; n < s.n; ++n) {
            const T* in = x.data() + (n * s.c + c) * plane;
            const T* grad_out = dy.data() + (n * s.c + c) * plane;
            T* grad_in = dx.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) grad_in[i] = a * grad_out[i] + b * (in[i] - mean_t) + shift;
        }
    });
}

}  // namespace chroma::kernels
