#pragma once
// A small RGB canvas for the pictures Chroma writes (loss curves, sample grids, prior maps):
// rectangles, lines, text and pasted images. Coordinates outside the canvas are clipped.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../data/image.hpp"
#include "font5x7.hpp"

namespace chroma::draw {

struct Color {
    std::uint8_t r = 0, g = 0, b = 0;
};

inline constexpr Color white{255, 255, 255}, black{0, 0, 0}, light_gray{225, 225, 225}, dark_gray{90, 90, 90};
/// Distinguishable line colours, in order of use.
inline constexpr Color palette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                    {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

class Canvas {
public:
    Canvas(int width, int height, Color background = white) {
        image_.width = width;
        image_.height = height;
        image_.channels = 3;
        image_.pixels.resize(static_cast<std::size_t>(width) * height * 3);
        fill_rect(0, 0, width, height, background);
    }

    int width() const { return image_.width; }
    int height() const { return image_.height; }
    const Image& image() const { return image_; }

    void set(int x, int y, Color c) {
        if (x < 0 || y < 0 || x >= image_.width || y >= image_.height) return;
        std::uint8_t* p = &image_.pixels[(static_cast<std::size_t>(y) * image_.width + x) * 3];
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
    }
    void fill_rect(int x0, int y0, int w, int h, Color c) {
        for (int y = std::max(0, y0); y < std::min(image_.height, y0 + h); ++y)
            for (int x = std::max(0, x0); x < std::min(image_.width, x0 + w); ++x) set(x, y, c);
    }
    /// A line `thickness` pixels wide (Bresenham, thickened with a square brush).
    void line(int x0, int y0, int x1, int y1, Color c, int thickness = 1) {
        const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
        const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        int error = dx + dy;
        for (int guard = 0; guard < 100000; ++guard) {
            fill_rect(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, c);
            if (x0 == x1 && y0 == y1) break;
            const int e2 = 2 * error;
            if (e2 >= dy) {
                error += dy;
                x0 += sx;
            }
            if (e2 <= dx) {
                error += dx;
                y0 += sy;
            }
        }
    }
    /// Text with its top-left corner at (x, y); `scale` enlarges each font pixel.
    void text(int x, int y, std::string_view s, Color c, int scale = 1) {
        for (const char ch : s) {
            const glyph g = glyph_for(ch);
            for (int row = 0; row < glyph_height; ++row)
                for (int col = 0; col < glyph_width; ++col)
                    if (g[row] & (0x10 >> col)) fill_rect(x + col * scale, y + row * scale, scale, scale, c);
            x += glyph_advance * scale;
        }
    }
    static int text_width(std::string_view s, int scale = 1) {
        return static_cast<int>(s.size()) * glyph_advance * scale;
    }
    /// Copies `picture` (gray, gray+alpha, RGB or RGBA; alpha ignored) with its top-left at (x, y).
    void paste(const Image& picture, int x, int y) {
        for (int py = 0; py < picture.height; ++py)
            for (int px = 0; px < picture.width; ++px) {
                const std::size_t i = (static_cast<std::size_t>(py) * picture.width + px) * picture.channels;
                const std::uint8_t r = picture.pixels[i];
                const bool gray = picture.channels < 3;
                set(x + px, y + py, Color{r, gray ? r : picture.pixels[i + 1], gray ? r : picture.pixels[i + 2]});
            }
    }

private:
    Image image_;
};

}  // namespace chroma::draw
