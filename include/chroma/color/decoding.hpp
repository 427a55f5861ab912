#pragma once
// From a distribution over Q ab bins per pixel, [N,Q,H,W], to one ab value per pixel, [N,2,H,W].
//
//   annealed mean (T)  Zhang et al.: the mean of the bin centres under softmax(log(p) / T),
//                      that is p^(1/T) renormalised. T = 1 gives the mean, T -> 0 the mode;
//                      0.38 is the paper's compromise between vivid and spatially consistent.
//   mode               the centre of the most likely bin.
//   top-k mean (k)     seed 003: the probability-weighted mean of the centres of the k most likely
//                      bins, their probabilities renormalised to sum to 1; k = 2 by default.
//
// Any of them may first rebalance the distribution (Decoding::rebalanced(lambda)): each bin's
// probability times its class-rebalancing weight under Zhang et al.'s ImageNet prior, the weights
// their training loss uses (color/prior.hpp; lambda 0.5 there). A classifier trained without
// rebalancing predicts p(colour | photo), which leans to the common, muted colours wherever the
// photo leaves the colour open; dividing by the (mixed) prior removes that lean at decoding
// time, so the amount of colour is chosen after training, on training photos, not fixed by it.
//
// The probabilities need not be normalised (every method renormalises). A value that is zero,
// negative, NaN or infinite counts as probability 0, and a pixel with no positive probability
// decodes to ab = (0, 0), neutral grey. Ties go to the lower bin index.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "../backend/cpu/parallel.hpp"
#include "../core/error.hpp"
#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "ab_bins.hpp"
#include "prior.hpp"

namespace chroma::color {

/// The most bins a top-k mean may average.
inline constexpr int max_top_k = 32;

/// How to decode: build with the named constructors, e.g. Decoding::annealed_mean(0.38).
struct Decoding {
    enum class Method { annealed_mean, mode, top_k_mean };
    Method method = Method::annealed_mean;
    double temperature = 0.38;  // annealed mean only
    int k = 2;                  // top-k mean only
    double rebalance = 1.0;     // lambda of the rebalancing weights applied first; 1: none

    static constexpr Decoding annealed_mean(double temperature = 0.38) {
        return {.method = Method::annealed_mean, .temperature = temperature};
    }
    /// The plain expectation of the bin centres: the annealed mean at T = 1.
    static constexpr Decoding mean() { return annealed_mean(1.0); }
    static constexpr Decoding mode() { return {.method = Method::mode}; }
    static constexpr Decoding top_k_mean(int k = 2) { return {.method = Method::top_k_mean, .k = k}; }
    /// The same decoding of the distribution rebalanced by Zhang's prior at `lambda` (in (0, 1];
    /// smaller is more colour, 1 leaves it as it is).
    constexpr Decoding rebalanced(double lambda) const {
        Decoding d = *this;
        d.rebalance = lambda;
        return d;
    }
    bool rebalancing() const { return rebalance != 1.0; }

    /// "annealed mean (T = 0.38)", "mode", "top-2 mean", "annealed mean (T = 0.38) of the
    /// distribution rebalanced at lambda 0.5".
    std::string describe() const {
        const auto text = [](double value) {
            std::string t = std::to_string(value);
            t.erase(t.find_last_not_of('0') + 1);
            if (t.back() == '.') t.pop_back();
            return t;
        };
        std::string how;
        switch (method) {
            case Method::mode:
                how = "mode";
                break;
            case Method::top_k_mean:
                how = "top-" + std::to_string(k) + " mean";
                break;
            default:
                how = "annealed mean (T = " + text(temperature) + ")";
        }
        if (rebalancing()) how += " of the distribution rebalanced at lambda " + text(rebalance);
        return how;
    }
};

namespace detail {
template <class T>
CHROMA_HOST_DEVICE bool positive_probability(T p) {
    return p > T(0) && std::isfinite(p);
}
}  // namespace detail

/// Annealed mean of one pixel: p[q * stride] is bin q's probability, centres as AbBins::interleaved.
template <class T>
CHROMA_HOST_DEVICE void annealed_mean_pixel(const T* p, index_t stride, index_t bins, const float* centres,
                                            T inverse_temperature, T& a, T& b) {
    T largest = T(0);
    for (index_t q = 0; q < bins; ++q)
        if (detail::positive_probability(p[q * stride]) && p[q * stride] > largest) largest = p[q * stride];
    a = b = T(0);
    if (largest == T(0)) return;
    // softmax(log(p) / T) computed as (p / max p)^(1/T): every weight in (0, 1], the largest 1,
    // so nothing overflows and bins of probability 0 get weight 0 without taking log(0).
    T sum = T(0), sum_a = T(0), sum_b = T(0);
    for (index_t q = 0; q < bins; ++q) {
        const T v = p[q * stride];
        if (!detail::positive_probability(v)) continue;
        const T w = std::exp(std::log(v / largest) * inverse_temperature);
        sum += w;
        sum_a += w * static_cast<T>(centres[2 * q]);
        sum_b += w * static_cast<T>(centres[2 * q + 1]);
    }
    a = sum_a / sum;
    b = sum_b / sum;
}

/// Top-k mean of one pixel (k <= max_top_k); k = 1 is the mode.
template <class T>
CHROMA_HOST_DEVICE void top_k_mean_pixel(const T* p, index_t stride, index_t bins, const float* centres, int k, T& a,
                                         T& b) {
    T top_p[max_top_k];
    index_t top_q[max_top_k];
    int found = 0;
    for (index_t q = 0; q < bins; ++q) {
        const T v = p[q * stride];
        if (!detail::positive_probability(v)) continue;
        // Insert in descending order; an equal value stays behind the lower index already there.
        int at = found < k ? found : k;
        while (at > 0 && v > top_p[at - 1]) {
            if (at < k) {
                top_p[at] = top_p[at - 1];
                top_q[at] = top_q[at - 1];
            }
            --at;
        }
        if (at < k) {
            top_p[at] = v;
            top_q[at] = q;
            if (found < k) ++found;
        }
    }
    T sum = T(0), sum_a = T(0), sum_b = T(0);
    for (int i = 0; i < found; ++i) {
        sum += top_p[i];
        sum_a += top_p[i] * static_cast<T>(centres[2 * top_q[i]]);
        sum_b += top_p[i] * static_cast<T>(centres[2 * top_q[i] + 1]);
    }
    a = found > 0 ? sum_a / sum : T(0);
    b = found > 0 ? sum_b / sum : T(0);
}

}  // namespace chroma::color

