#pragma once
// The CIEDE2000 colour difference (CIE 142-2001) between Lab colours, as written out in
// G. Sharma, W. Wu and E. N. Dalal, "The CIEDE2000 color-difference formula: implementation notes,
// supplementary test data, and mathematical observations", Color Research and Application 30(1),
// 21-30, 2005, with k_L = k_C = k_H = 1. Lab images are [N, 3, H, W] (L, a, b channels); the
// mean difference averages every pixel of the batch.
#include <cmath>
#include <numbers>
#include <vector>

#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"
#include "metric_support.hpp"

namespace chroma::metrics {

namespace detail {
CHROMA_HOST_DEVICE inline double radians(double angle) { return angle * (std::numbers::pi / 180.0); }
CHROMA_HOST_DEVICE inline double degrees(double angle) { return angle * (180.0 / std::numbers::pi); }
/// Hue angle in [0, 360) degrees; 0 for the achromatic a = b = 0 (Sharma's Eq. 7).
CHROMA_HOST_DEVICE inline double hue_degrees(double b, double a_prime) {
    if (b == 0.0 && a_prime == 0.0) return 0.0;
    const double h = degrees(std::atan2(b, a_prime));
    return h < 0.0 ? h + 360.0 : h;
}
/// 25^7, which the chroma terms compare C^7 with.
inline constexpr double pow25_7 = 6103515625.0;
/// Hue differences within this many degrees of 180 count as exactly 180. Two hues exactly
/// opposite (Sharma's test pairs 10 and 14) come out of atan2 up to ~1e-13 degrees away from
/// 180 on either side, depending on the maths library; exact arithmetic takes the "<= 180"
/// branches, and so does Chroma, on every platform.
inline constexpr double opposite_hue_tolerance = 1e-9;
}  // namespace detail

/// CIEDE2000 Delta E_00 between (L1, a1, b1) and (L2, a2, b2).
CHROMA_HOST_DEVICE inline double ciede2000(double l1, double a1, double b1, double l2, double a2, double b2) {
    using detail::radians;
    // Step 1: a' (G compensates the small chroma of near-neutral colours), C' and h'.
    const double c_mean = 0.5 * (std::sqrt(a1 * a1 + b1 * b1) + std::sqrt(a2 * a2 + b2 * b2));
    const double c_mean7 = std::pow(c_mean, 7.0);
    const double g = 0.5 * (1.0 - std::sqrt(c_mean7 / (c_mean7 + detail::pow25_7)));
    const double a1p = (1.0 + g) * a1, a2p = (1.0 + g) * a2;
    const double c1p = std::sqrt(a1p * a1p + b1 * b1), c2p = std::sqrt(a2p * a2p + b2 * b2);
    const double h1p = detail::hue_degrees(b1, a1p), h2p = detail::hue_degrees(b2, a2p);

    // Step 2: the differences in lightness, chroma and hue.
    const double delta_l = l2 - l1;
    const double delta_c = c2p - c1p;
    const bool achromatic = c1p * c2p == 0.0;
    double delta_h = h2p - h1p;
    if (achromatic) delta_h = 0.0;
    else if (delta_h > 180.0 + detail::opposite_hue_tolerance) delta_h -= 360.0;
    else if (delta_h < -180.0 - detail::opposite_hue_tolerance) delta_h += 360.0;
    const double delta_big_h = 2.0 * std::sqrt(c1p * c2p) * std::sin(radians(0.5 * delta_h));

    // Step 3: the weighting functions at the pair's mean lightness, chroma and hue.
    const double l_mean = 0.5 * (l1 + l2);
    const double cp_mean = 0.5 * (c1p + c2p);
    double h_mean = h1p + h2p;
    if (!achromatic) {
        if (std::abs(h1p - h2p) <= 180.0 + detail::opposite_hue_tolerance) h_mean *= 0.5;
        else if (h_mean < 360.0) h_mean = 0.5 * (h_mean + 360.0);
        else h_mean = 0.5 * (h_mean - 360.0);
    }
    const double t = 1.0 - 0.17 * std::cos(radians(h_mean - 30.0)) + 0.24 * std::cos(radians(2.0 * h_mean)) +
                     0.32 * std::cos(radians(3.0 * h_mean + 6.0)) - 0.20 * std::cos(radians(4.0 * h_mean - 63.0));
    const double delta_theta = 30.0 * std::exp(-((h_mean - 275.0) / 25.0) * ((h_mean - 275.0) / 25.0));
    const double cp_mean7 = std::pow(cp_mean, 7.0);
    const double r_c = 2.0 * std::sqrt(cp_mean7 / (cp_mean7 + detail::pow25_7));
    const double l50 = (l_mean - 50.0) * (l_mean - 50.0);
    const double s_l = 1.0 + 0.015 * l50 / std::sqrt(20.0 + l50);
    const double s_c = 1.0 + 0.045 * cp_mean;
    const double s_h = 1.0 + 0.015 * cp_mean * t;
    const double r_t = -std::sin(radians(2.0 * delta_theta)) * r_c;

    const double dl = delta_l / s_l, dc = delta_c / s_c, dh = delta_big_h / s_h;
    return std::sqrt(dl * dl + dc * dc + dh * dh + r_t * dc * dh);
}

}  // namespace chroma::metrics

namespace chroma::kernels {

/// The sum of Delta E_00 over the pixels of each image.
template <class T>
std::vector<double> ciede2000_sum_per_image(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b) {
    const index_t plane = a.shape().plane();
    std::vector<double> sums(static_cast<std::size_t>(a.shape().n));
    for (index_t n = 0; n < a.shape().n; ++n) {
        const T* x = a.data() + n * 3 * plane;
        const T* y = b.data() + n * 3 * plane;
        sums[static_cast<std::size_t>(n)] = cpu_detail::ordered_sum(plane, 60, [&](index_t i) {
            return metrics::ciede2000(static_cast<double>(x[i]), static_cast<double>(x[i + plane]),
                                      static_cast<double>(x[i + 2 * plane]), static_cast<double>(y[i]),
                                      static_cast<double>(y[i + plane]), static_cast<double>(y[i + 2 * plane]));
        });
    }
    return sums;
}

}  // namespace chroma::kernels

namespace chroma::metrics {

/// The mean Delta E_00 over the pixels of each image.
template <class T, Backend B>
std::vector<double> delta_e2000_per_image(const Tensor<T, B>& lab, const Tensor<T, B>& reference_lab) {
    detail::require_same_shape("CIEDE2000", "Lab image", lab.shape(), "reference Lab image", reference_lab.shape());
    detail::require_image("CIEDE2000", "Lab image", lab.shape(), 3);
    std::vector<double> means = kernels::ciede2000_sum_per_image(lab, reference_lab);
    for (double& m : means) m /= static_cast<double>(lab.shape().plane());
    return means;
}

/// The mean Delta E_00 over every pixel of the batch.
template <class T, Backend B>
double mean_delta_e2000(const Tensor<T, B>& lab, const Tensor<T, B>& reference_lab) {
    return detail::mean_of(delta_e2000_per_image(lab, reference_lab));
}

}  // namespace chroma::metrics
