#pragma once
// `chroma pack FOLDER -o FILE`: packs a folder of photos (searched recursively) into one
// memory-mapped file of fixed-size images for fast training.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <chroma/data/image_folder.hpp>
#include <chroma/data/pack.hpp>
#include <chroma/data/packed_dataset.hpp>
#include <chroma/train/progress.hpp>

#include "arguments.hpp"

namespace chroma::cli {

inline const char* pack_help =
    "usage: chroma pack FOLDER -o FILE [options]\n"
    "\n"
    "Packs every image under FOLDER (searched recursively; JPEG, PNG, BMP, TGA, GIF) into FILE,\n"
    "one memory-mapped file of SIZE x SIZE 8-bit sRGB images that trainers read far faster than\n"
    "they decode JPEGs. Unreadable files are reported and skipped.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     the packed file to write (required)\n"
    "  --size N              side of the stored images in pixels (default 64)\n"
    "  --fit crop|pad        crop: resize the shorter side to N, keep the centre (default);\n"
    "                        pad: pad to a square with black, then resize\n"
    "  --threads N           decoding threads (default: all cores)\n"
    "  --max-pixels N        refuse images with more pixels than this (default 268435456)\n"
    "  --force               replace FILE if it exists\n";

inline int run_pack(const std::vector<std::string>& args) {
    const Arguments a(args, {"--output", "--size", "--fit", "--threads", "--max-pixels"}, {"--force", "--help"},
                      {{"-o", "--output"}, {"-h", "--help"}});
    if (a.has("--help")) {
        std::cout << pack_help;
        return 0;
    }
    if (a.positional().size() != 1) throw usage_failure("pack needs exactly one FOLDER");
    if (!a.has("--output")) throw usage_failure("pack needs -o FILE, the packed file to write");
    const std::filesystem::path folder = a.positional()[0];
    const std::filesystem::path output = a.text("--output", "");

    data::PackOptions options;
    options.size = static_cast<int>(a.integer("--size", 64, 1, 65536));
    const std::string fit = a.text("--fit", "crop");
    if (fit != "crop" && fit != "pad") throw usage_failure("--fit must be crop or pad, got '" + fit + "'");
    options.fit = fit == "pad" ? data::FitMode::pad : data::FitMode::crop;
    const auto cores = static_cast<long long>(std::max(1u, std::thread::hardware_concurrency()));
    options.threads = static_cast<int>(a.integer("--threads", cores, 1, 1024));
    options.root = folder;
    options.overwrite = a.has("--force");
    ImageLimits limits;
    limits.max_pixels = static_cast<std::uint64_t>(a.integer("--max-pixels", static_cast<long long>(limits.max_pixels), 1,
                                                             (1LL << 62)));

    const data::ImageFiles files(data::list_images(folder), limits);
    if (files.size() == 0) throw usage_failure("no images under '" + folder.string() + "'");
    train::Progress progress("pack", static_cast<long long>(files.size()));
    std::size_t reported = 0;
    const data::PackResult result =
        data::pack_dataset(files, output, options, [&](std::size_t done, std::size_t) {
            progress.advance(static_cast<long long>(done - reported));
            reported = done;
        });
    progress.finish();

    std::cout << "packed " << result.packed << " of " << files.size() << " images (" << options.size << " x "
              << options.size << ", " << fit << ") into " << output.string() << " ("
              << std::filesystem::file_size(output) / (1024.0 * 1024.0) << " MiB)\n";
    if (!result.skipped.empty()) {
        std::cout << "skipped " << result.skipped.size() << " unreadable file" << (result.skipped.size() == 1 ? "" : "s")
                  << ":\n";
        for (const auto& s : result.skipped) std::cout << "  " << s.reason << "\n";
    }
    return result.packed == 0 ? 1 : 0;
}

}  // namespace chroma::cli
