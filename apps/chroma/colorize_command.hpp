#pragma once
// `chroma colorize INPUT... [-o OUT]`: colourises photos at their full resolution.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <chroma/backend/cpu/cpu.hpp>
#include <chroma/data/image.hpp>
#include <chroma/data/image_folder.hpp>
#include <chroma/draw/grid.hpp>
#include <chroma/inference/colorize_image.hpp>
#include <chroma/train/progress.hpp>

#include "arguments.hpp"
#include "model_choice.hpp"

namespace chroma::cli {

inline std::string colorize_help() {
    return std::string(
               "usage: chroma colorize INPUT... [-o OUT] [options]\n"
               "\n"
               "Colourises photos. INPUT is image files or folders (searched recursively): JPEG, PNG (8 or\n"
               "16 bit), BMP, TGA, GIF; grey, grey + alpha, RGB or RGBA. Colour photos are reduced to their\n"
               "lightness first, so they can be re-colourised and compared with the original. The model\n"
               "sees each photo at its native size; its colour is upsampled smoothly and joined with the\n"
               "photo's own lightness at full resolution, so no detail is lost. Alpha is kept.\n"
               "\n"
               "Results keep the input's name and relative folder: JPEG stays JPEG, everything else becomes\n"
               "PNG (8 bit). Inputs are never overwritten, existing results only with --force. Unreadable\n"
               "files are reported and skipped; the exit status is 1 when any photo failed.\n"
               "Memory: the decoded photo, colourised in place, plus the codecs' buffers (a 12000 x 8000\n"
               "JPEG peaks at about 0.7 GB); photos over --max-pixels are refused before decoding.\n"
               "\n"
               "options:\n"
               "  -o, --output PATH     folder for the results (default: colorized); with one input file it\n"
               "                        may be a file name ending in .png or .jpg\n") +
           model_options_help +
           "  --compare             also write NAME_compare.png: gray | colourised | original (when the\n"
           "                        input had colour), at most --compare-height pixels tall (default 512)\n"
           "  --grid FILE           also write one PNG of every photo: gray | colourised | original (when\n"
           "                        the input had colour), a row each, 160 pixels tall\n"
           "  --hints FILE          points of colour for a user-guided model (siggraph17, siggraph17-small),\n"
           "                        one photo only: JSON {\"points\": [{\"x\": 120, \"y\": 64, \"rgb\": [40, 90, 200],\n"
           "                        \"radius\": 4}, {\"x\": 30, \"y\": 200, \"lab\": [55, -30, 40]}]}, x and y in\n"
           "                        the photo's pixels; only the colour's chroma is used\n"
           "  --hints-from PHOTO N  N points of colour taken from PHOTO, a colour photo of the same size\n"
           "                        (the photo itself shows what N true colours would give)\n"
           "  --threads N           CPU threads (default: all cores)\n"
           "  --max-pixels N        refuse photos with more pixels than this (default 268435456)\n"
           "  --force               replace existing results\n"
           "  --quiet               no progress bar\n";
}

namespace detail {

/// --hints-from PHOTO N: its two values are taken out of the arguments before they are parsed.
struct HintsFrom {
    std::filesystem::path reference;
    int count = 0;
};

inline std::optional<HintsFrom> take_hints_from(std::vector<std::string>& args) {
    const auto at = std::find(args.begin(), args.end(), "--hints-from");
    if (at == args.end()) return std::nullopt;
    const auto index = static_cast<std::size_t>(at - args.begin());
    char* end = nullptr;
    const long count = index + 2 < args.size() ? std::strtol(args[index + 2].c_str(), &end, 10) : -1;
    if (index + 2 >= args.size() || args[index + 2].empty() || *end != '\0' || count < 0 || count > 10000)
        throw usage_failure("--hints-from needs a colour photo and a number of points from 0 to 10000, e.g. "
                            "--hints-from photo.jpg 10");
    HintsFrom hints{.reference = args[index + 1], .count = static_cast<int>(count)};
    args.erase(at, at + 3);
    return hints;
}

/// The points of colour for `photo`: read from --hints FILE, or taken from --hints-from's
/// reference, each over a square about 3 model pixels wide.
inline std::vector<inference::HintPoint> hint_points_for(const Image& photo, const std::string& hints_file,
                                                         const std::optional<HintsFrom>& hints_from,
                                                         const inference::ModelTraits& traits, ImageLimits limits) {
    if (!hints_file.empty()) return inference::read_hint_points(hints_file, photo.width, photo.height);
    const Image reference = load_image(hints_from->reference, 0, limits);
    if (reference.width != photo.width || reference.height != photo.height)
        throw usage_failure("--hints-from: " + hints_from->reference.string() + " is " + std::to_string(reference.width) +
                            " x " + std::to_string(reference.height) + ", the photo " + std::to_string(photo.width) +
                            " x " + std::to_string(photo.height) + "; the reference must have the photo's size");
    if (reference.channels < 3)
        throw usage_failure("--hints-from: " + hints_from->reference.string() + " has no colour to take hints from");
    return inference::sample_hint_points(reference, hints_from->count,
                                         inference::hint_radius_for(photo.width, photo.height, traits.native_size));
}

struct ColorizeJob {
    std::filesystem::path input, output;
};

/// Where the result of `input` goes: its path relative to the folder it was found in, under
/// `out`, with .jpg kept for JPEGs and .png for everything else.
inline std::filesystem::path result_path(const std::filesystem::path& relative, const std::filesystem::path& out) {
    std::string extension = relative.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::filesystem::path result = out / relative;
    result.replace_extension(extension == ".jpg" || extension == ".jpeg" ? relative.extension().string() : ".png");
    return result;
}

inline bool names_image_file(const std::filesystem::path& path) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

inline std::filesystem::path canonical_or_absolute(const std::filesystem::path& path) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    return ec ? std::filesystem::absolute(path) : canonical;
}

/// Every input photo and its result path; the checks that must pass before anything is written.
inline std::vector<ColorizeJob> plan_jobs(const std::vector<std::string>& inputs, const std::filesystem::path& out,
                                          bool force) {
    std::vector<ColorizeJob> jobs;
    const bool single_file = inputs.size() == 1 && std::filesystem::is_regular_file(inputs[0]);
    for (const std::string& input : inputs) {
        const std::filesystem::path path(input);
        if (std::filesystem::is_directory(path)) {
            const auto files = data::list_images(path);
            if (files.empty()) std::cerr << "chroma colorize: no images under " << input << "\n";
            for (const auto& file : files) jobs.push_back({file, result_path(file.lexically_relative(path), out)});
        } else if (std::filesystem::exists(path)) {
            jobs.push_back({path, single_file && names_image_file(out) ? out : result_path(path.filename(), out)});
        } else {
            throw usage_failure("no such file or folder: " + input);
        }
    }
    std::set<std::filesystem::path> input_paths;
    for (const auto& job : jobs) input_paths.insert(canonical_or_absolute(job.input));
    std::map<std::filesystem::path, std::filesystem::path> claimed;
    std::vector<std::string> existing;
    for (const auto& job : jobs) {
        const auto target = canonical_or_absolute(job.output);
        if (input_paths.count(target))
            throw usage_failure("the result for " + job.input.string() + " would replace an input (" +
                                job.output.string() + "); choose another -o");
        if (const auto [it, fresh] = claimed.emplace(target, job.input); !fresh)
            throw usage_failure(job.input.string() + " and " + it->second.string() + " would both be written to " +
                                job.output.string() + "; colourise them into different folders");
        if (!force && std::filesystem::exists(job.output)) existing.push_back(job.output.string());
    }
    if (!existing.empty())
        throw usage_failure(std::to_string(existing.size()) + " result" + (existing.size() == 1 ? "" : "s") +
                            " already exist" + (existing.size() == 1 ? "s" : "") + " (first: " + existing.front() +
                            "); add --force to replace them");
    return jobs;
}

/// gray | colourised | original (when the input had colour), each at most `height` tall, RGB.
inline std::vector<Image> comparison_row(const Image& result, const Image* original, int height) {
    const Image colour = inference::preview(result, height);
    std::vector<Image> row{inference::lightness_picture(colour), colour};
    if (original) row.push_back(inference::preview(*original, height));
    for (auto& image : row)
        if (image.channels == 4) {  // the grid is RGB: drop alpha
            Image rgb{.width = image.width, .height = image.height, .channels = 3, .pixels = {}};
            rgb.pixels.reserve(image.pixel_count() * 3);
            for (std::size_t i = 0; i < image.pixel_count(); ++i)
                rgb.pixels.insert(rgb.pixels.end(), image.pixels.begin() + static_cast<std::ptrdiff_t>(i * 4),
                                  image.pixels.begin() + static_cast<std::ptrdiff_t>(i * 4 + 3));
            image = std::move(rgb);
        } else if (image.channels == 2) {
            Image rgb{.width = image.width, .height = image.height, .channels = 3, .pixels = {}};
            for (std::size_t i = 0; i < image.pixel_count(); ++i)
                rgb.pixels.insert(rgb.pixels.end(), 3, image.pixels[i * 2]);
            image = std::move(rgb);
        } else if (image.channels == 1) {
            Image rgb{.width = image.width, .height = image.height, .channels = 3, .pixels = {}};
            for (const auto v : image.pixels) rgb.pixels.insert(rgb.pixels.end(), 3, v);
            image = std::move(rgb);
        }
    return row;
}

inline Image comparison(const std::vector<std::vector<Image>>& rows) {
    std::vector<std::string> titles{"gray", "colourised"};
    for (const auto& row : rows)
        if (row.size() == 3) {
            titles.push_back("original");
            break;
        }
    return draw::picture_grid(rows, titles, 4, 64);  // tiny photos enlarged to be seen
}

inline std::filesystem::path comparison_path(const std::filesystem::path& output) {
    std::filesystem::path path = output;
    path.replace_filename(output.stem().string() + "_compare.png");
    return path;
}

}  // namespace detail

