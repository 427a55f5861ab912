#pragma once
// `chroma evaluate --hints 0,1,2,5,10,...`: a user-guided model scored as the SIGGRAPH 2017
// paper's Figure 4 scores it. Each photo gets N points of its own true colour (the first N of one
// seeded draw per photo, so a photo's 10 points include its 5), and the model colourises it at
// every N. Prints a row of scores per N, draws PSNR against N (--hints-plot) and a grid of the
// first photos under each N with the points marked.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <chroma/color/conversion.hpp>
#include <chroma/data/image.hpp>
#include <chroma/draw/grid.hpp>
#include <chroma/draw/plot.hpp>
#include <chroma/inference/colorize_image.hpp>
#include <chroma/inference/hint_points.hpp>
#include <chroma/metrics/colorization_report.hpp>
#include <chroma/train/progress.hpp>
#include <chroma/train/trainer.hpp>

#include "arguments.hpp"
#include "scores_text.hpp"

namespace chroma::cli::detail {

/// "0,1,2,5" -> {0, 1, 2, 5}: whole numbers from 0 to 10000, increasing.
inline std::vector<int> hint_counts_from_text(const std::string& text) {
    std::vector<int> counts;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const long n = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || n < 0 || n > 10000 || (!counts.empty() && n <= counts.back()))
            throw usage_failure("--hints takes increasing numbers of points from 0 to 10000, e.g. 0,1,2,5,10; got '" +
                                text + "'");
        counts.push_back(static_cast<int>(n));
    }
    if (counts.empty()) throw usage_failure("--hints needs at least one number of points");
    return counts;
}

struct HintsEvaluation {
    std::vector<int> counts;
    std::string grid_path;  // "none": no grid
    std::size_t grid_rows = 8;
    std::string plot_path;  // empty: no plot
    bool quiet = false;
};

inline int run_hints_evaluation(inference::Colorizer& model, const std::vector<std::filesystem::path>& files,
                                const HintsEvaluation& how) {
    std::vector<train::detail::ScoreMean> scores(how.counts.size());
    train::detail::ScoreMean gray;
    std::vector<std::vector<Image>> grid;
    std::vector<std::string> skipped;
    train::Progress progress("evaluate", static_cast<long long>(files.size()), "images", how.quiet ? nullptr : stderr);
    for (std::size_t f = 0; f < files.size(); ++f) {
        try {
            const Image photo = rgb_only(load_image(files[f]));
            const auto truth = color::rgb8_to_lab<float>(photo.pixels, photo.height, photo.width);
            gray.add(metrics::gray_baseline(truth.lightness, truth.ab, train::detail::lab_to_rgb255), 1);
            const double radius = inference::hint_radius_for(photo.width, photo.height, model.traits().native_size);
            const auto all_points = inference::sample_hint_points(photo, how.counts.back(), radius, 1 + f);
            std::vector<Image> row;
            const Image preview_of_photo = inference::preview(photo, 160);
            const double scale = static_cast<double>(preview_of_photo.height) / photo.height;
            if (grid.size() < how.grid_rows) row.push_back(inference::lightness_picture(preview_of_photo));
            for (std::size_t k = 0; k < how.counts.size(); ++k) {
                const std::vector<inference::HintPoint> points(all_points.begin(), all_points.begin() + how.counts[k]);
                model.set_hints(points, photo.width, photo.height);
                const Tensor<float> ab_small = inference::predict_ab_map(model, photo);
                const Tensor<float> predicted = inference::upsample_ab(ab_small, photo.width, photo.height);
                scores[k].add(metrics::score_colorization(truth.lightness, predicted, truth.ab, train::detail::lab_to_rgb255), 1);
                if (grid.size() < how.grid_rows) {
                    Image picture = inference::preview(inference::join_lightness_and_ab(photo, ab_small), 160);
                    inference::mark_hint_points(picture, points, scale);
                    row.push_back(std::move(picture));
                }
            }
            if (grid.size() < how.grid_rows) {
                row.push_back(preview_of_photo);
                grid.push_back(std::move(row));
            }
        } catch (const std::exception& e) {
            std::string reason = e.what();
            if (reason.find(files[f].string()) == std::string::npos) reason = files[f].string() + ": " + reason;
            skipped.push_back(reason);
        }
        progress.advance(1);
    }
    progress.finish();
    if (gray.weight == 0) throw io::file_error("no photo could be read");

    const auto g = gray.mean();
    std::cout << format("\n%-8s %9s %7s %14s %10s\n", "hints", "PSNR (dB)", "SSIM", "colourfulness", "CIEDE2000");
    draw::Series psnr{.name = model.traits().architecture, .x = {}, .y = {}}, baseline{.name = "gray", .x = {}, .y = {}};
    draw::PlotOptions plot{.title = "PSNR against points of true colour", .x_label = "points per photo"};
    for (std::size_t k = 0; k < how.counts.size(); ++k) {
        const auto m = scores[k].mean();
        std::cout << format("%-8d %9.2f %7.4f %14.2f %10.2f\n", how.counts[k], m.psnr_rgb.value_or(0),
                            m.ssim_rgb.value_or(0), m.colourfulness.value_or(0), m.delta_e2000);
        // The paper's axis: 0, 1, 2, 5, 10 ... evenly apart, as on a log scale with 0 at its start.
        const double x = std::log10(1.0 + how.counts[k]);
        psnr.x.push_back(x);
        psnr.y.push_back(m.psnr_rgb.value_or(0));
        baseline.x.push_back(x);
        baseline.y.push_back(g.psnr_rgb.value_or(0));
        plot.x_ticks.emplace_back(x, std::to_string(how.counts[k]));
    }
    std::cout << format("%-8s %9.2f %7.4f %14.2f %10.2f\n", "gray", g.psnr_rgb.value_or(0), g.ssim_rgb.value_or(0),
                        g.colourfulness.value_or(0), g.delta_e2000)
              << format("%-8s %9s %7s %14.2f %10s\n", "truth", "-", "-", scores[0].mean().true_colourfulness.value_or(0), "-");
    if (!skipped.empty()) {
        std::cout << "skipped " << skipped.size() << " unreadable photo" << (skipped.size() == 1 ? "" : "s") << ":\n";
        for (const auto& s : skipped) std::cout << "  " << s << "\n";
    }
    if (!how.plot_path.empty()) {
        save_png(how.plot_path, draw::line_plot({psnr, baseline}, plot));
        std::cout << "plot: " << how.plot_path << "\n";
    }
    if (how.grid_path != "none" && !grid.empty()) {
        std::vector<std::string> titles{"gray"};
        for (const int n : how.counts) titles.push_back(std::to_string(n) + (n == 1 ? " point" : " points"));
        titles.push_back("truth");
        save_image(how.grid_path, draw::picture_grid(grid, titles));
        std::cout << "grid: " << how.grid_path << "\n";
    }
    return 0;
}

}  // namespace chroma::cli::detail
