#pragma once
// Structural similarity (Wang, Bovik, Sheikh and Simoncelli 2004) as scikit-image computes it with
// structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
// data_range=255, channel_axis=-1):
//   * local means, variances and covariance from a separable Gaussian window of sigma 1.5
//     truncated at 3.5 sigma (radius 5, an 11 x 11 window), weights normalised to sum 1;
//   * population (not sample) covariances; C1 = (K1 L)^2, C2 = (K2 L)^2 with K1 = 0.01,
//     K2 = 0.03 and L the data range;
//   * the SSIM map is averaged over the pixels at least `radius` from every border; scikit-image
//     filters the whole image with reflected borders and then crops that margin, so the averaged
//     pixels never see the border handling, and Chroma computes only those pixels ("valid"
//     filtering), which gives the same numbers;
//   * each channel separately, the image's SSIM being the mean over channels.
// Over a batch, the mean of the per-image values. Images must be at least 11 x 11.
#include <cmath>
#include <string>
#include <vector>

#include "../backend/cpu/parallel.hpp"
#include "../core/tensor.hpp"
#include "metric_support.hpp"

namespace chroma::metrics {

struct SsimOptions {
    double data_range = 255.0;  // L: the span of the values (255 for 8-bit images)
    double sigma = 1.5;         // of the Gaussian window
    double truncate = 3.5;      // window radius in sigmas, as scipy.ndimage rounds it
    double k1 = 0.01;
    double k2 = 0.03;

    /// The window radius: int(truncate * sigma + 0.5), 5 for the defaults.
    index_t radius() const { return static_cast<index_t>(truncate * sigma + 0.5); }
};

/// The normalised 1-D Gaussian weights of the window, 2 * radius + 1 of them.
inline std::vector<double> gaussian_window(const SsimOptions& options) {
    const index_t radius = options.radius();
    std::vector<double> weights(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0.0;
    for (index_t k = -radius; k <= radius; ++k) {
        const double w = std::exp(-0.5 * static_cast<double>(k * k) / (options.sigma * options.sigma));
        weights[static_cast<std::size_t>(k + radius)] = w;
        sum += w;
    }
    for (double& w : weights) w /= sum;
    return weights;
}

}  // namespace chroma::metrics

namespace chroma::kernels {

/// The mean SSIM of every (image, channel) plane, in NC order, over the valid pixels.
template <class T>
std::vector<double> ssim_per_plane(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b,
                                   const metrics::SsimOptions& options) {
    const Shape s = a.shape();
    const std::vector<double> window = metrics::gaussian_window(options);
    const index_t taps = static_cast<index_t>(window.size());
    const index_t out_h = s.h - taps + 1, out_w = s.w - taps + 1;
    const double c1 = (options.k1 * options.data_range) * (options.k1 * options.data_range);
    const double c2 = (options.k2 * options.data_range) * (options.k2 * options.data_range);
    std::vector<double> result(static_cast<std::size_t>(s.n * s.c));
    cpu_detail::parallel_for(s.n * s.c, s.plane() * taps * 10, [&](index_t p) {
        const T* x = a.data() + p * s.plane();
        const T* y = b.data() + p * s.plane();
        // Horizontal pass: the five windowed moments x, y, xx, yy, xy for every row, valid columns.
        std::vector<double> rows(static_cast<std::size_t>(5 * s.h * out_w));
        double* mx = rows.data();
        double* my = mx + s.h * out_w;
        double* mxx = my + s.h * out_w;
        double* myy = mxx + s.h * out_w;
        double* mxy = myy + s.h * out_w;
        for (index_t h = 0; h < s.h; ++h)
            for (index_t j = 0; j < out_w; ++j) {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (index_t k = 0; k < taps; ++k) {
                    const double w = window[static_cast<std::size_t>(k)];
                    const double u = static_cast<double>(x[h * s.w + j + k]);
                    const double v = static_cast<double>(y[h * s.w + j + k]);
                    sx += w * u;
                    sy += w * v;
                    sxx += w * u * u;
                    syy += w * v * v;
                    sxy += w * u * v;
                }
                const index_t at = h * out_w + j;
                mx[at] = sx, my[at] = sy, mxx[at] = sxx, myy[at] = syy, mxy[at] = sxy;
            }
        // Vertical pass and the SSIM map, summed in row-major order.
        double total = 0.0;
        for (index_t i = 0; i < out_h; ++i)
            for (index_t j = 0; j < out_w; ++j) {
                double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
                for (index_t k = 0; k < taps; ++k) {
                    const double w = window[static_cast<std::size_t>(k)];
                    const index_t at = (i + k) * out_w + j;
                    ux += w * mx[at];
                    uy += w * my[at];
                    uxx += w * mxx[at];
                    uyy += w * myy[at];
                    uxy += w * mxy[at];
                }
                const double vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
                total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            }
        result[static_cast<std::size_t>(p)] = total / static_cast<double>(out_h * out_w);
    });
    return result;
}

}  // namespace chroma::kernels

namespace chroma::metrics {

/// SSIM of each image of the batch: the mean over its channels.
template <class T, Backend B>
std::vector<double> ssim_per_image(const Tensor<T, B>& prediction, const Tensor<T, B>& target,
                                   const SsimOptions& options = {}) {
    detail::require_same_shape("SSIM", "prediction", prediction.shape(), "target", target.shape());
    detail::require_image("SSIM", "prediction", prediction.shape());
    if (!(options.data_range > 0.0) || !(options.sigma > 0.0) || !(options.truncate >= 0.0) ||
        !(options.k1 >= 0.0) || !(options.k2 >= 0.0))
        throw usage_error("SSIM needs a positive data range and sigma and non-negative truncate, K1 and K2");
    const index_t window = 2 * options.radius() + 1;
    if (prediction.shape().h < window || prediction.shape().w < window)
        throw shape_error("SSIM with a " + std::to_string(window) + " x " + std::to_string(window) +
                          " window needs images at least that large, got shape " + prediction.shape().str());
    const std::vector<double> planes = kernels::ssim_per_plane(prediction, target, options);
    const index_t channels = prediction.shape().c;
    std::vector<double> per_image(static_cast<std::size_t>(prediction.shape().n));
    for (index_t n = 0; n < prediction.shape().n; ++n) {
        double sum = 0.0;
        for (index_t c = 0; c < channels; ++c) sum += planes[static_cast<std::size_t>(n * channels + c)];
        per_image[static_cast<std::size_t>(n)] = sum / static_cast<double>(channels);
    }
    return per_image;
}

/// The mean over the batch of the per-image SSIM.
template <class T, Backend B>
double ssim(const Tensor<T, B>& prediction, const Tensor<T, B>& target, const SsimOptions& options = {}) {
    return detail::mean_of(ssim_per_image(prediction, target, options));
}

}  // namespace chroma::metrics