inline int run_colorize(std::vector<std::string> args) {
    const std::optional<detail::HintsFrom> hints_from = detail::take_hints_from(args);
    const Arguments a(args,
                      {"--output", "--model", "--decode", "--size", "--backend", "--chroma-gain", "--mirror-average", "--threads", "--max-pixels",
                       "--compare-height", "--grid", "--hints"},
                      {"--compare", "--force", "--quiet", "--help"}, {{"-o", "--output"}, {"-h", "--help"}});
    if (a.has("--help")) {
        std::cout << colorize_help();
        return 0;
    }
    if (a.positional().empty()) throw usage_failure("colorize needs at least one INPUT file or folder");
    if (a.has("--threads")) cpu::set_threads(static_cast<int>(a.integer("--threads", 1, 1, 1024)));
    ImageLimits limits;
    limits.max_pixels =
        static_cast<std::uint64_t>(a.integer("--max-pixels", static_cast<long long>(limits.max_pixels), 1, 1LL << 40));
    const bool compare = a.has("--compare"), quiet = a.has("--quiet");
    const int compare_height = static_cast<int>(a.integer("--compare-height", 512, 16, 65536));
    const std::filesystem::path out = a.text("--output", "colorized");
    const std::filesystem::path grid_path = a.text("--grid", "");
    std::vector<std::vector<Image>> grid;

    const auto jobs = detail::plan_jobs(a.positional(), out, a.has("--force"));
    auto model = chosen_model(a);
    if (!quiet) std::cout << "model: " << model_summary(*model) << "\n";
    const std::string hints_file = a.text("--hints", "");
    const bool hinted = !hints_file.empty() || hints_from.has_value();
    if (!hints_file.empty() && hints_from) throw usage_failure("give --hints or --hints-from, not both");
    if (hinted && jobs.size() != 1)
        throw usage_failure("hints are points of one photo: colourise one photo with --hints or --hints-from (" +
                            std::to_string(jobs.size()) + " inputs were given)");
    if (hinted && !model->traits().takes_hints)
        throw usage_failure(model->traits().architecture + " takes no hints: give a user-guided model with --model "
                            "(siggraph17 or siggraph17-small, trained by examples/train_hints)");

    train::Progress progress("colorize", static_cast<long long>(jobs.size()), "images", quiet ? nullptr : stderr);
    std::vector<std::string> failures;
    std::size_t written = 0;
    for (const auto& job : jobs) {
        try {
            Image photo = load_image(job.input, 0, limits);
            const bool had_colour = photo.channels >= 3;
            Image original;
            if ((compare || !grid_path.empty()) && had_colour)
                original = inference::preview(photo, std::max(compare_height, 160));
            std::vector<inference::HintPoint> points;
            if (hinted) {
                points = detail::hint_points_for(photo, hints_file, hints_from, model->traits(), limits);
                if (!quiet) std::cout << "hints: " << points.size() << " point" << (points.size() == 1 ? "" : "s") << "\n";
                model->set_hints(points, photo.width, photo.height);
            }
            const int photo_height = photo.height;
            const Image result = inference::colorize(*model, std::move(photo));
            // The side-by-sides show where the points were, on the colourised picture.
            const auto with_marks = [&](std::vector<Image> row) {
                if (!points.empty())
                    inference::mark_hint_points(row[1], points, static_cast<double>(row[1].height) / photo_height);
                return row;
            };
            if (!job.output.parent_path().empty()) std::filesystem::create_directories(job.output.parent_path());
            save_image(job.output, result);
            if (compare)
                save_png(detail::comparison_path(job.output),
                         detail::comparison({with_marks(detail::comparison_row(result, had_colour ? &original : nullptr,
                                                                               compare_height))}));
            if (!grid_path.empty())
                grid.push_back(with_marks(detail::comparison_row(result, had_colour ? &original : nullptr, 160)));
            ++written;
        } catch (const image_too_large_error& e) {
            failures.push_back(std::string(e.what()) + " (raise the limit with --max-pixels)");
        } catch (const std::bad_alloc&) {
            failures.push_back(job.input.string() + ": not enough memory (lower --max-pixels)");
        } catch (const std::exception& e) {
            std::string reason = e.what();
            if (reason.find(job.input.string()) == std::string::npos) reason = job.input.string() + ": " + reason;
            failures.push_back(reason);
        }
        progress.advance(1);
    }
    progress.finish();
    if (!grid.empty()) {
        if (!grid_path.parent_path().empty()) std::filesystem::create_directories(grid_path.parent_path());
        save_png(grid_path, detail::comparison(grid));
        if (!quiet) std::cout << "grid: " << grid_path.string() << "\n";
    }
    if (!quiet || !failures.empty()) {
        std::cout << "colourised " << written << " of " << jobs.size() << " image" << (jobs.size() == 1 ? "" : "s")
                  << " into " << (jobs.size() == 1 ? jobs[0].output.string() : out.string()) << " in "
                  << train::format_duration(progress.elapsed()) << "\n";
        if (!failures.empty()) {
            std::cout << "skipped " << failures.size() << ":\n";
            for (const auto& f : failures) std::cout << "  " << f << "\n";
        }
    }
    return failures.empty() && !jobs.empty() ? 0 : 1;
}

}  // namespace chroma::cli
