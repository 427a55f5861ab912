#pragma once
// Batch normalisation on the CPU, as torch.nn.BatchNorm2d: each channel is normalised over its
// N x H x W values. Channels run in parallel; one channel's sums stay in one thread and are
// accumulated in double, so results do not depend on the thread count.
#include <cmath>
#include <span>
#include <utility>
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

template <class T>
double channel_sum(const Tensor<T, cpu>& x, index_t c) {
    double sum = 0.0;
    for_each_plane_of_channel(x.data(), x.shape(), c, [&](const T* v) {
        for (index_t i = 0; i < x.shape().plane(); ++i) sum += v[i];
    });
    return sum;
}

/// The sum of squares about `mean` (a second pass avoids the cancellation of E[x^2] - E[x]^2).
template <class T>
double channel_squares(const Tensor<T, cpu>& x, index_t c, double mean) {
    double squares = 0.0;
    for_each_plane_of_channel(x.data(), x.shape(), c, [&](const T* v) {
        for (index_t i = 0; i < x.shape().plane(); ++i) squares += (v[i] - mean) * (v[i] - mean);
    });
    return squares;
}

/// What training mode does with channel c's batch statistics (its mean, and the sum of squares
/// about it over `count` values): saves them for backward, moves the running statistics (the
/// variance towards the unbiased one) and normalises.
template <class T>
void normalise_with_batch_statistics(const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight, const Tensor<T, cpu>& bias,
                                     T momentum, T eps, Tensor<T, cpu>& running_mean, Tensor<T, cpu>& running_var,
                                     Tensor<T, cpu>& saved_mean, Tensor<T, cpu>& saved_invstd, Tensor<T, cpu>& y,
                                     index_t c, double mean, double squares, double count) {
    const T invstd = static_cast<T>(1.0 / std::sqrt(squares / count + static_cast<double>(eps)));
    saved_mean.data()[c] = static_cast<T>(mean);
    saved_invstd.data()[c] = invstd;
    const T unbiased = static_cast<T>(squares / (count - 1.0));
    running_mean.data()[c] = (T(1) - momentum) * running_mean.data()[c] + momentum * static_cast<T>(mean);
    running_var.data()[c] = (T(1) - momentum) * running_var.data()[c] + momentum * unbiased;
    batch_norm_apply(x, y, c, static_cast<T>(mean), invstd * weight.data()[c], bias.data()[c]);
}

/// Channel c's sums of dy and of dy * xhat, which are also the bias and weight gradients.
template <class T>
std::pair<double, double> gradient_sums(const Tensor<T, cpu>& x, const Tensor<T, cpu>& dy, index_t c, double mean,
                                        double invstd) {
    const Shape& s = x.shape();
    const index_t plane = s.plane();
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (index_t n = 0; n < s.n; ++n) {
        const T* in = x.data() + (n * s.c + c) * plane;
        const T* grad_out = dy.data() + (n * s.c + c) * plane;
        for (index_t i = 0; i < plane; ++i) {
            sum_dy += grad_out[i];
            sum_dy_xhat += grad_out[i] * (in[i] - mean);
        }
    }
    return {sum_dy, sum_dy_xhat * invstd};
}