namespace chroma::kernels {

template <class T>
void decode_ab(const Tensor<T, cpu>& probabilities, const float* centres, const color::Decoding& how,
               Tensor<T, cpu>& ab) {
    const Shape s = probabilities.shape();
    const index_t plane = s.plane(), bins = s.c;
    const T inverse_temperature = static_cast<T>(1.0 / how.temperature);
    const int k = how.method == color::Decoding::Method::mode ? 1 : how.k;
    cpu_detail::parallel_for(s.n * s.h, s.w * bins * 4, [&](index_t row) {
        const index_t n = row / s.h, start = (row % s.h) * s.w;
        const T* p = probabilities.data() + n * bins * plane + start;
        T* a = ab.data() + n * 2 * plane + start;
        for (index_t i = 0; i < s.w; ++i) {
            if (how.method == color::Decoding::Method::annealed_mean)
                color::annealed_mean_pixel(p + i, plane, bins, centres, inverse_temperature, a[i], a[plane + i]);
            else
                color::top_k_mean_pixel(p + i, plane, bins, centres, k, a[i], a[plane + i]);
        }
    });
}

}  // namespace chroma::kernels

namespace chroma::color {

/// Decodes probabilities [N,Q,H,W] over `bins` into ab [N,2,H,W] (resized).
template <class T, Backend B>
void decode(const Tensor<T, B>& probabilities, const AbBins& bins, const Decoding& how, Tensor<T, B>& ab) {
    const Shape s = probabilities.shape();
    if (s.c != bins.size())
        throw shape_error("decode expects one channel per bin (" + std::to_string(bins.size()) + "), got " + s.str());
    if (how.method == Decoding::Method::annealed_mean && !(how.temperature > 0.0 && std::isfinite(how.temperature)))
        throw usage_error("an annealed mean needs a positive, finite temperature, got " +
                          std::to_string(how.temperature) + " (use Decoding::mode() for the limit T -> 0)");
    if (how.method == Decoding::Method::top_k_mean && !(how.k >= 1 && how.k <= max_top_k && how.k <= bins.size()))
        throw usage_error("a top-k mean needs k between 1 and " +
                          std::to_string(std::min<index_t>(max_top_k, bins.size())) + ", got " + std::to_string(how.k));
    ab.resize(Shape{.n = s.n, .c = 2, .h = s.h, .w = s.w});
    if (!how.rebalancing()) {
        kernels::decode_ab(probabilities, bins.interleaved(), how, ab);
        return;
    }
    if (!(how.rebalance > 0.0 && how.rebalance <= 1.0))
        throw usage_error("rebalancing at decoding needs lambda in (0, 1], got " + std::to_string(how.rebalance));
    if (s.c != zhang_bin_count)
        throw usage_error("rebalancing at decoding uses Zhang's prior over his " + std::to_string(zhang_bin_count) +
                          " bins; these probabilities have " + std::to_string(s.c));
    if constexpr (!B::host_accessible) {
        throw usage_error("rebalancing at decoding runs on the CPU backend");
    } else {
        const std::vector<double> weights = rebalancing_weights(zhang_prior_vector(), how.rebalance);
        Tensor<T, B> weighted(s);
        for (index_t n = 0; n < s.n; ++n)
            for (index_t q = 0; q < s.c; ++q) {
                const T w = static_cast<T>(weights[static_cast<std::size_t>(q)]);
                const T* from = probabilities.data() + (n * s.c + q) * s.plane();
                T* to = weighted.data() + (n * s.c + q) * s.plane();
                for (index_t i = 0; i < s.plane(); ++i) to[i] = from[i] * w;
            }
        kernels::decode_ab(weighted, bins.interleaved(), how, ab);
    }
}

template <class T, Backend B>
Tensor<T, B> decode(const Tensor<T, B>& probabilities, const AbBins& bins, const Decoding& how = Decoding{}) {
    Tensor<T, B> ab;
    decode(probabilities, bins, how, ab);
    return ab;
}

}  // namespace chroma::color
