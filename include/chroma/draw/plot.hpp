#pragma once
// Line plots as pictures (loss curves, metric curves): axes with labelled ticks, a legend, an
// optional logarithmic y axis. Non-finite points are skipped, so a diverging run still plots.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "canvas.hpp"

namespace chroma::draw {

struct Series {
    std::string name;
    std::vector<double> x;  // empty: 0, 1, 2, ...
    std::vector<double> y;
};

struct PlotOptions {
    int width = 800;
    int height = 480;
    std::string title;
    std::string x_label = "epoch";
    bool log_y = false;  // values <= 0 are skipped on a log axis
    std::vector<std::pair<double, std::string>> x_ticks;  // given: these labelled x ticks, not five even ones
};

inline std::string tick_label(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", v);
    return text;
}

inline Image line_plot(const std::vector<Series>& series, const PlotOptions& options = {}) {
    Canvas canvas(options.width, options.height);
    const int left = 72, right = 16, top = options.title.empty() ? 16 : 34, bottom = 40;
    const int plot_w = std::max(10, options.width - left - right), plot_h = std::max(10, options.height - top - bottom);
    const auto x_of = [](const Series& s, std::size_t i) { return s.x.empty() ? static_cast<double>(i) : s.x[i]; };
    const auto usable = [&](double y) { return std::isfinite(y) && (!options.log_y || y > 0); };
    const auto map_y = [&](double y) { return options.log_y ? std::log10(y) : y; };

    double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
    for (const auto& s : series)
        for (std::size_t i = 0; i < s.y.size(); ++i)
            if (usable(s.y[i]) && std::isfinite(x_of(s, i))) {
                x_min = std::min(x_min, x_of(s, i));
                x_max = std::max(x_max, x_of(s, i));
                y_min = std::min(y_min, map_y(s.y[i]));
                y_max = std::max(y_max, map_y(s.y[i]));
            }
    if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;  // nothing to draw yet
    if (x_max == x_min) x_max = x_min + 1;
    if (y_max == y_min) y_min -= 0.5, y_max += 0.5;
    const double pad = 0.05 * (y_max - y_min);
    y_min -= pad;
    y_max += pad;
    const auto px = [&](double x) { return left + static_cast<int>((x - x_min) / (x_max - x_min) * (plot_w - 1)); };
    const auto py = [&](double y) { return top + plot_h - 1 - static_cast<int>((y - y_min) / (y_max - y_min) * (plot_h - 1)); };

    // Grid and tick labels.
    for (int k = 0; k <= 4; ++k) {
        const double y = y_min + (y_max - y_min) * k / 4.0;
        canvas.line(left, py(y), left + plot_w - 1, py(y), light_gray);
        const std::string label = tick_label(options.log_y ? std::pow(10.0, y) : y);
        canvas.text(left - 6 - Canvas::text_width(label), py(y) - 3, label, dark_gray);
        if (!options.x_ticks.empty()) continue;
        const double x = x_min + (x_max - x_min) * k / 4.0;
        canvas.line(px(x), top, px(x), top + plot_h - 1, light_gray);
        const std::string xl = tick_label(x);
        canvas.text(px(x) - Canvas::text_width(xl) / 2, top + plot_h + 6, xl, dark_gray);
    }
    for (const auto& [x, label] : options.x_ticks) {
        if (!(x >= x_min && x <= x_max)) continue;
        canvas.line(px(x), top, px(x), top + plot_h - 1, light_gray);
        canvas.text(px(x) - Canvas::text_width(label) / 2, top + plot_h + 6, label, dark_gray);
    }
    canvas.line(left, top, left, top + plot_h - 1, black);
    canvas.line(left, top + plot_h - 1, left + plot_w - 1, top + plot_h - 1, black);
    canvas.text(left + plot_w / 2 - Canvas::text_width(options.x_label) / 2, top + plot_h + 22, options.x_label, black);
    if (!options.title.empty())
        canvas.text(left + plot_w / 2 - Canvas::text_width(options.title, 2) / 2, 8, options.title, black, 2);
    if (options.log_y) canvas.text(4, top, "LOG", dark_gray);

    // Lines, then the legend on top of them.
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Color c = palette[k % std::size(palette)];
        const Series& s = series[k];
        bool have_previous = false;
        int last_x = 0, last_y = 0;
        for (std::size_t i = 0; i < s.y.size(); ++i) {
            if (!usable(s.y[i])) {
                have_previous = false;
                continue;
            }
            const int x = px(x_of(s, i)), y = py(map_y(s.y[i]));
            if (have_previous)
                canvas.line(last_x, last_y, x, y, c, 2);
            else
                canvas.fill_rect(x - 1, y - 1, 3, 3, c);
            have_previous = true;
            last_x = x;
            last_y = y;
        }
    }
    int legend_y = top + 6;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const int text_w = Canvas::text_width(series[k].name);
        const int x = left + plot_w - text_w - 26;
        canvas.fill_rect(x - 4, legend_y - 3, text_w + 30, 13, white);
        canvas.fill_rect(x, legend_y + 2, 14, 3, palette[k % std::size(palette)]);
        canvas.text(x + 20, legend_y, series[k].name, black);
        legend_y += 14;
    }
    return canvas.image();
}

}  // namespace chroma::draw
