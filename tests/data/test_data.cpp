// The data pipeline: listing and splitting folders, CIFAR-10 records, the threaded loader's
// determinism and its handling of unreadable files, and packed datasets (round trip, identical
// output for any thread count, and every damaged-file error).
#include <catch2/catch.hpp>

#include <chroma/data/cifar10.hpp>
#include <chroma/data/image_folder.hpp>
#include <chroma/data/loader.hpp>
#include <chroma/data/pack.hpp>
#include <chroma/data/packed_dataset.hpp>
#include <chroma/data/subset.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/temporary_folder.hpp"

using namespace chroma;
using namespace chroma::data;
using chroma::testing::TemporaryFolder;
namespace fs = std::filesystem;

namespace {

// A photo-like test image: smooth colours that differ per seed, so every file is distinct.
Image synthetic_photo(int width, int height, unsigned seed) {
    Image image{.width = width, .height = height, .channels = 3, .pixels = {}};
    image.pixels.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c)
                image.pixels[(static_cast<std::size_t>(y) * width + x) * 3 + c] =
                    static_cast<std::uint8_t>((x * (3 + c) + y * (5 + seed % 7) + seed * 37 + c * 80) % 256);
    return image;
}

void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// `count` PNGs of varying sizes (some portrait, some landscape) in a nested folder.
std::vector<fs::path> write_photos(const fs::path& root, int count) {
    std::vector<fs::path> files;
    for (int i = 0; i < count; ++i) {
        const fs::path path = root / (i % 3 == 0 ? "nested" : "") / ("photo_" + std::to_string(100 + i) + ".png");
        fs::create_directories(path.parent_path());
        save_png(path, synthetic_photo(20 + (i % 4) * 3, 18 + (i % 5) * 2, static_cast<unsigned>(i)));
        files.push_back(path);
    }
    return files;
}

