#pragma once
// Writing a packed dataset (see packed_dataset.hpp for the format): every readable image of a
// dataset, brought to a fixed size and stored as 8-bit sRGB. Images are decoded on worker
// threads in chunks and written in dataset order, so the file is the same whatever the thread
// count. The file appears atomically when complete; unreadable images are reported and skipped.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../io/atomic_file.hpp"
#include "../io/crc32.hpp"
#include "dataset.hpp"
#include "image.hpp"
#include "loader.hpp"
#include "packed_dataset.hpp"
#include "transforms.hpp"

namespace chroma::data {

struct PackOptions {
    int size = 64;                  // images become size x size
    FitMode fit = FitMode::crop;    // crop: shorter side resized then centre crop; pad: pad to square
    int threads = 2;                // decoding threads
    std::filesystem::path root;     // names are stored relative to this folder (when set)
    bool overwrite = false;         // replace an existing output file
};

struct PackResult {
    std::size_t packed = 0;
    std::vector<SkippedImage> skipped;
};

/// Packs `dataset` into `output`. `on_progress(done, total)` is called after each chunk (for a
/// progress bar). Throws usage_error when `output` exists and overwrite is off, io::file_error
/// when it cannot be written (the old file, if any, is left unchanged).
template <ImageDataset Dataset, class OnProgress = void (*)(std::size_t, std::size_t)>
PackResult pack_dataset(const Dataset& dataset, const std::filesystem::path& output, PackOptions options = {},
                        OnProgress on_progress = [](std::size_t, std::size_t) {}) {
    if (options.size < 1 || options.size > 65536)
        throw usage_error("pack: the image size must be between 1 and 65536, got " + std::to_string(options.size));
    if (options.threads < 1) options.threads = 1;
    std::error_code ec;
    if (!options.overwrite && std::filesystem::exists(output, ec))
        throw usage_error("pack: '" + output.string() + "' already exists (use --force to replace it)");

    io::AtomicFileWriter writer(output);
    packed_format::Header header;
    header.width = header.height = static_cast<std::uint32_t>(options.size);
    header.fit = options.fit == FitMode::pad ? 1u : 0u;
    writer.write(packed_format::encode(header).data(), packed_format::header_bytes);  // completed at the end

    const std::size_t image_bytes = static_cast<std::size_t>(options.size) * options.size * 3;
    const std::size_t chunk = 64 * static_cast<std::size_t>(options.threads);
    PackResult result;
    std::vector<std::string> names;
    std::uint32_t pixels_crc = 0;
    std::vector<std::vector<std::uint8_t>> pixels(chunk);
    std::vector<std::string> failures(chunk);

    for (std::size_t begin = 0; begin < dataset.size(); begin += chunk) {
        const std::size_t end = std::min(dataset.size(), begin + chunk);
        auto convert = [&](std::size_t i) {
            auto& out = pixels[i - begin];
            failures[i - begin].clear();
            out.clear();
            try {
                const Image fitted = to_8bit(fit_square(to_rgb(dataset.load(i)), options.size, options.fit));
                out = fitted.pixels;
            } catch (const image_error& e) {
                failures[i - begin] = e.what();
            }
        };
        std::vector<std::thread> workers;
        for (int t = 1; t < options.threads; ++t)
            workers.emplace_back([&, t] {
                for (std::size_t i = begin + static_cast<std::size_t>(t); i < end; i += options.threads) convert(i);
            });
        for (std::size_t i = begin; i < end; i += options.threads) convert(i);
        for (auto& worker : workers) worker.join();

        for (std::size_t i = begin; i < end; ++i) {
            if (!failures[i - begin].empty()) {
                result.skipped.push_back({dataset.name(i), failures[i - begin]});
                continue;
            }
            const auto& bytes = pixels[i - begin];
            if (bytes.size() != image_bytes)
                throw shape_error("pack: '" + dataset.name(i) + "' became " + std::to_string(bytes.size()) +
                                  " bytes, expected " + std::to_string(image_bytes));
            writer.write(bytes.data(), bytes.size());
            pixels_crc = io::crc32(bytes.data(), bytes.size(), pixels_crc);
            std::filesystem::path name = dataset.name(i);
            if (!options.root.empty()) name = name.lexically_relative(options.root);
            names.push_back(name.generic_string());
            ++result.packed;
        }
        on_progress(end, dataset.size());
    }

    std::string table;
    for (const auto& name : names) {
        std::uint8_t length[4];
        packed_format::put_u32(length, static_cast<std::uint32_t>(name.size()));
        table.append(reinterpret_cast<const char*>(length), 4);
        table += name;
    }
    writer.write(table);
    header.count = result.packed;
    header.names_offset = header.pixels_end();
    header.pixels_crc = pixels_crc;
    header.names_crc = io::crc32(table.data(), table.size());
    writer.write_at(0, packed_format::encode(header).data(), packed_format::header_bytes);
    writer.commit();
    return result;
}

}  // namespace chroma::data
