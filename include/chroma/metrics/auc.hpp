#pragma once
// Zhang et al.'s raw accuracy (AuC): the share of pixels whose predicted ab lies within a
// Euclidean distance t of the true ab, swept over thresholds t = 0, 1, ..., 150, and the area
// under that curve normalised to [0, 1]. Chroma integrates with the trapezoid rule over [0, 150]
// and divides by 150, so a perfect prediction scores 1.
// Shares pool every pixel of the batch (each pixel counts once; images of one size count alike).
// The class-rebalanced variant weighs each pixel, typically by the inverse prior of its true
// colour's bin; the weights are an input ([N, 1, H, W]) so that this header does not depend on
// the quantisation.
#include <cmath>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"
#include "metric_support.hpp"

namespace chroma::kernels {

/// Weighted counts of pixels by ceil(ab error), for errors up to max_threshold (bins
/// 0..max_threshold), plus the total weight of every pixel in the last slot.
template <class T>
std::vector<double> ab_error_histogram(const Tensor<T, cpu>& prediction, const Tensor<T, cpu>& target,
                                       const Tensor<T, cpu>* pixel_weights, index_t max_threshold) {
    const Shape s = prediction.shape();
    const index_t plane = s.plane();
    const index_t bins = max_threshold + 1;
    return cpu_detail::ordered_sums(s.n * plane, bins + 1, 8, [&](index_t pixel, double* sums) {
        const index_t base = (pixel / plane) * s.c * plane + pixel % plane;
        const double da = static_cast<double>(prediction.data()[base]) - static_cast<double>(target.data()[base]);
        const double db = static_cast<double>(prediction.data()[base + plane]) -
                          static_cast<double>(target.data()[base + plane]);
        const double error = std::sqrt(da * da + db * db);
        const double weight = pixel_weights ? static_cast<double>(pixel_weights->data()[pixel]) : 1.0;
        // error <= t exactly when ceil(error) <= t, for whole thresholds t.
        const double first_threshold = std::ceil(error);
        if (first_threshold <= static_cast<double>(max_threshold))
            sums[static_cast<index_t>(first_threshold)] += weight;
        sums[bins] += weight;
    });
}

}  // namespace chroma::kernels

namespace chroma::metrics {

/// The largest threshold of the sweep, in ab units.
inline constexpr index_t auc_max_threshold = 150;

/// The accuracy curve: entry t is the (weighted) share of pixels with ab error <= t, for
/// t = 0..150. `pixel_weights`, when given, has shape [N, 1, H, W] and non-negative values.
template <class T, Backend B>
std::vector<double> ab_accuracy_curve(const Tensor<T, B>& prediction_ab, const Tensor<T, B>& target_ab,
                                      const Tensor<T, B>* pixel_weights = nullptr) {
    const std::string metric = "AuC";
    detail::require_same_shape(metric, "predicted ab", prediction_ab.shape(), "true ab", target_ab.shape());
    detail::require_image(metric, "predicted ab", prediction_ab.shape(), 2);
    if (pixel_weights) {
        const Shape& p = prediction_ab.shape();
        detail::require_same_shape(metric, "pixel weights", pixel_weights->shape(), "one weight per pixel",
                                   Shape{.n = p.n, .c = 1, .h = p.h, .w = p.w});
    }
    const std::vector<double> counts =
        kernels::ab_error_histogram(prediction_ab, target_ab, pixel_weights, auc_max_threshold);
    const double total = counts.back();
    if (!(total > 0.0)) throw usage_error("AuC needs pixel weights with a positive sum, got " + std::to_string(total));
    std::vector<double> curve(static_cast<std::size_t>(auc_max_threshold + 1));
    double within = 0.0;
    for (std::size_t t = 0; t < curve.size(); ++t) {
        within += counts[t];
        curve[t] = within / total;
    }
    return curve;
}

/// The area under an accuracy curve over [0, 150] by the trapezoid rule, divided by 150.
inline double area_under_curve(const std::vector<double>& curve) {
    if (curve.size() < 2) throw usage_error("area_under_curve needs at least two points");
    double area = 0.0;
    for (std::size_t t = 0; t + 1 < curve.size(); ++t) area += 0.5 * (curve[t] + curve[t + 1]);
    return area / static_cast<double>(curve.size() - 1);
}

/// Zhang's AuC of predicted against true ab ([N, 2, H, W]), in [0, 1].
template <class T, Backend B>
double ab_auc(const Tensor<T, B>& prediction_ab, const Tensor<T, B>& target_ab) {
    return area_under_curve(ab_accuracy_curve(prediction_ab, target_ab));
}

/// The class-rebalanced AuC: each pixel weighs pixel_weights[n, 0, h, w] (e.g. the inverse prior
/// of the bin of its true colour).
template <class T, Backend B>
double ab_auc_rebalanced(const Tensor<T, B>& prediction_ab, const Tensor<T, B>& target_ab,
                         const Tensor<T, B>& pixel_weights) {
    return area_under_curve(ab_accuracy_curve(prediction_ab, target_ab, &pixel_weights));
}

}  // namespace chroma::metrics