// Every batch of one epoch, flattened: sizes, lightness and ab values.
std::vector<std::vector<float>> epoch_batches(Loader<ImageFiles>& loader, int epoch) {
    std::vector<std::vector<float>> out;
    loader.start_epoch(epoch);
    while (auto batch = loader.next()) {
        std::vector<float> values(batch->lightness.data(), batch->lightness.data() + batch->lightness.size());
        values.insert(values.end(), batch->ab.data(), batch->ab.data() + batch->ab.size());
        values.push_back(static_cast<float>(batch->size()));
        out.push_back(std::move(values));
    }
    return out;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("list_images finds images recursively, sorted, skipping hidden folders and other files", "[data]") {
    TemporaryFolder folder("data");
    save_png(folder / "b.png", synthetic_photo(4, 4, 1));
    fs::create_directories(folder.path / "sub" / "deeper");
    save_png(folder.path / "sub" / "deeper" / "c.PNG", synthetic_photo(4, 4, 2));
    write_text(folder / "a.JPG", "not really a jpeg");  // listed: its content is the loader's business
    write_text(folder / "notes.txt", "text");
    write_text(folder.path / ".thumbnails" / "d.png", "hidden");
    const auto files = list_images(folder.path);
    REQUIRE(files.size() == 3);
    CHECK(files[0].filename() == "a.JPG");
    CHECK(files[1].filename() == "b.png");
    CHECK(files[2].filename() == "c.PNG");
    CHECK_THROWS_WITH(list_images(folder / "missing"), Catch::Contains("missing") && Catch::Contains("does not exist"));
}

TEST_CASE("split_by_file is deterministic, disjoint, 90/10 and stable when files are added", "[data]") {
    std::vector<fs::path> files;
    for (int i = 0; i < 200; ++i) files.push_back(fs::path("photos") / ("img_" + std::to_string(i) + ".jpg"));
    const FileSplit a = split_by_file(files, 0.1, 7, "photos");
    const FileSplit b = split_by_file(files, 0.1, 7, "photos");
    CHECK(a.validation.size() == 20);
    CHECK(a.train.size() == 180);
    CHECK(a.validation == b.validation);
    std::set<fs::path> all(a.train.begin(), a.train.end());
    for (const auto& f : a.validation) CHECK(all.insert(f).second);  // disjoint
    CHECK(all.size() == files.size());
    CHECK(split_by_file(files, 0.1, 8, "photos").validation != a.validation);

    // Ten new files: at most a few of the old validation files change sides.
    auto grown = files;
    for (int i = 200; i < 210; ++i) grown.push_back(fs::path("photos") / ("img_" + std::to_string(i) + ".jpg"));
    const FileSplit c = split_by_file(grown, 0.1, 7, "photos");
    int kept = 0;
    for (const auto& f : a.validation) kept += std::count(c.validation.begin(), c.validation.end(), f) ? 1 : 0;
    CHECK(kept >= 18);
    CHECK_THROWS_AS(split_by_file(files, 1.5), usage_error);
}

TEST_CASE("calibration photos come out of the training part, the same from files and from any dataset", "[data]") {
    std::vector<fs::path> files;
    for (int i = 0; i < 300; ++i) files.push_back("img_" + std::to_string(i) + ".jpg");
    const FileSplit halves = split_by_file(files, 0.1);
    const FileSplit calibration = split_off_calibration(files, 0.1, 0.2);
    CHECK(calibration.validation.size() == 54);  // round(0.2 x 270)
    CHECK(calibration.train.size() == 216);
    const std::set<fs::path> validation(halves.validation.begin(), halves.validation.end());
    std::set<fs::path> training_part;
    for (const auto& f : calibration.validation) {
        CHECK(validation.count(f) == 0);
        CHECK(training_part.insert(f).second);
    }
    for (const auto& f : calibration.train) {
        CHECK(validation.count(f) == 0);
        CHECK(training_part.insert(f).second);
    }
    CHECK(training_part == std::set<fs::path>(halves.train.begin(), halves.train.end()));
    // Its own seed: not the photos the validation seed would pick from the same list.
    CHECK(calibration.validation != split_by_file(halves.train, 0.2, 0).validation);

    // A dataset with the same names (a packed file's are the photos' relative paths) splits alike.
    const auto dataset = std::make_shared<const ImageFiles>(files);
    const auto split = split_dataset(dataset, 0.1);
    const auto calibrated = split_subset(split.train, 0.2, calibration_seed);
    REQUIRE(calibrated.validation.size() == calibration.validation.size());
    REQUIRE(calibrated.train.size() == calibration.train.size());
    for (std::size_t i = 0; i < calibrated.validation.size(); ++i)
        CHECK(calibrated.validation.name(i) == calibration.validation[i].string());
    for (std::size_t i = 0; i < calibrated.train.size(); ++i)
        CHECK(calibrated.train.name(i) == calibration.train[i].string());
}

TEST_CASE("CIFAR-10 binary records decode to RGB with labels; damaged files name the file", "[data]") {
    TemporaryFolder folder("cifar");
    std::string bytes;
    for (int record = 0; record < 2; ++record) {
        bytes.push_back(static_cast<char>(record == 0 ? 3 : 9));
        for (int c = 0; c < 3; ++c)
            for (int p = 0; p < 1024; ++p) bytes.push_back(static_cast<char>((p + 50 * c + 7 * record) % 256));
    }
    write_text(folder / "data_batch_1.bin", bytes);
    const Cifar10 cifar(folder / "data_batch_1.bin");
    REQUIRE(cifar.size() == 2);
    CHECK(cifar.label(0) == 3);
    CHECK(cifar.label(1) == 9);
    const FloatImage image = cifar.load(1);
    REQUIRE(image.width == 32);
    REQUIRE(image.channels == 3);
    // Pixel p = 33 (x 1, y 1): planes R, G, B at offsets 0, 1024, 2048 of the record.
    CHECK(image.at(1, 1, 0) == Approx((33 + 7) / 255.0f));
    CHECK(image.at(1, 1, 1) == Approx((33 + 50 + 7) / 255.0f));
    CHECK(image.at(1, 1, 2) == Approx((33 + 100 + 7) / 255.0f));
    CHECK_THAT(cifar.name(1), Catch::Contains("data_batch_1.bin record 1"));

    write_text(folder / "short.bin", bytes.substr(0, 3000));
    CHECK_THROWS_WITH(Cifar10(folder / "short.bin"), Catch::Contains("short.bin") && Catch::Contains("whole number"));
    std::string bad_label = bytes;
    bad_label[0] = 12;
    write_text(folder / "label.bin", bad_label);
    CHECK_THROWS_WITH(Cifar10(folder / "label.bin"), Catch::Contains("label 12"));
    CHECK_THROWS_WITH(Cifar10(folder.path, Cifar10::Part::test), Catch::Contains("test_batch.bin"));
}

TEST_CASE("the loader gives the same batches with 0, 1 and 2 worker threads, and reshuffles each epoch", "[data]") {
    TemporaryFolder folder("loader");
    write_photos(folder.path, 23);
    auto make = [&](int threads) {
        LoaderOptions options;
        options.batch_size = 5;
        options.threads = threads;
        options.prefetch_batches = 2;
        options.seed = 11;
        return std::make_unique<Loader<ImageFiles>>(ImageFiles(list_images(folder.path)), training_transform(16, 12),
                                                    options);
    };
    auto inline_loader = make(0), one = make(1), two = make(2);
    for (int epoch : {0, 1}) {
        const auto reference = epoch_batches(*inline_loader, epoch);
        REQUIRE(reference.size() == 5);  // 23 images in batches of 5
        CHECK(reference.back().back() == 3.0f);
        CHECK(epoch_batches(*one, epoch) == reference);
        CHECK(epoch_batches(*two, epoch) == reference);
    }
    CHECK(epoch_batches(*two, 0) != epoch_batches(*two, 1));
    CHECK(inline_loader->images_per_epoch() == 23);

    // Without shuffling, the first batch holds the first files in sorted order.
    LoaderOptions ordered;
    ordered.batch_size = 1;
    ordered.shuffle = false;
    Loader<ImageFiles> in_order(ImageFiles(list_images(folder.path)), evaluation_transform(0, 16), ordered);
    in_order.start_epoch(0);
    const auto first = in_order.next();
    REQUIRE(first);
    const FloatImage expected =
        centre_crop(to_rgb(load_image_float(list_images(folder.path).front())), 16, 16);
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 16, .w = 16}), ab(Shape{.n = 1, .c = 2, .h = 16, .w = 16});
    write_lab(expected, lightness, ab, 0);
    CHECK(std::equal(lightness.data(), lightness.data() + lightness.size(), first->lightness.data()));
}

