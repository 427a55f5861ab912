#pragma once
// `chroma evaluate --data DIR`: scores a model against the gray baseline on colour photos, at
// each photo's full resolution, and writes a comparison grid.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <chroma/backend/cpu/cpu.hpp>
#include <chroma/color/conversion.hpp>
#include <chroma/data/file_split.hpp>
#include <chroma/data/image.hpp>
#include <chroma/data/image_folder.hpp>
#include <chroma/draw/grid.hpp>
#include <chroma/inference/colorize_image.hpp>
#include <chroma/io/atomic_file.hpp>
#include <chroma/metrics/colorization_report.hpp>
#include <chroma/train/progress.hpp>
#include <chroma/train/trainer.hpp>

#include "arguments.hpp"
#include "evaluate_hints.hpp"
#include "per_photo_scores.hpp"
#include "model_choice.hpp"
#include "scores_text.hpp"

namespace chroma::cli {

inline std::string evaluate_help() {
    return std::string(
               "usage: chroma evaluate --data DIR [options]\n"
               "\n"
               "Colourises the colour photos under DIR (searched recursively) from their lightness and\n"
               "scores the result against the photos, at their full resolution, beside the gray baseline\n"
               "(the same lightness with no colour): PSNR and SSIM on RGB, AuC (Zhang et al.'s ab accuracy\n"
               "under 0..150), colourfulness (Hasler and Suesstrunk; the truth's is shown for scale) and\n"
               "mean CIEDE2000, each against gray with its 95% bootstrap interval over the photos (how\n"
               "far the figure could move on another sample of photos like these). Writes a grid of\n"
               "gray | model | truth. Also prints the chroma gain that\n"
               "would minimise the squared ab error on these photos: fit it on the training split and\n"
               "check it on the validation split (see --chroma-gain). With --compare, a second model is\n"
               "scored on the same photos and shown in the grid beside the first.\n"
               "\n"
               "options:\n"
               "  --data DIR            the photos (required)\n") +
           model_options_help +
           "  --split all|validation|train|calibration  which photos: all, or the validation (or\n"
           "                        training) part of the trainers' seeded split by file name, or the\n"
           "                        calibration photos a trainer's --calibration-fraction left out\n"
           "                        of the training part (default all)\n"
           "  --validation-fraction X  the split's validation fraction (default 0.1)\n"
           "  --calibration-fraction X  the training part's calibration share (default 0.1)\n"
           "  --images N            at most N photos, a fixed sample (default: all chosen)\n"
           "  --compare FILE        another model (e.g. an earlier one) to score and show beside --model\n"
           "  --grid FILE           the comparison grid (default evaluate_grid.png; none: no grid)\n"
           "  --grid-rows N         photos in the grid (default 8)\n"
           "  --per-photo FILE      each photo's scores, the model's and gray's, as CSV\n"
           "  --hints N,N,...       a user-guided model (siggraph17, siggraph17-small) given N points of\n"
           "                        each photo's true colour, for each N (e.g. 0,1,2,5,10,20,50,100):\n"
           "                        a row of scores per N; the grid shows the first photos under each N\n"
           "  --hints-plot FILE     with --hints: PSNR against N as a PNG\n"
           "  --threads N           CPU threads (default: all cores)\n"
           "  --quiet               no progress bar\n";
}


inline int run_evaluate(const std::vector<std::string>& args) {
    const Arguments a(args,
                      {"--data", "--model", "--decode", "--size", "--backend", "--chroma-gain", "--mirror-average", "--split", "--validation-fraction", "--calibration-fraction",
                       "--images", "--grid", "--grid-rows", "--per-photo", "--threads", "--compare", "--hints", "--hints-plot"},
                      {"--quiet", "--help"}, {{"-h", "--help"}});
    if (a.has("--help")) {
        std::cout << evaluate_help();
        return 0;
    }
    if (!a.positional().empty()) throw usage_failure("unexpected argument '" + a.positional()[0] + "'");
    if (!a.has("--data")) throw usage_failure("evaluate needs --data DIR, a folder of colour photos");
    if (a.has("--threads")) cpu::set_threads(static_cast<int>(a.integer("--threads", 1, 1, 1024)));
    const std::filesystem::path folder = a.text("--data", "");
    const std::string split = a.text("--split", "all");
    if (split != "all" && split != "validation" && split != "train" && split != "calibration")
        throw usage_failure("--split must be all, validation, train or calibration, got '" + split + "'");
    const double fraction = std::stod(a.text("--validation-fraction", "0.1"));
    const double calibration_fraction = std::stod(a.text("--calibration-fraction", "0.1"));
    const auto images = a.integer("--images", 0, 0, 1LL << 30);
    const std::string grid_path = a.text("--grid", "evaluate_grid.png");
    const auto grid_rows = static_cast<std::size_t>(a.integer("--grid-rows", 8, 0, 1000));
    const std::filesystem::path per_photo_path = a.text("--per-photo", "");

    auto files = data::list_images(folder);
    if (files.empty()) throw usage_failure("no images under '" + folder.string() + "'");
    if (split == "calibration") {
        files = data::split_off_calibration(files, fraction, calibration_fraction, folder).validation;
    } else if (split != "all") {
        auto halves = data::split_by_file(files, fraction, 0, folder);
        files = split == "validation" ? halves.validation : halves.train;
    }
    if (images > 0) files = data::sample_files(files, static_cast<std::size_t>(images), 0, folder);
    auto model = chosen_model(a);
    if (a.has("--hints")) {
        if (!model->traits().takes_hints)
            throw usage_failure("--hints scores a user-guided model (siggraph17, siggraph17-small); " +
                                model->traits().architecture + " takes no hints");
        if (a.has("--compare")) throw usage_failure("--hints scores one model; leave out --compare");
    } else if (a.has("--hints-plot")) {
        throw usage_failure("--hints-plot draws the scores of --hints; give --hints too");
    }
    std::unique_ptr<inference::Colorizer> other;
    if (a.has("--compare")) other = inference::load_colorizer(a.text("--compare", ""));
    const bool quiet = a.has("--quiet");
    std::cout << "model: " << model_summary(*model) << "\n"
              << (other ? "compared with: " + model_summary(*other) + "\n" : "")
              << "data: " << files.size() << " photos from " << folder.string()
              << (split == "all" ? "" : " (" + split + " split)") << ", scored at full resolution"
              << (a.has("--hints") ? " with points of their true colour" : "") << "\n";
    if (a.has("--hints"))
        return detail::run_hints_evaluation(*model, files,
                                            {.counts = detail::hint_counts_from_text(a.text("--hints", "")),
                                             .grid_path = grid_path, .grid_rows = grid_rows,
                                             .plot_path = a.text("--hints-plot", ""), .quiet = quiet});

    train::detail::ScoreMean model_mean, gray_mean, other_mean;
    detail::PerPhotoScores per_photo;
    double predicted_dot_truth = 0, predicted_dot_predicted = 0;  // for the least-squares gain
    std::vector<std::vector<Image>> grid;
    std::vector<std::string> skipped;
    train::Progress progress("evaluate", static_cast<long long>(files.size()), "images", quiet ? nullptr : stderr);
    for (const auto& file : files) {
        try {
            const Image photo = detail::rgb_only(load_image(file));
            const auto truth = color::rgb8_to_lab<float>(photo.pixels, photo.height, photo.width);
            const Tensor<float> ab_small = inference::predict_ab_map(*model, photo);
            const Tensor<float> predicted = inference::upsample_ab(ab_small, photo.width, photo.height);
            const auto scores = metrics::score_colorization(truth.lightness, predicted, truth.ab, train::detail::lab_to_rgb255);
            model_mean.add(scores, 1);
            for (index_t i = 0; i < predicted.size(); ++i) {
                predicted_dot_truth += static_cast<double>(predicted.data()[i]) * truth.ab.data()[i];
                predicted_dot_predicted += static_cast<double>(predicted.data()[i]) * predicted.data()[i];
            }
            const auto gray = metrics::gray_baseline(truth.lightness, truth.ab, train::detail::lab_to_rgb255);
            gray_mean.add(gray, 1);
            per_photo.add(file, scores, gray);
            Tensor<float> other_small;
            if (other) {
                other_small = inference::predict_ab_map(*other, photo);
                const Tensor<float> other_ab = inference::upsample_ab(other_small, photo.width, photo.height);
                other_mean.add(metrics::score_colorization(truth.lightness, other_ab, truth.ab, train::detail::lab_to_rgb255), 1);
            }
            if (grid.size() < grid_rows) {
                const Image small = inference::preview(inference::join_lightness_and_ab(photo, ab_small), 160);
                std::vector<Image> row{inference::lightness_picture(small)};
                if (other) row.push_back(inference::preview(inference::join_lightness_and_ab(photo, other_small), 160));
                row.push_back(small);
                row.push_back(inference::preview(photo, 160));
                grid.push_back(std::move(row));
            }
        } catch (const std::exception& e) {
            std::string reason = e.what();
            if (reason.find(file.string()) == std::string::npos) reason = file.string() + ": " + reason;
            skipped.push_back(reason);
        }
        progress.advance(1);
    }
    progress.finish();
    if (model_mean.weight == 0) throw io::file_error("no photo under " + folder.string() + " could be read");

    const auto m = model_mean.mean(), g = gray_mean.mean();
    using detail::format;
    std::cout << format("\n%-14s %9s %7s %7s %14s %10s\n", "", "PSNR (dB)", "SSIM", "AuC", "colourfulness", "CIEDE2000")
              << detail::scores_row("model", m)
              << (other ? detail::scores_row("compared", other_mean.mean()) : std::string())
              << detail::scores_row("gray baseline", g)
              << format("%-14s %9s %7s %7s %14.2f %10s\n", "ground truth", "-", "-", "-", m.true_colourfulness.value_or(0), "-");
    const double truth_colour = m.true_colourfulness.value_or(0);
    std::cout << format("\nmodel - gray: PSNR %+.2f dB, CIEDE2000 %+.2f; colourfulness %.2f of the truth's\n",
                        m.psnr_rgb.value_or(0) - g.psnr_rgb.value_or(0), m.delta_e2000 - g.delta_e2000,
                        truth_colour > 0 ? m.colourfulness.value_or(0) / truth_colour : 0.0);
    std::cout << per_photo.intervals_text();
    if (other) {
        const auto o = other_mean.mean();
        std::cout << format("compared - gray: PSNR %+.2f dB, CIEDE2000 %+.2f; colourfulness %.2f of the truth's\n",
                            o.psnr_rgb.value_or(0) - g.psnr_rgb.value_or(0), o.delta_e2000 - g.delta_e2000,
                            truth_colour > 0 ? o.colourfulness.value_or(0) / truth_colour : 0.0);
    }
    if (predicted_dot_predicted > 0)
        std::cout << format("least-squares chroma gain on these photos: %.3f (the model's: %.3f)\n",
                            model->chroma_gain() * predicted_dot_truth / predicted_dot_predicted,
                            static_cast<double>(model->chroma_gain()));
    if (!skipped.empty()) {
        std::cout << "skipped " << skipped.size() << " unreadable photo" << (skipped.size() == 1 ? "" : "s") << ":\n";
        for (const auto& s : skipped) std::cout << "  " << s << "\n";
    }
    if (!per_photo_path.empty()) {
        io::write_file_atomically(per_photo_path, per_photo.csv());
        std::cout << "per-photo scores: " << per_photo_path.string() << "\n";
    }
    if (grid_path != "none" && !grid.empty()) {
        std::vector<std::string> titles{"gray"};
        if (other) titles.push_back(other->traits().architecture);
        titles.push_back(model->traits().architecture);
        titles.push_back("truth");
        save_image(grid_path, draw::picture_grid(grid, titles));
        std::cout << "grid: " << grid_path << "\n";
    }
    return 0;
}

}  // namespace chroma::cli
