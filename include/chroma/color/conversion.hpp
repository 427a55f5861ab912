#pragma once
// Whole-image conversions between sRGB and CIELAB tensors, the form networks consume:
// lightness [N,1,H,W] (L in [0, 100]) and ab [N,2,H,W] (a then b, about [-110, 110] for sRGB).
//
//   rgb_to_lab / lab_to_rgb       planar float sRGB in [0, 1], [N,3,H,W]
//   rgb8_to_lab / lab_to_rgb8     interleaved 8-bit sRGB, H x W x 3 (one image) or
//   rgb8_batch_to_lab             N x H x W x 3 (a batch of equally sized images)
//
// The reference white is a parameter (lab_space.hpp): D65 by default, D50 by Bradford adaptation.
// Out-of-gamut L*a*b* is clipped to [0, 1] per sRGB channel on the way back; NaN and infinity
// never cause undefined behaviour (see lab.hpp).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "lab_kernels.hpp"
#include "lab_space.hpp"

namespace chroma::color {

/// The L and ab planes of a batch.
template <class T, Backend B = cpu>
struct LabPlanes {
    Tensor<T, B> lightness;  // [N,1,H,W]
    Tensor<T, B> ab;         // [N,2,H,W]
};

namespace detail {
inline void require_channels(const char* what, const char* tensor, const Shape& shape, index_t channels) {
    if (shape.c != channels)
        throw shape_error(std::string(what) + " expects " + tensor + " with " + std::to_string(channels) + " channel" +
                          (channels == 1 ? "" : "s") + ", got " + shape.str());
}
inline void require_lab_pair(const char* what, const Shape& lightness, const Shape& ab) {
    require_channels(what, "lightness", lightness, 1);
    require_channels(what, "ab", ab, 2);
    if (lightness.n != ab.n || lightness.h != ab.h || lightness.w != ab.w)
        throw shape_error(std::string(what) + " expects lightness and ab of the same batch and size, got " +
                          lightness.str() + " and " + ab.str());
}
inline void require_image_bytes(const char* what, std::size_t bytes, index_t count, index_t height, index_t width) {
    if (count < 0 || height < 0 || width < 0)
        throw usage_error(std::string(what) + ": negative image size " + std::to_string(count) + " x " +
                          std::to_string(height) + " x " + std::to_string(width));
    const index_t expected = count * height * width * 3;
    if (static_cast<index_t>(bytes) != expected)
        throw usage_error(std::string(what) + ": " + std::to_string(count) + " RGB image(s) of " +
                          std::to_string(height) + " x " + std::to_string(width) + " need " + std::to_string(expected) +
                          " bytes, got " + std::to_string(bytes));
}
}  // namespace detail

/// sRGB [N,3,H,W] with values in [0, 1] -> lightness [N,1,H,W] and ab [N,2,H,W] (resized).
/// Values outside [0, 1] are clamped; NaN reads as 0.
template <class T, Backend B>
void rgb_to_lab(const Tensor<T, B>& rgb, Tensor<T, B>& lightness, Tensor<T, B>& ab,
                WhitePoint white = WhitePoint::d65) {
    const Shape s = rgb.shape();
    detail::require_channels("rgb_to_lab", "sRGB", s, 3);
    lightness.resize(Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w});
    ab.resize(Shape{.n = s.n, .c = 2, .h = s.h, .w = s.w});
    kernels::srgb_to_lab(rgb, lightness, ab, lab_space<T>(white));
}

template <class T, Backend B>
LabPlanes<T, B> rgb_to_lab(const Tensor<T, B>& rgb, WhitePoint white = WhitePoint::d65) {
    LabPlanes<T, B> lab;
    rgb_to_lab(rgb, lab.lightness, lab.ab, white);
    return lab;
}