TEST_CASE("the shards of a loader cut each global batch into the ranks' slices, in step", "[data]") {
    TemporaryFolder folder("loader_shards");
    write_photos(folder.path, 23);
    auto make = [&](int batch, int shard, int shards) {
        LoaderOptions options;
        options.batch_size = batch;
        options.threads = 1;
        options.seed = 5;
        options.shard = shard;
        options.shards = shards;
        return std::make_unique<Loader<ImageFiles>>(ImageFiles(list_images(folder.path)), training_transform(16, 12),
                                                    options);
    };
    // The global batch, 6 images: 1 process x 6, 2 ranks x 3, 3 ranks x 2. 23 = 6 + 6 + 6 + 5.
    for (int epoch : {0, 1}) {
        const auto whole = epoch_batches(*make(6, 0, 1), epoch);
        REQUIRE(whole.size() == 4);
        for (int shards : {2, 3}) {
            std::vector<std::vector<std::vector<float>>> parts;
            long long images = 0;
            for (int shard = 0; shard < shards; ++shard) {
                auto loader = make(6 / shards, shard, shards);
                parts.push_back(epoch_batches(*loader, epoch));
                images += loader->images_per_epoch();
            }
            CHECK(images == 23);
            for (std::size_t k = 0; k < whole.size(); ++k) {
                // Each batch's values are L then ab then the count: rebuild the whole batch from the slices.
                const std::size_t pixels = 12 * 12;
                std::vector<float> lightness, ab;
                float count = 0;
                for (const auto& part : parts) {
                    REQUIRE(part.size() == whole.size());
                    const auto& values = part[k];
                    const std::size_t n = static_cast<std::size_t>(values.back());
                    lightness.insert(lightness.end(), values.begin(), values.begin() + n * pixels);
                    ab.insert(ab.end(), values.begin() + n * pixels, values.end() - 1);
                    count += values.back();
                }
                lightness.insert(lightness.end(), ab.begin(), ab.end());
                lightness.push_back(count);
                INFO("epoch " << epoch << ", " << shards << " shards, global batch " << k);
                CHECK(lightness == whole[k]);
            }
        }
    }
    // 4 ranks x 2 = 8: 23 = 8 + 8 + 7, every rank gets a slice of the last batch too.
    CHECK(epoch_batches(*make(2, 3, 4), 0).size() == 3);
    // 3 ranks x 7 = 21: the last 2 images cannot give all 3 ranks one, so that batch is dropped everywhere.
    for (int shard = 0; shard < 3; ++shard) {
        CHECK(epoch_batches(*make(7, shard, 3), 0).size() == 1);
        CHECK(make(7, shard, 3)->images_per_epoch() == 7);
    }
    CHECK_THROWS_WITH(make(2, 2, 2), Catch::Contains("shard 2 of 2"));
}

