#pragma once
// Every colorization metric for one batch, and the same for the gray baseline (predicting
// ab = 0 everywhere), so that each report can show what "no colour at all" scores.
//
// Inputs are the true lightness L [N, 1, H, W] and the predicted and true ab [N, 2, H, W], in
// CIELAB units. Lab-space metrics (PSNR on ab, AuC, the rebalanced AuC when pixel weights are
// given, mean CIEDE2000) need nothing else. The RGB metrics (PSNR, SSIM, colourfulness) need a
// Lab -> RGB conversion, which this header leaves to the caller so that it does not depend on a
// colour-space implementation: pass any callable `lab_to_rgb(const Tensor& lab, Tensor& rgb)`
// that writes an [N, 3, H, W] image with 8-bit values in [0, 255] (e.g. one from chroma/color/).
// Without it the RGB fields stay empty.
#include <concepts>
#include <optional>

#include "../backend/cpu/elementwise.hpp"
#include "../core/tensor.hpp"
#include "auc.hpp"
#include "ciede2000.hpp"
#include "colourfulness.hpp"
#include "metric_support.hpp"
#include "psnr.hpp"
#include "ssim.hpp"

namespace chroma::metrics {

struct ColorizationScores {
    double psnr_ab = 0.0;                        // dB, peak ab_peak (220)
    double auc = 0.0;                            // Zhang's AuC over 0..150, in [0, 1]
    std::optional<double> auc_rebalanced;        // with the pixel weights, when given
    double delta_e2000 = 0.0;                    // mean CIEDE2000 over every pixel
    std::optional<double> psnr_rgb;              // dB, peak 255
    std::optional<double> ssim_rgb;              // scikit-image's Gaussian SSIM on RGB
    std::optional<double> colourfulness;         // of the predicted RGB images
    std::optional<double> true_colourfulness;    // of the true RGB images, for comparison
};

/// A callable converting a Lab batch [N, 3, H, W] into an 8-bit-range RGB batch.
template <class F, class T, class B>
concept LabToRgbConversion = std::invocable<F&, const Tensor<T, B>&, Tensor<T, B>&>;

namespace detail {

template <class T, Backend B>
Tensor<T, B> join_lab(const Tensor<T, B>& lightness, const Tensor<T, B>& ab) {
    Tensor<T, B> lab(Shape{.n = ab.shape().n, .c = 3, .h = ab.shape().h, .w = ab.shape().w});
    kernels::concat_channels(lightness, ab, lab);
    return lab;
}

template <class T, Backend B>
void check_colorization_inputs(const Tensor<T, B>& lightness, const Tensor<T, B>& predicted_ab,
                               const Tensor<T, B>& true_ab) {
    const std::string metric = "score_colorization";
    require_image(metric, "predicted ab", predicted_ab.shape(), 2);
    require_same_shape(metric, "predicted ab", predicted_ab.shape(), "true ab", true_ab.shape());
    const Shape& s = true_ab.shape();
    require_same_shape(metric, "lightness", lightness.shape(), "one L per ab pixel",
                       Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w});
}

}  // namespace detail

/// The Lab-space metrics of a predicted against the true colouring.
template <class T, Backend B>
ColorizationScores score_colorization(const Tensor<T, B>& lightness, const Tensor<T, B>& predicted_ab,
                                      const Tensor<T, B>& true_ab, const Tensor<T, B>* pixel_weights = nullptr) {
    detail::check_colorization_inputs(lightness, predicted_ab, true_ab);
    ColorizationScores scores;
    scores.psnr_ab = psnr_ab(predicted_ab, true_ab);
    scores.auc = ab_auc(predicted_ab, true_ab);
    if (pixel_weights) scores.auc_rebalanced = ab_auc_rebalanced(predicted_ab, true_ab, *pixel_weights);
    scores.delta_e2000 =
        mean_delta_e2000(detail::join_lab(lightness, predicted_ab), detail::join_lab(lightness, true_ab));
    return scores;
}

/// Every metric, the RGB ones through `lab_to_rgb`.
template <class T, Backend B, class LabToRgb>
    requires LabToRgbConversion<LabToRgb, T, B>
ColorizationScores score_colorization(const Tensor<T, B>& lightness, const Tensor<T, B>& predicted_ab,
                                      const Tensor<T, B>& true_ab, LabToRgb&& lab_to_rgb,
                                      const Tensor<T, B>* pixel_weights = nullptr) {
    ColorizationScores scores = score_colorization(lightness, predicted_ab, true_ab, pixel_weights);
    Tensor<T, B> predicted_rgb, true_rgb;
    lab_to_rgb(detail::join_lab(lightness, predicted_ab), predicted_rgb);
    lab_to_rgb(detail::join_lab(lightness, true_ab), true_rgb);
    scores.psnr_rgb = psnr_rgb(predicted_rgb, true_rgb);
    scores.ssim_rgb = ssim(predicted_rgb, true_rgb);
    scores.colourfulness = colourfulness(predicted_rgb);
    scores.true_colourfulness = colourfulness(true_rgb);
    return scores;
}

/// The Lab-space metrics of the gray baseline: the true L with ab = 0.
template <class T, Backend B>
ColorizationScores gray_baseline(const Tensor<T, B>& lightness, const Tensor<T, B>& true_ab,
                                 const Tensor<T, B>* pixel_weights = nullptr) {
    const Tensor<T, B> gray_ab(true_ab.shape());  // zero-filled
    return score_colorization(lightness, gray_ab, true_ab, pixel_weights);
}

/// Every metric of the gray baseline, the RGB ones through `lab_to_rgb`.
template <class T, Backend B, class LabToRgb>
    requires LabToRgbConversion<LabToRgb, T, B>
ColorizationScores gray_baseline(const Tensor<T, B>& lightness, const Tensor<T, B>& true_ab, LabToRgb&& lab_to_rgb,
                                 const Tensor<T, B>* pixel_weights = nullptr) {
    const Tensor<T, B> gray_ab(true_ab.shape());
    return score_colorization(lightness, gray_ab, true_ab, lab_to_rgb, pixel_weights);
}

}  // namespace chroma::metrics
