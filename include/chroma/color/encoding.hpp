#pragma once
// Targets for colour classification: ab [N,2,H,W] encoded over Q bins.
//
//   hard_encode_indices  the nearest bin of each pixel (N*H*W indices, NHW order)
//   hard_encode          the same as a one-hot [N,Q,H,W]
//   soft_encode          Zhang et al.'s soft encoding [N,Q,H,W]: the k nearest bins (the lookup's
//                        neighbours, 5 in the paper) weighted by a Gaussian of the distance,
//                        exp(-d^2 / (2 sigma^2)) with sigma = 5, normalised to sum to 1
//
// Every pixel's weights sum to 1, whatever its ab: NaN or infinity reads as 0 (neutral grey).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../backend/cpu/parallel.hpp"
#include "../core/error.hpp"
#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "bin_lookup.hpp"

namespace chroma::color {

/// Writes the soft encoding of one ab value into the `view.neighbours` channels of its nearest
/// bins, `channel` pointing at channel 0 of the pixel and `stride` apart; other channels are left
/// as they are (zero). `inverse_two_sigma2` is 1 / (2 sigma^2).
template <class T>
CHROMA_HOST_DEVICE void soft_encode_pixel(const BinLookupView& view, float a, float b, T inverse_two_sigma2, T* channel,
                                          index_t stride) {
    std::int32_t index[max_neighbours];
    float distance2[max_neighbours];
    const int found = nearest_bins(view, a, b, index, distance2);
    // Distances are taken relative to the nearest bin, so far-away values never underflow to 0 / 0.
    T weight[max_neighbours];
    T sum = T(0);
    for (int i = 0; i < found; ++i) {
        weight[i] = std::exp(-static_cast<T>(distance2[i] - distance2[0]) * inverse_two_sigma2);
        sum += weight[i];
    }
    for (int i = 0; i < found; ++i) channel[index[i] * stride] = weight[i] / sum;
}

}  // namespace chroma::color

namespace chroma::kernels {

namespace color_detail {
template <class T, class F>
void for_each_ab_pixel(const Tensor<T, cpu>& ab, F&& body) {
    const Shape s = ab.shape();
    const index_t plane = s.plane();
    cpu_detail::parallel_for(s.n * s.h, s.w * 32, [&](index_t row) {
        const index_t n = row / s.h, start = (row % s.h) * s.w;
        const T* a = ab.data() + n * 2 * plane + start;
        for (index_t i = 0; i < s.w; ++i)
            body(n, start + i, static_cast<float>(a[i]), static_cast<float>(a[plane + i]));
    });
}
template <class T>
void zero(Tensor<T, cpu>& t) {
    const index_t plane = t.shape().plane();
    cpu_detail::parallel_for(t.shape().n * t.shape().c, plane,
                             [&](index_t p) { std::fill_n(t.data() + p * plane, plane, T(0)); });
}
}  // namespace color_detail

template <class T>
void nearest_bin_indices(const Tensor<T, cpu>& ab, const color::BinLookupView& view, std::int32_t* out) {
    const index_t plane = ab.shape().plane();
    color_detail::for_each_ab_pixel(ab, [&](index_t n, index_t pixel, float a, float b) {
        std::int32_t index[color::max_neighbours];
        float distance2[color::max_neighbours];
        color::nearest_bins(view, a, b, index, distance2);
        out[n * plane + pixel] = index[0];
    });
}

template <class T>
void one_hot_encode(const Tensor<T, cpu>& ab, const color::BinLookupView& view, Tensor<T, cpu>& out) {
    color_detail::zero(out);
    const index_t plane = ab.shape().plane(), bins = view.bins;
    color_detail::for_each_ab_pixel(ab, [&](index_t n, index_t pixel, float a, float b) {
        std::int32_t index[color::max_neighbours];
        float distance2[color::max_neighbours];
        color::nearest_bins(view, a, b, index, distance2);
        out.data()[(n * bins + index[0]) * plane + pixel] = T(1);
    });
}

template <class T>
void soft_encode(const Tensor<T, cpu>& ab, const color::BinLookupView& view, T sigma, Tensor<T, cpu>& out) {
    color_detail::zero(out);
    const index_t plane = ab.shape().plane(), bins = view.bins;
    const T inverse_two_sigma2 = T(1) / (T(2) * sigma * sigma);
    color_detail::for_each_ab_pixel(ab, [&](index_t n, index_t pixel, float a, float b) {
        color::soft_encode_pixel(view, a, b, inverse_two_sigma2, out.data() + n * bins * plane + pixel, plane);
    });
}

}  // namespace chroma::kernels

namespace chroma::color {

namespace detail {
inline void require_ab(const char* what, const Shape& ab) {
    if (ab.c != 2) throw shape_error(std::string(what) + " expects ab with 2 channels, got " + ab.str());
}
}  // namespace detail

/// The nearest bin of every pixel of ab [N,2,H,W], in NHW order.
template <class T>
std::vector<std::int32_t> hard_encode_indices(const Tensor<T, cpu>& ab, const BinLookup& lookup) {
    detail::require_ab("hard_encode_indices", ab.shape());
    std::vector<std::int32_t> indices(static_cast<std::size_t>(ab.shape().n * ab.shape().plane()));
    kernels::nearest_bin_indices(ab, lookup.view(), indices.data());
    return indices;
}

/// One-hot targets [N,Q,H,W] (resized): 1 in the channel of each pixel's nearest bin.
template <class T, Backend B>
void hard_encode(const Tensor<T, B>& ab, const BinLookup& lookup, Tensor<T, B>& targets) {
    detail::require_ab("hard_encode", ab.shape());
    const Shape s = ab.shape();
    targets.resize(Shape{.n = s.n, .c = lookup.bins().size(), .h = s.h, .w = s.w});
    kernels::one_hot_encode(ab, lookup.view(), targets);
}

template <class T, Backend B>
Tensor<T, B> hard_encode(const Tensor<T, B>& ab, const BinLookup& lookup) {
    Tensor<T, B> targets;
    hard_encode(ab, lookup, targets);
    return targets;
}

/// Soft targets [N,Q,H,W] (resized) over the lookup's neighbours() nearest bins, Gaussian weights
/// of width `sigma` (ab units), each pixel summing to 1.
template <class T, Backend B>
void soft_encode(const Tensor<T, B>& ab, const BinLookup& lookup, Tensor<T, B>& targets, double sigma = 5.0) {
    detail::require_ab("soft_encode", ab.shape());
    if (!(sigma >= 1e-3) || !std::isfinite(sigma))
        throw usage_error("soft_encode needs a finite sigma of at least 0.001 ab units, got " + std::to_string(sigma));
    const Shape s = ab.shape();
    targets.resize(Shape{.n = s.n, .c = lookup.bins().size(), .h = s.h, .w = s.w});
    kernels::soft_encode(ab, lookup.view(), static_cast<T>(sigma), targets);
}

template <class T, Backend B>
Tensor<T, B> soft_encode(const Tensor<T, B>& ab, const BinLookup& lookup, double sigma = 5.0) {
    Tensor<T, B> targets;
    soft_encode(ab, lookup, targets, sigma);
    return targets;
}

}  // namespace chroma::color