TEST_CASE("a shard whose slice is all unreadable gives an empty batch, staying in step with the others", "[data]") {
    TemporaryFolder folder("loader_shard_broken");
    write_photos(folder.path, 1);
    write_text(folder / "broken.jpg", "this is not a JPEG");  // sorted first
    std::ostringstream report;
    std::vector<index_t> sizes;
    for (int shard : {0, 1}) {
        LoaderOptions options;
        options.batch_size = 1;
        options.threads = 0;
        options.shuffle = false;
        options.shard = shard;
        options.shards = 2;
        options.report = &report;
        Loader<ImageFiles> loader(ImageFiles(list_images(folder.path)), training_transform(16, 12), options);
        loader.start_epoch(0);
        int batches = 0;
        while (auto batch = loader.next()) {
            ++batches;
            sizes.push_back(batch->size());
        }
        CHECK(batches == 1);
    }
    CHECK(sizes == std::vector<index_t>{0, 1});
}

TEST_CASE("the loader skips unreadable files, says which at the end of the epoch, and stays deterministic", "[data]") {
    TemporaryFolder folder("loader_bad");
    write_photos(folder.path, 10);
    write_text(folder / "broken.jpg", "this is not a JPEG");
    const std::string png = read_bytes(folder / "photo_101.png");
    write_text(folder / "truncated.png", png.substr(0, png.size() / 3));
    for (int threads : {0, 2}) {
        std::ostringstream report;
        LoaderOptions options;
        options.batch_size = 4;
        options.threads = threads;
        options.report = &report;
        Loader<ImageFiles> loader(ImageFiles(list_images(folder.path)), training_transform(16, 12), options);
        for (int epoch : {0, 1}) {
            loader.start_epoch(epoch);
            long long images = 0;
            while (auto batch = loader.next()) images += batch->size();
            CHECK(images == 10);
            CHECK(loader.skipped_this_epoch() == 2);
        }
        const std::string text = report.str();
        CHECK_THAT(text, Catch::Contains("skipped 2 unreadable images of 12 in epoch 0"));
        CHECK_THAT(text, Catch::Contains("broken.jpg"));
        CHECK_THAT(text, Catch::Contains("truncated.png"));
        CHECK(loader.skipped().size() == 2);
    }
}

TEST_CASE("the loader reports a transform that makes images of different sizes", "[data]") {
    TemporaryFolder folder("loader_sizes");
    write_photos(folder.path, 6);
    LoaderOptions options;
    options.batch_size = 6;
    options.threads = 1;
    Loader<ImageFiles> loader(ImageFiles(list_images(folder.path)),
                              [](const FloatImage& image, Rng&) { return image; }, options);
    loader.start_epoch(0);
    CHECK_THROWS_WITH(loader.next(), Catch::Contains("fixed-size crop"));
    CHECK_THROWS_AS(Loader<ImageFiles>(ImageFiles({}), training_transform(16, 12)), usage_error);
    CHECK_THROWS_AS(training_transform(16, 20), usage_error);
}