/// dx = gain * (dy - mean_dy - xhat * mean_dy_xhat) over channel c, with gain = weight * invstd
/// (the means zero when the statistics were constants), computed as a * dy + b * (x - mean) + shift.
template <class T>
void input_gradient(const Tensor<T, cpu>& x, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx, index_t c, double mean,
                    double invstd, double gain, double mean_dy, double mean_dy_xhat) {
    const Shape& s = x.shape();
    const index_t plane = s.plane();
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
    const double count = static_cast<double>(x.shape().n * x.shape().plane());
    parallel_for(x.shape().c, x.shape().n * x.shape().plane(), [&](index_t c) {
        const double mean = channel_sum(x, c) / count;
        normalise_with_batch_statistics(x, weight, bias, momentum, eps, running_mean, running_var, saved_mean,
                                        saved_invstd, y, c, mean, channel_squares(x, c, mean), count);
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
    using namespace cpu_detail;
    const index_t count = x.shape().n * x.shape().plane();
    parallel_for(x.shape().c, 2 * count, [&](index_t c) {
        const double mean = saved_mean.data()[c];
        const double invstd = saved_invstd.data()[c];
        const auto [sum_dy, sum_dy_xhat] = gradient_sums(x, dy, c, mean, invstd);
        dweight.data()[c] += static_cast<T>(sum_dy_xhat);
        dbias.data()[c] += static_cast<T>(sum_dy);
        const double n = static_cast<double>(count);
        input_gradient(x, dy, dx, c, mean, invstd, weight.data()[c] * invstd, batch_statistics ? sum_dy / n : 0.0,
                       batch_statistics ? sum_dy_xhat / n : 0.0);
    });
}

/// Training mode with the statistics of a batch split over several processes (synchronised
/// BatchNorm): `all_reduce(std::span<double>)` sums its values over the processes in place. The
/// mean and the variance are those of the union of every process's x, in the same two passes as
/// batch_norm_forward_training (the sums, then the squares about the global mean), so each
/// process normalises as one process would normalise the whole batch. `exchange` is the buffer
/// the sums travel in, kept by the caller so that a steady state allocates nothing. Returns this
/// process's share of the values (its count over the total), which the backward needs.
template <class T, class AllReduce>
double batch_norm_forward_training_synchronised(const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                                                const Tensor<T, cpu>& bias, T momentum, T eps,
                                                Tensor<T, cpu>& running_mean, Tensor<T, cpu>& running_var,
                                                Tensor<T, cpu>& batches_tracked, Tensor<T, cpu>& saved_mean,
                                                Tensor<T, cpu>& saved_invstd, Tensor<T, cpu>& y,
                                                std::vector<double>& exchange, AllReduce&& all_reduce) {
    using namespace cpu_detail;
    const Shape& s = x.shape();
    const auto channels = static_cast<std::size_t>(s.c);
    const index_t local_count = s.n * s.plane();
    // [sum of each channel, value count], then [sum of squares about each channel's global mean].
    exchange.resize(2 * channels + 1);
    const std::span<double> sums(exchange.data(), channels + 1), squares(exchange.data() + channels + 1, channels);
    parallel_for(s.c, local_count, [&](index_t c) { sums[static_cast<std::size_t>(c)] = channel_sum(x, c); });
    sums[channels] = static_cast<double>(local_count);
    all_reduce(sums);
    const double count = sums[channels];
    parallel_for(s.c, local_count, [&](index_t c) {
        squares[static_cast<std::size_t>(c)] = channel_squares(x, c, sums[static_cast<std::size_t>(c)] / count);
    });
    all_reduce(squares);
    parallel_for(s.c, local_count, [&](index_t c) {
        normalise_with_batch_statistics(x, weight, bias, momentum, eps, running_mean, running_var, saved_mean,
                                        saved_invstd, y, c, sums[static_cast<std::size_t>(c)] / count,
                                        squares[static_cast<std::size_t>(c)], count);
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
                                      std::vector<double>& exchange, AllReduce&& all_reduce) {
    using namespace cpu_detail;
    const index_t local_count = x.shape().n * x.shape().plane();
    // [share * sum of dy, share * sum of dy * xhat] per channel, then summed over the processes.
    exchange.resize(2 * static_cast<std::size_t>(x.shape().c));
    parallel_for(x.shape().c, local_count, [&](index_t c) {
        const auto [sum_dy, sum_dy_xhat] = gradient_sums(x, dy, c, saved_mean.data()[c], saved_invstd.data()[c]);
        dweight.data()[c] += static_cast<T>(sum_dy_xhat);
        dbias.data()[c] += static_cast<T>(sum_dy);
        exchange[2 * static_cast<std::size_t>(c)] = share * sum_dy;
        exchange[2 * static_cast<std::size_t>(c) + 1] = share * sum_dy_xhat;
    });
    all_reduce(std::span<double>(exchange));
    // The whole batch holds local_count / share values per channel; the means, in this process's units.
    const double count = static_cast<double>(local_count) / share;
    parallel_for(x.shape().c, local_count, [&](index_t c) {
        const double invstd = saved_invstd.data()[c];
        input_gradient(x, dy, dx, c, saved_mean.data()[c], invstd, weight.data()[c] * invstd,
                       exchange[2 * static_cast<std::size_t>(c)] / count / share,
                       exchange[2 * static_cast<std::size_t>(c) + 1] / count / share);
    });
}

}  // namespace chroma::kernels
