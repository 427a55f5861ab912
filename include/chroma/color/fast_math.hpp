#pragma once
// Single-precision cube root and powers for the colour conversions, written with arithmetic and
// bit operations only. Calls into the maths library stop compilers from vectorising a pixel loop;
// these do not, which makes float sRGB <-> CIELAB several times faster. Against the standard
// library (tests/color/test_colorspace.cpp): cube root and 2^y within 5e-7 relative, log2 within
// 2e-6 absolute, and the powers of the sRGB curve within 3e-6 relative, a few float roundings of
// their argument. Double precision, and CUDA device code, keep the standard functions.
//
// Every input gives a defined result without undefined behaviour (the pixel loops evaluate both
// sides of a branch); only the documented domain gives a meaningful one.
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../core/host_device.hpp"

namespace chroma::color::fast {

/// condition ? a : b, computed with bit masks. Both values are always computed, so the compiler
/// cannot move either into a branch; a branch around floating-point arithmetic (which may trap,
/// as far as the compiler knows) is what stops it vectorising a pixel loop.
template <class T>
CHROMA_HOST_DEVICE T select(bool condition, T a, T b) {
#if defined(__CUDA_ARCH__)
    return condition ? a : b;
#else
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const Bits mask = Bits(0) - static_cast<Bits>(condition);
    return std::bit_cast<T>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask));
#endif
}

/// Cube root of a positive, normal float.
CHROMA_HOST_DEVICE inline float cbrt_positive(float x) {
#if defined(__CUDA_ARCH__)
    return ::cbrtf(x);
#else
    // Dividing the exponent bits by 3 gives a first guess within a few percent; two Halley steps
    // (cubic convergence) take it to full precision.
    const std::int32_t bits = std::bit_cast<std::int32_t>(x);
    float y = std::bit_cast<float>(bits / 3 + 709958130);  // (127 - 127/3 - 0.0331) * 2^23
    for (int i = 0; i < 2; ++i) {
        const float y3 = y * y * y;
        y *= (y3 + 2.0f * x) / (2.0f * y3 + x);
    }
    return y;
#endif
}

/// log2 of a positive, normal float.
CHROMA_HOST_DEVICE inline float log2_positive(float x) {
#if defined(__CUDA_ARCH__)
    return ::log2f(x);
#else
    // x = 2^e m with m in [sqrt(1/2), sqrt(2)), where the series below converges fast: subtracting
    // the bits of sqrt(1/2) leaves e in the exponent field. Branch-free, in unsigned arithmetic so
    // that other inputs wrap harmlessly.
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t offset = bits - 0x3f3504f3u;
    const float exponent = static_cast<float>(std::bit_cast<std::int32_t>(offset) >> 23);
    const float m = std::bit_cast<float>(bits - (offset & 0xff800000u));
    // ln(m) = 2 atanh(t) with t = (m - 1) / (m + 1), |t| < 0.172: five terms leave under 1e-9.
    const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    const float ln_m = 2.0f * t * (1.0f + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7 + t2 * (1.0f / 9)))));
    return exponent + ln_m * 1.44269504f;
#endif
}

/// 2^y for y in [-126, 126]. Outside it the result is meaningless but never undefined behaviour:
/// the exponent bits are assembled in wrapping unsigned arithmetic. (It is not clamped: a clamp
/// is a branch to a constant, and arithmetic after one stops vectorisation; see lab_kernels.hpp.)
CHROMA_HOST_DEVICE inline float exp2_in_range(float y) {
#if defined(__CUDA_ARCH__)
    return ::exp2f(y);
#else
    // y = n + f with n the nearest integer and |f| <= 1/2, then 2^f = e^(f ln 2) by its series to
    // the 7th power (relative error 5e-9).
#if defined(__FAST_MATH__)
    const float bounded = y > -126.0f ? (y < 126.0f ? y : 126.0f) : -126.0f;
    const std::int32_t n = static_cast<std::int32_t>(bounded + 126.5f) - 126;  // positive: truncation rounds down
    const float whole = static_cast<float>(n);
#else
    // Adding 1.5 * 2^23 rounds y to an integer held in the low bits of the sum. Unlike a float to
    // int conversion this keeps the loop vectorisable; -ffast-math would fold it away, hence the above.
    const float shifted = y + 12582912.0f;
    const std::uint32_t n = std::bit_cast<std::uint32_t>(shifted) - 0x4b400000u;
    const float whole = shifted - 12582912.0f;
#endif
    const float g = (y - whole) * 0.693147181f;
    const float tail = 1.0f / 24 + g * (1.0f / 120 + g * (1.0f / 720 + g * (1.0f / 5040)));
    const float p = 1.0f + g * (1.0f + g * (1.0f / 2 + g * (1.0f / 6 + g * tail)));
    return p * std::bit_cast<float>((static_cast<std::uint32_t>(n) + 127u) << 23);
#endif
}

/// x^p for positive, normal x and a result within float's normal range.
CHROMA_HOST_DEVICE inline float pow_positive(float x, float p) { return exp2_in_range(p * log2_positive(x)); }

}  // namespace chroma::color::fast
