#pragma once
// Peak signal-to-noise ratio, per image: 10 log10(peak^2 / MSE), with the MSE over the image's
// channels and pixels. Over a batch, the mean of the per-image values, not the PSNR of the
// pooled MSE. Identical images give +infinity,
// as scikit-image's peak_signal_noise_ratio does, and so does any mean that includes one.
//
// Peaks: 255 for 8-bit RGB (values in [0, 255], not necessarily integers). For ab channels Chroma
// uses 220, the width of the range [-110, 110] by which Zhang et al.'s networks scale ab (their
// outputs are normalised by 110); pass another peak to compare with other conventions.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"
#include "metric_support.hpp"

namespace chroma::kernels {

/// The sum of (a - b)^2 over each image of the batch.
template <class T>
std::vector<double> squared_error_per_image(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b) {
    const index_t per_image = a.shape().per_sample();
    std::vector<double> sums(static_cast<std::size_t>(a.shape().n));
    for (index_t n = 0; n < a.shape().n; ++n) {
        const T* x = a.data() + n * per_image;
        const T* y = b.data() + n * per_image;
        sums[static_cast<std::size_t>(n)] = cpu_detail::ordered_sum(per_image, 3, [&](index_t i) {
            const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
            return d * d;
        });
    }
    return sums;
}

}  // namespace chroma::kernels

namespace chroma::metrics {

/// The peak of 8-bit RGB values.
inline constexpr double rgb8_peak = 255.0;
/// The peak (range width) used for ab channels: ab in [-110, 110].
inline constexpr double ab_peak = 220.0;

/// PSNR of each image of the batch, in dB.
template <class T, Backend B>
std::vector<double> psnr_per_image(const Tensor<T, B>& prediction, const Tensor<T, B>& target, double peak) {
    detail::require_same_shape("PSNR", "prediction", prediction.shape(), "target", target.shape());
    detail::require_image("PSNR", "prediction", prediction.shape());
    if (!(peak > 0.0)) throw usage_error("PSNR needs a positive peak value, got " + std::to_string(peak));
    std::vector<double> psnr = kernels::squared_error_per_image(prediction, target);
    const double per_image = static_cast<double>(prediction.shape().per_sample());
    for (double& value : psnr) {
        const double mse = value / per_image;
        value = mse > 0.0 ? 10.0 * std::log10(peak * peak / mse) : std::numeric_limits<double>::infinity();
    }
    return psnr;
}

/// The mean over the batch of the per-image PSNR, in dB.
template <class T, Backend B>
double psnr(const Tensor<T, B>& prediction, const Tensor<T, B>& target, double peak) {
    return detail::mean_of(psnr_per_image(prediction, target, peak));
}

/// PSNR of 8-bit RGB images [N, 3, H, W] with values in [0, 255] (peak 255), averaged over images.
template <class T, Backend B>
double psnr_rgb(const Tensor<T, B>& prediction, const Tensor<T, B>& target) {
    detail::require_image("PSNR on RGB", "prediction", prediction.shape(), 3);
    return psnr(prediction, target, rgb8_peak);
}

/// PSNR of ab channels [N, 2, H, W] (peak 220 unless given), averaged over images.
template <class T, Backend B>
double psnr_ab(const Tensor<T, B>& prediction, const Tensor<T, B>& target, double peak = ab_peak) {
    detail::require_image("PSNR on ab", "prediction", prediction.shape(), 2);
    return psnr(prediction, target, peak);
}

}  // namespace chroma::metrics
