#pragma once
// 8-bit sRGB: the 256 linear values an 8-bit channel decodes to (a table, so decoding an image
// costs no pow per pixel) and the rounding of an encoded value in [0, 1] back to 8 bits.
#include <array>
#include <cmath>
#include <cstdint>

#include "../core/host_device.hpp"
#include "lab.hpp"

namespace chroma::color {

/// linear value of 8-bit code i, computed in double precision once per precision.
template <class T>
const std::array<T, 256>& srgb8_to_linear_table() {
    static const std::array<T, 256> table = [] {
        std::array<T, 256> values{};
        for (int i = 0; i < 256; ++i) values[static_cast<unsigned>(i)] = static_cast<T>(srgb_to_linear(i / 255.0));
        return values;
    }();
    return table;
}

/// An encoded value in [0, 1] to the nearest 8-bit code; clamps first, NaN gives 0.
template <class T>
CHROMA_HOST_DEVICE std::uint8_t to_srgb8(T v) {
    return static_cast<std::uint8_t>(clamp_unit(v) * T(255) + T(0.5));
}

}  // namespace chroma::color