/// lightness [N,1,H,W] and ab [N,2,H,W] -> sRGB [N,3,H,W] (resized), each channel clipped to [0, 1].
template <class T, Backend B>
void lab_to_rgb(const Tensor<T, B>& lightness, const Tensor<T, B>& ab, Tensor<T, B>& rgb,
                WhitePoint white = WhitePoint::d65) {
    detail::require_lab_pair("lab_to_rgb", lightness.shape(), ab.shape());
    const Shape s = lightness.shape();
    rgb.resize(Shape{.n = s.n, .c = 3, .h = s.h, .w = s.w});
    kernels::lab_to_srgb(lightness, ab, rgb, lab_space<T>(white));
}

template <class T, Backend B>
Tensor<T, B> lab_to_rgb(const Tensor<T, B>& lightness, const Tensor<T, B>& ab, WhitePoint white = WhitePoint::d65) {
    Tensor<T, B> rgb;
    lab_to_rgb(lightness, ab, rgb, white);
    return rgb;
}

/// `count` interleaved 8-bit sRGB images of height x width, one after another in `pixels`
/// (count x height x width x 3 bytes) -> lightness [count,1,H,W] and ab [count,2,H,W] (resized).
template <class T>
void rgb8_batch_to_lab(std::span<const std::uint8_t> pixels, index_t count, index_t height, index_t width,
                       Tensor<T, cpu>& lightness, Tensor<T, cpu>& ab, WhitePoint white = WhitePoint::d65) {
    detail::require_image_bytes("rgb8_batch_to_lab", pixels.size(), count, height, width);
    lightness.resize(Shape{.n = count, .c = 1, .h = height, .w = width});
    ab.resize(Shape{.n = count, .c = 2, .h = height, .w = width});
    kernels::rgb8_to_lab(pixels.data(), lightness, ab, lab_space<T>(white));
}

/// One interleaved 8-bit sRGB image (height x width x 3 bytes) -> lightness [1,1,H,W], ab [1,2,H,W].
template <class T>
void rgb8_to_lab(std::span<const std::uint8_t> pixels, index_t height, index_t width, Tensor<T, cpu>& lightness,
                 Tensor<T, cpu>& ab, WhitePoint white = WhitePoint::d65) {
    detail::require_image_bytes("rgb8_to_lab", pixels.size(), 1, height, width);
    rgb8_batch_to_lab(pixels, 1, height, width, lightness, ab, white);
}

template <class T = float>
LabPlanes<T> rgb8_to_lab(std::span<const std::uint8_t> pixels, index_t height, index_t width,
                         WhitePoint white = WhitePoint::d65) {
    LabPlanes<T> lab;
    rgb8_to_lab(pixels, height, width, lab.lightness, lab.ab, white);
    return lab;
}

/// lightness [N,1,H,W] and ab [N,2,H,W] -> N interleaved 8-bit sRGB images in `pixels`
/// (N x H x W x 3 bytes), clipped to the gamut and rounded to the nearest code.
template <class T>
void lab_to_rgb8(const Tensor<T, cpu>& lightness, const Tensor<T, cpu>& ab, std::span<std::uint8_t> pixels,
                 WhitePoint white = WhitePoint::d65) {
    detail::require_lab_pair("lab_to_rgb8", lightness.shape(), ab.shape());
    const Shape s = lightness.shape();
    detail::require_image_bytes("lab_to_rgb8", pixels.size(), s.n, s.h, s.w);
    kernels::lab_to_rgb8(lightness, ab, pixels.data(), lab_space<T>(white));
}

template <class T>
std::vector<std::uint8_t> lab_to_rgb8(const Tensor<T, cpu>& lightness, const Tensor<T, cpu>& ab,
                                      WhitePoint white = WhitePoint::d65) {
    detail::require_lab_pair("lab_to_rgb8", lightness.shape(), ab.shape());
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(lightness.shape().count() * 3));
    lab_to_rgb8(lightness, ab, std::span<std::uint8_t>(pixels), white);
    return pixels;
}

}  // namespace chroma::color
