#pragma once
// Picture grids: rows of images under column titles (gray input | prediction | ground truth),
// the way people compare colourisations at a glance.
#include <algorithm>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace chroma::draw {

inline Image picture_grid(const std::vector<std::vector<Image>>& rows, const std::vector<std::string>& titles = {},
                          int gap = 4) {
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
