#pragma once
// Per-pixel colour conversions: sRGB (with its transfer curve) <-> linear RGB <-> XYZ <-> CIELAB.
// Small functions that the CPU kernels and a CUDA backend both compile; see lab_space.hpp for the
// constants and the reference white.
//
// Defined results for every input, including NaN and infinity:
//  - sRGB in is clamped to [0, 1] and NaN reads as 0 (black);
//  - sRGB out is clipped to [0, 1] per channel (L*a*b* outside the sRGB gamut lands on its
//    surface, as scikit-image's lab2rgb does) and NaN becomes 0.
// In between, the maths follows the CIE definition with the exact constants
// epsilon = (6/29)^3 and kappa = (29/3)^3 (scikit-image rounds them to 0.008856 and 7.787 * 116;
// the results differ by up to 2e-4 in a and b, for the darkest colours only).
#include <cmath>
#include <type_traits>

#include "../core/host_device.hpp"
#include "fast_math.hpp"
#include "lab_space.hpp"

namespace chroma::color {

template <class T>
struct Rgb {
    T r, g, b;
};
template <class T>
struct Xyz {
    T x, y, z;
};
template <class T>
struct Lab {
    T l, a, b;
};

namespace detail {
// Float arithmetic takes the vectorisable versions of fast_math.hpp; double keeps the standard ones.
template <class T>
CHROMA_HOST_DEVICE T cube_root(T x) {
    if constexpr (std::is_same_v<T, float>)
        return fast::cbrt_positive(x);
    else
        return std::cbrt(x);
}
template <class T>
CHROMA_HOST_DEVICE T power(T x, T p) {
    if constexpr (std::is_same_v<T, float>)
        return fast::pow_positive(x, p);
    else
        return std::pow(x, p);
}
}  // namespace detail

/// v clamped to [0, 1]; NaN gives 0.
template <class T>
CHROMA_HOST_DEVICE T clamp_unit(T v) {
    v = fast::select(v > T(0), v, T(0));
    return fast::select(v < T(1), v, T(1));
}

/// The sRGB transfer curve inverted: encoded value in [0, 1] -> linear light.
template <class T>
CHROMA_HOST_DEVICE T srgb_to_linear(T v) {
    // Both pieces are computed and one selected: branch-free code vectorises (see fast::select).
    const T curve = detail::power((v + T(0.055)) / T(1.055), T(2.4)), line = v / T(12.92);
    return fast::select(v > T(0.04045), curve, line);
}

/// The sRGB transfer curve: linear light in [0, 1] -> encoded value.
template <class T>
CHROMA_HOST_DEVICE T linear_to_srgb(T v) {
    const T curve = T(1.055) * detail::power(v, T(1) / T(2.4)) - T(0.055), line = v * T(12.92);
    return fast::select(v > T(0.0031308), curve, line);
}

template <class T>
CHROMA_HOST_DEVICE Xyz<T> linear_rgb_to_xyz(Rgb<T> c, const LabSpace<T>& s) {
    const T* m = s.rgb_to_xyz;
    return {m[0] * c.r + m[1] * c.g + m[2] * c.b, m[3] * c.r + m[4] * c.g + m[5] * c.b,
            m[6] * c.r + m[7] * c.g + m[8] * c.b};
}

template <class T>
CHROMA_HOST_DEVICE Rgb<T> xyz_to_linear_rgb(Xyz<T> c, const LabSpace<T>& s) {
    const T* m = s.xyz_to_rgb;
    return {m[0] * c.x + m[1] * c.y + m[2] * c.z, m[3] * c.x + m[4] * c.y + m[5] * c.z,
            m[6] * c.x + m[7] * c.y + m[8] * c.z};
}

namespace detail {
// CIE's f(t): the cube root, joined near black by a straight line so that its slope stays finite.
template <class T>
CHROMA_HOST_DEVICE T lab_f(T t) {
    constexpr T epsilon = T(216.0 / 24389.0);     // (6/29)^3
    constexpr T slope = T(24389.0 / 27.0 / 116);  // kappa / 116 = (29/6)^2 / 3
    const T root = cube_root(t), line = slope * t + T(16.0 / 116.0);
    return fast::select(t > epsilon, root, line);
}
template <class T>
CHROMA_HOST_DEVICE T lab_f_inverse(T f) {
    constexpr T threshold = T(6.0 / 29.0);
    constexpr T inverse_slope = T(27.0 * 116.0 / 24389.0);
    return fast::select(f > threshold, f * f * f, (f - T(16.0 / 116.0)) * inverse_slope);
}
}  // namespace detail

template <class T>
CHROMA_HOST_DEVICE Lab<T> xyz_to_lab(Xyz<T> c, const LabSpace<T>& s) {
    const T fx = detail::lab_f(c.x * s.inverse_white[0]);
    const T fy = detail::lab_f(c.y * s.inverse_white[1]);
    const T fz = detail::lab_f(c.z * s.inverse_white[2]);
    // L = 116 fy - 16 written as 116 (fy - 16/116): black is exactly 0 whether or not the
    // compiler fuses the multiply and the subtraction (with FMA, 116 fy - 16 leaves -4e-7).
    return {T(116) * (fy - T(16.0 / 116.0)), T(500) * (fx - fy), T(200) * (fy - fz)};
}

/// The inverse of xyz_to_lab. Like scikit-image, a negative f(Z) (far beyond any real colour,
/// b > 200 (L + 16) / 116) is taken as 0.
template <class T>
CHROMA_HOST_DEVICE Xyz<T> lab_to_xyz(Lab<T> c, const LabSpace<T>& s) {
    const T fy = (c.l + T(16)) / T(116);
    const T fx = fy + c.a / T(500);
    const T fz_signed = fy - c.b / T(200), fz = fast::select(fz_signed > T(0), fz_signed, T(0));
    return {detail::lab_f_inverse(fx) * s.white[0], detail::lab_f_inverse(fy) * s.white[1],
            detail::lab_f_inverse(fz) * s.white[2]};
}

/// Encoded sRGB in [0, 1] (clamped; NaN reads as 0) -> L*a*b*.
template <class T>
CHROMA_HOST_DEVICE Lab<T> srgb_to_lab(Rgb<T> c, const LabSpace<T>& s) {
    const Rgb<T> linear{srgb_to_linear(clamp_unit(c.r)), srgb_to_linear(clamp_unit(c.g)),
                        srgb_to_linear(clamp_unit(c.b))};
    return xyz_to_lab(linear_rgb_to_xyz(linear, s), s);
}

/// Linear sRGB (already decoded, e.g. from an 8-bit table) -> L*a*b*; no clamping.
template <class T>
CHROMA_HOST_DEVICE Lab<T> linear_rgb_to_lab(Rgb<T> linear, const LabSpace<T>& s) {
    return xyz_to_lab(linear_rgb_to_xyz(linear, s), s);
}

/// L*a*b* -> encoded sRGB, each channel clipped to [0, 1]; NaN gives 0.
template <class T>
CHROMA_HOST_DEVICE Rgb<T> lab_to_srgb(Lab<T> c, const LabSpace<T>& s) {
    const Rgb<T> linear = xyz_to_linear_rgb(lab_to_xyz(c, s), s);
    // Clipping before the curve gives what clipping after it would: the curve maps [0, 1] onto itself.
    return {linear_to_srgb(clamp_unit(linear.r)), linear_to_srgb(clamp_unit(linear.g)),
            linear_to_srgb(clamp_unit(linear.b))};
}

/// True when the L*a*b* colour lies inside the sRGB gamut, within `tolerance` in linear RGB.
template <class T>
CHROMA_HOST_DEVICE bool in_srgb_gamut(Lab<T> c, const LabSpace<T>& s, T tolerance = T(0)) {
    const Rgb<T> linear = xyz_to_linear_rgb(lab_to_xyz(c, s), s);
    const T low = -tolerance, high = T(1) + tolerance;
    return linear.r >= low && linear.r <= high && linear.g >= low && linear.g <= high && linear.b >= low &&
           linear.b <= high;
}

}  // namespace chroma::color