TEST_CASE("a packed dataset holds the fitted images, in order, byte-identical for any thread count", "[data]") {
    TemporaryFolder folder("pack");
    const fs::path photos = folder / "photos";
    write_photos(photos, 9);
    write_text(photos / "bad.png", "not a png");
    const ImageFiles files(list_images(photos));

    PackOptions options;
    options.size = 8;
    options.threads = 1;
    options.root = photos;
    const PackResult result = pack_dataset(files, folder / "one.pack", options);
    CHECK(result.packed == 9);
    REQUIRE(result.skipped.size() == 1);
    CHECK_THAT(result.skipped[0].reason, Catch::Contains("bad.png"));
    options.threads = 3;
    pack_dataset(files, folder / "three.pack", options);
    CHECK(read_bytes(folder / "one.pack") == read_bytes(folder / "three.pack"));
    CHECK_FALSE(fs::exists(folder / "one.pack.partial"));

    const PackedDataset packed(folder / "one.pack");
    REQUIRE(packed.size() == 9);
    CHECK(packed.width() == 8);
    packed.verify();
    std::size_t readable = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files.path(i).filename() == "bad.png") continue;
        INFO(files.name(i));
        CHECK(packed.name(readable) == files.path(i).lexically_relative(photos).generic_string());
        const Image expected = to_8bit(fit_square(to_rgb(files.load(i)), 8, FitMode::crop));
        const auto bytes = packed.pixels(readable);
        CHECK(std::equal(bytes.begin(), bytes.end(), expected.pixels.begin(), expected.pixels.end()));
        ++readable;
    }
    CHECK(packed.load(0).at(1, 2, 1) == Approx(packed.pixels(0)[(2 * 8 + 1) * 3 + 1] / 255.0f));
    CHECK_THROWS_WITH(pack_dataset(files, folder / "one.pack", options), Catch::Contains("already exists"));
}

TEST_CASE("damaged packed files give errors that say what is wrong", "[data]") {
    TemporaryFolder folder("pack_bad");
    write_photos(folder / "photos", 4);
    PackOptions options;
    options.size = 6;
    pack_dataset(ImageFiles(list_images(folder / "photos")), folder / "good.pack", options);
    const std::string good = read_bytes(folder / "good.pack");

    write_text(folder / "truncated.pack", good.substr(0, good.size() / 2));
    CHECK_THROWS_WITH(PackedDataset(folder / "truncated.pack"), Catch::Contains("truncated.pack") && Catch::Contains("truncated"));
    write_text(folder / "tiny.pack", good.substr(0, 20));
    CHECK_THROWS_WITH(PackedDataset(folder / "tiny.pack"), Catch::Contains("shorter than the 64-byte header"));
    std::string header = good;
    header[20] = static_cast<char>(header[20] ^ 0x40);
    write_text(folder / "header.pack", header);
    CHECK_THROWS_WITH(PackedDataset(folder / "header.pack"), Catch::Contains("damaged header"));
    write_text(folder / "other.pack", read_bytes(list_images(folder / "photos").front()));
    CHECK_THROWS_WITH(PackedDataset(folder / "other.pack"), Catch::Contains("not a packed dataset"));
    std::string pixel = good;
    pixel[100] = static_cast<char>(pixel[100] ^ 1);
    write_text(folder / "pixel.pack", pixel);
    const PackedDataset opened(folder / "pixel.pack");  // the header is fine; verify reads the pixels
    CHECK_THROWS_WITH(opened.verify(), Catch::Contains("damaged pixel data"));
    CHECK_THROWS_WITH(opened.pixels(4), Catch::Contains("has 4 images"));
    CHECK_THROWS_AS(PackedDataset(folder / "absent.pack"), io::file_error);
}

TEST_CASE("an atomic writer that is not committed leaves the target untouched", "[data]") {
    TemporaryFolder folder("atomic");
    write_text(folder / "target.bin", "old");
    {
        io::AtomicFileWriter writer(folder / "target.bin");
        writer.write("new contents");
    }
    CHECK(read_bytes(folder / "target.bin") == "old");
    CHECK_FALSE(fs::exists(folder / "target.bin.partial"));
    {
        io::AtomicFileWriter writer(folder / "target.bin");
        writer.write("new contents");
        const char patch[] = "N";
        writer.write_at(0, patch, 1);
        writer.commit();
    }
    CHECK(read_bytes(folder / "target.bin") == "New contents");
}
