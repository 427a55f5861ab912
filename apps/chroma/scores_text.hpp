#pragma once
// What the evaluate commands print and score with: an RGB copy of any photo, printf-style text
// for std::cout, and one row of the scores table.
#include <cstdio>
#include <string>

#include <chroma/data/image.hpp>
#include <chroma/metrics/colorization_report.hpp>

namespace chroma::cli {

namespace detail {

/// RGB copy of an 8-bit photo of 1 to 4 channels (grey repeated, alpha dropped).
inline Image rgb_only(const Image& image) {
    if (image.channels == 3) return image;
    Image rgb{.width = image.width, .height = image.height, .channels = 3, .pixels = {}};
    rgb.pixels.resize(image.pixel_count() * 3);
    for (std::size_t i = 0; i < image.pixel_count(); ++i)
        for (int c = 0; c < 3; ++c)
            rgb.pixels[i * 3 + static_cast<std::size_t>(c)] =
                image.pixels[i * static_cast<std::size_t>(image.channels) + (image.channels >= 3 ? static_cast<std::size_t>(c) : 0)];
    return rgb;
}

/// printf-style text, so that everything goes through std::cout in order.
template <class... Values>
std::string format(const char* pattern, Values... values) {
    char text[512];
    std::snprintf(text, sizeof text, pattern, values...);
    return text;
}

inline std::string scores_row(const char* name, const metrics::ColorizationScores& s) {
    return format("%-14s %9.2f %7.4f %7.4f %14.2f %10.2f\n", name, s.psnr_rgb.value_or(0), s.ssim_rgb.value_or(0), s.auc,
                  s.colourfulness.value_or(0), s.delta_e2000);
}

}  // namespace detail

}  // namespace chroma::cli
