#pragma once
// Colourfulness of Hasler and Suesstrunk ("Measuring colourfulness in natural images", 2003) on
// 8-bit RGB images [N, 3, H, W] with values in [0, 255]. Per image, with rg = R - G and
// yb = (R + G) / 2 - B over its pixels,
//     M = sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)
// using population standard deviations (numpy's default). A gray image scores 0. Over a batch,
// the mean of the per-image values.
#include <cmath>
#include <vector>

#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"
#include "metric_support.hpp"

namespace chroma::metrics {

/// The opponent components of one RGB pixel.
struct Opponent {
    double rg, yb;
};
CHROMA_HOST_DEVICE inline Opponent opponent(double r, double g, double b) { return {r - g, 0.5 * (r + g) - b}; }

}  // namespace chroma::metrics

namespace chroma::kernels {

/// The colourfulness of each image; two passes (means, then squared deviations) for accuracy.
template <class T>
std::vector<double> colourfulness_per_image(const Tensor<T, cpu>& rgb) {
    const Shape s = rgb.shape();
    const index_t plane = s.plane();
    std::vector<double> result(static_cast<std::size_t>(s.n));
    for (index_t n = 0; n < s.n; ++n) {
        const T* r = rgb.data() + n * 3 * plane;
        const T* g = r + plane;
        const T* b = g + plane;
        auto at = [&](index_t i) {
            return metrics::opponent(static_cast<double>(r[i]), static_cast<double>(g[i]), static_cast<double>(b[i]));
        };
        const std::vector<double> sums = cpu_detail::ordered_sums(plane, 2, 4, [&](index_t i, double* acc) {
            const metrics::Opponent o = at(i);
            acc[0] += o.rg;
            acc[1] += o.yb;
        });
        const double mean_rg = sums[0] / static_cast<double>(plane), mean_yb = sums[1] / static_cast<double>(plane);
        const std::vector<double> squares = cpu_detail::ordered_sums(plane, 2, 6, [&](index_t i, double* acc) {
            const metrics::Opponent o = at(i);
            acc[0] += (o.rg - mean_rg) * (o.rg - mean_rg);
            acc[1] += (o.yb - mean_yb) * (o.yb - mean_yb);
        });
        const double variance = (squares[0] + squares[1]) / static_cast<double>(plane);
        result[static_cast<std::size_t>(n)] =
            std::sqrt(variance) + 0.3 * std::sqrt(mean_rg * mean_rg + mean_yb * mean_yb);
    }
    return result;
}

}  // namespace chroma::kernels

namespace chroma::metrics {

/// Colourfulness of each RGB image of the batch.
template <class T, Backend B>
std::vector<double> colourfulness_per_image(const Tensor<T, B>& rgb) {
    detail::require_image("Colourfulness", "RGB image", rgb.shape(), 3);
    return kernels::colourfulness_per_image(rgb);
}

/// The mean colourfulness over the batch.
template <class T, Backend B>
double colourfulness(const Tensor<T, B>& rgb) {
    return detail::mean_of(colourfulness_per_image(rgb));
}

}  // namespace chroma::metrics
