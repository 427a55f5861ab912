// Data throughput: decoding photos (JPEG/PNG, then fitting to 64 x 64) against reading the same
// images from a packed file, per image and through the threaded loader with training
// augmentation (random 56 x 56 crop, flip, conversion to CIELAB). Prints medians of several runs.
//
//   data_bench FOLDER [--images 400] [--runs 5]
#include <chroma/data/image_folder.hpp>
#include <chroma/data/loader.hpp>
#include <chroma/data/pack.hpp>
#include <chroma/data/packed_dataset.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace chroma;
using namespace chroma::data;
namespace fs = std::filesystem;

namespace {

double seconds_of(const std::function<void()>& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class Dataset>
double loader_images_per_second(const Dataset& dataset, int resize, int threads, int runs) {
    std::vector<double> rates;
    for (int run = 0; run < runs; ++run) {
        LoaderOptions options{.batch_size = 32, .threads = threads, .seed = static_cast<std::uint64_t>(run)};
        Loader<Dataset> loader(dataset, training_transform(resize, 56), options);
        long long images = 0;
        const double s = seconds_of([&] {
            loader.start_epoch(0);
            while (auto batch = loader.next()) images += batch->size();
        });
        rates.push_back(static_cast<double>(images) / s);
    }
    return median(rates);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FOLDER [--images N] [--runs N]\n", argv[0]);
        return 2;
    }
    std::size_t count = 400;
    int runs = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--images") count = static_cast<std::size_t>(std::atoi(argv[i + 1]));
        if (std::string(argv[i]) == "--runs") runs = std::atoi(argv[i + 1]);
    }
    const auto files = sample_files(list_images(argv[1]), count, 0, argv[1]);
    const ImageFiles photos(files);
    const fs::path pack_path = fs::temp_directory_path() / "chroma_data_bench.pack";
    PackOptions pack_options{.size = 64, .threads = 2, .root = argv[1], .overwrite = true};
    const double pack_seconds = seconds_of([&] { pack_dataset(photos, pack_path, pack_options); });
    const PackedDataset packed(pack_path);
    // The fitted images, as the loader would receive them from either source.
    std::vector<FloatImage> fitted(photos.size());
    std::printf("%zu photos from %s (%.1f MB of files); packing them at 64 x 64 with 2 threads took %.2f s\n",
                photos.size(), argv[1],
                [&] {
                    double bytes = 0;
                    for (const auto& f : files) bytes += static_cast<double>(fs::file_size(f));
                    return bytes / 1e6;
                }(),
                pack_seconds);

    std::vector<double> decode, read;
    for (int run = 0; run < runs; ++run) {
        decode.push_back(seconds_of([&] {
            for (std::size_t i = 0; i < photos.size(); ++i)
                fitted[i] = fit_square(to_rgb(photos.load(i)), 64, FitMode::crop);
        }));
        read.push_back(seconds_of([&] {
            for (std::size_t i = 0; i < packed.size(); ++i) fitted[i] = packed.load(i);
        }));
    }
    const double n = static_cast<double>(photos.size());
    const double decode_rate = n / median(decode), read_rate = n / median(read);
    std::printf("\none thread, per image (median of %d runs):\n", runs);
    std::printf("  decode + fit to 64x64   %9.0f images/s\n", decode_rate);
    std::printf("  packed read             %9.0f images/s   (%.0fx)\n", read_rate, read_rate / decode_rate);

    std::printf("\nloader, batch 32, random 56x56 crop + flip + CIELAB (median of %d epochs):\n", runs);
    for (int threads : {1, 2}) {
        const double from_files = loader_images_per_second(photos, 64, threads, runs);
        const double from_pack = loader_images_per_second(packed, 0, threads, runs);
        std::printf("  %d thread%s: files %7.0f images/s, packed %7.0f images/s   (%.0fx)\n", threads,
                    threads == 1 ? " " : "s", from_files, from_pack, from_pack / from_files);
    }
    fs::remove(pack_path);
    return 0;
}
