#pragma once
// Picture grids: rows of images under column titles (gray input | prediction | ground truth),
// the way people compare colourisations at a glance.
#include <algorithm>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace chroma::draw {

/// An image enlarged `factor` times by repeating pixels (small training crops stay visible).
inline Image enlarge(const Image& image, int factor) {
    if (factor <= 1) return image;
    Image out{.width = image.width * factor, .height = image.height * factor, .channels = image.channels, .pixels = {}};
    out.pixels.resize(static_cast<std::size_t>(out.width) * out.height * out.channels);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < image.channels; ++c)
                out.pixels[(static_cast<std::size_t>(y) * out.width + x) * out.channels + c] =
                    image.pixels[(static_cast<std::size_t>(y / factor) * image.width + x / factor) * image.channels + c];
    return out;
}

/// Images shorter than `min_height` are enlarged by a whole factor to reach it.
inline Image picture_grid(const std::vector<std::vector<Image>>& source_rows, const std::vector<std::string>& titles = {},
                          int gap = 4, int min_height = 0) {
    std::vector<std::vector<Image>> rows = source_rows;
    for (auto& row : rows)
        for (auto& image : row)
            if (image.height > 0 && image.height < min_height) image = enlarge(image, (min_height + image.height - 1) / image.height);
    std::size_t columns = titles.size();
    for (const auto& row : rows) columns = std::max(columns, row.size());
    std::vector<int> widths(columns, 0), heights(rows.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            widths[c] = std::max(widths[c], rows[r][c].width);
            heights[r] = std::max(heights[r], rows[r][c].height);
        }
    for (std::size_t c = 0; c < titles.size(); ++c) widths[c] = std::max(widths[c], Canvas::text_width(titles[c]));
    const int title_h = titles.empty() ? 0 : 14;
    int total_w = gap, total_h = gap + title_h;
    for (int w : widths) total_w += w + gap;
    for (int h : heights) total_h += h + gap;
    Canvas canvas(std::max(1, total_w), std::max(1, total_h));
    int x = gap;
    for (std::size_t c = 0; c < columns; ++c) {
        if (c < titles.size()) canvas.text(x + (widths[c] - Canvas::text_width(titles[c])) / 2, gap + 2, titles[c], black);
        int y = gap + title_h;
        for (std::size_t r = 0; r < rows.size(); ++r) {
            if (c < rows[r].size()) canvas.paste(rows[r][c], x + (widths[c] - rows[r][c].width) / 2, y);
            y += heights[r] + gap;
        }
        x += widths[c] + gap;
    }
    return canvas.image();
}

}  // namespace chroma::draw
