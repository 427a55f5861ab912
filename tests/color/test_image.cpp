// Image files on stb: PNG round trips, channel conversion on load, JPEG decoding and writing,
// headers read without decoding, the pixel limit, float images, and errors that name the file. A second translation unit (image_second_unit.cpp) includes the same header, so
// linking this test also checks that the header-only stb setup gives no duplicate symbols.
#include <catch2/catch.hpp>

#include <chroma/data/image.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace chroma;
namespace fs = std::filesystem;

// Defined in image_second_unit.cpp: loads through that translation unit's copy of stb.
Image load_image_in_second_unit(const fs::path& path);

namespace {

// A fresh folder under the system's temporary directory, removed at the end of the test.
struct TemporaryFolder {
    fs::path path;
    TemporaryFolder() {
        path =
            fs::temp_directory_path() / ("chroma_image_test_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TemporaryFolder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

Image gradient(int width, int height, int channels) {
    Image image{.width = width, .height = height, .channels = channels, .pixels = {}};
    image.pixels.resize(static_cast<std::size_t>(width * height * channels));
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < channels; ++c)
                image.at(x, y, c) = static_cast<std::uint8_t>((x * 37 + y * 11 + c * 80) % 256);
    return image;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A PNG signature and an IHDR chunk claiming width x height 8-bit RGB, and nothing else (stb
// does not check chunk CRCs, so they are left zero).
std::string png_claiming(std::uint32_t width, std::uint32_t height) {
    std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (std::uint32_t v : {width, height})
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((v >> shift) & 0xff));
    bytes += std::string("\x08\x02\0\0\0\0\0\0\0", 9);  // depth 8, RGB, methods 0, CRC
    return bytes;
}

}  // namespace

TEST_CASE("PNG files come back exactly as saved, in 1 to 4 channels") {
    TemporaryFolder folder;
    for (int channels = 1; channels <= 4; ++channels) {
        const Image image = gradient(13, 7, channels);
        const fs::path file = folder.path / ("gradient" + std::to_string(channels) + ".png");
        save_png(file, image);
        const Image loaded = load_image(file);
        CHECK(loaded.width == 13);
        CHECK(loaded.height == 7);
        CHECK(loaded.channels == channels);
        CHECK(loaded.pixels == image.pixels);
        CHECK(load_image_in_second_unit(file).pixels == image.pixels);
    }
}

TEST_CASE("Loading converts to the channels asked for") {
    TemporaryFolder folder;
    const Image grey = gradient(5, 4, 1);
    save_png(folder.path / "grey.png", grey);
    const Image rgb = load_image(folder.path / "grey.png", 3);
    REQUIRE(rgb.channels == 3);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 5; ++x)
            for (int c = 0; c < 3; ++c) REQUIRE(rgb.at(x, y, c) == grey.at(x, y, 0));

    save_png(folder.path / "rgba.png", gradient(5, 4, 4));
    const Image without_alpha = load_image(folder.path / "rgba.png", 3);
    CHECK(without_alpha.channels == 3);
    CHECK(without_alpha.at(2, 1, 2) == gradient(5, 4, 4).at(2, 1, 2));
    CHECK_THROWS_AS(load_image(folder.path / "rgba.png", 5), usage_error);
}

TEST_CASE("JPEG files decode close to what was encoded") {
    TemporaryFolder folder;
    Image flat{.width = 32, .height = 16, .channels = 3, .pixels = {}};
    for (int i = 0; i < 32 * 16; ++i) flat.pixels.insert(flat.pixels.end(), {200, 120, 40});
    const fs::path file = folder.path / "flat.jpg";
    REQUIRE(stbi_write_jpg(file.string().c_str(), 32, 16, 3, flat.pixels.data(), 95) != 0);
    const Image loaded = load_image(file);
    REQUIRE(loaded.width == 32);
    REQUIRE(loaded.height == 16);
    REQUIRE(loaded.channels == 3);
    for (std::size_t i = 0; i < loaded.pixels.size(); ++i)
        REQUIRE(std::abs(int(loaded.pixels[i]) - int(flat.pixels[i])) <= 4);
}

TEST_CASE("Files that cannot be read raise errors naming the file") {
    TemporaryFolder folder;
    const fs::path missing = folder.path / "missing.png";
    CHECK_THROWS_AS(load_image(missing), image_not_found_error);
    CHECK_THROWS_WITH(load_image(missing), Catch::Contains(missing.string()) && Catch::Contains("does not exist"));

    const fs::path text = folder.path / "notes.png";
    write_bytes(text, "these are not the pixels you are looking for");
    CHECK_THROWS_AS(load_image(text), unsupported_image_error);
    CHECK_THROWS_WITH(load_image(text), Catch::Contains(text.string()));

    save_png(folder.path / "whole.png", gradient(40, 40, 3));
    std::ifstream in(folder.path / "whole.png", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const fs::path truncated = folder.path / "truncated.png";
    write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_AS(load_image(truncated), corrupt_image_error);
    CHECK_THROWS_WITH(load_image(truncated), Catch::Contains(truncated.string()) && Catch::Contains("damaged"));

    const fs::path empty = folder.path / "empty.jpg";
    write_bytes(empty, "");
    CHECK_THROWS_AS(load_image(empty), corrupt_image_error);
    CHECK_THROWS_AS(load_image(folder.path), image_error);

    // Every one of them is a chroma::error.
    CHECK_THROWS_AS(load_image(missing), chroma::error);
}

TEST_CASE("Saving names the file it cannot write and rejects inconsistent images") {
    TemporaryFolder folder;
    const fs::path nowhere = folder.path / "no_such_folder" / "out.png";
    CHECK_THROWS_AS(save_png(nowhere, gradient(2, 2, 3)), image_error);
    CHECK_THROWS_WITH(save_png(nowhere, gradient(2, 2, 3)), Catch::Contains("does not exist"));

    Image short_pixels = gradient(4, 4, 3);
    short_pixels.pixels.pop_back();
    CHECK_THROWS_WITH(save_png(folder.path / "a.png", short_pixels), Catch::Contains("needs 48 bytes, it has 47"));
    CHECK_THROWS_AS(save_png(folder.path / "b.png", Image{}), usage_error);
    CHECK_THROWS_AS(gradient(2, 2, 3).at(2, 0, 0), usage_error);
}

TEST_CASE("Headers are read without decoding; float loads match the 8-bit ones") {
    TemporaryFolder folder;
    save_png(folder.path / "ga.png", gradient(9, 5, 2));
    const ImageInfo info = read_image_info(folder.path / "ga.png");
    CHECK(info.width == 9);
    CHECK(info.height == 5);
    CHECK(info.channels == 2);
    CHECK(info.bits_per_channel == 8);
    save_jpeg(folder.path / "x.jpg", gradient(9, 5, 3));
    CHECK(read_image_info(folder.path / "x.jpg").channels == 3);

    const Image eight = load_image(folder.path / "ga.png");
    const FloatImage floats = load_image_float(folder.path / "ga.png");
    REQUIRE(floats.channels == 2);
    REQUIRE(floats.pixel_count() == 45);
    CHECK(floats.values == to_float(eight).values);
    CHECK(floats.at(3, 2, 1) == Approx(eight.at(3, 2, 1) / 255.0));
    CHECK(to_8bit(floats).pixels == eight.pixels);
    const FloatImage grey = load_image_float(folder.path / "ga.png", 1);  // alpha dropped on load
    CHECK(grey.channels == 1);
    CHECK(grey.at(8, 4, 0) == Approx(eight.at(8, 4, 0) / 255.0));
    CHECK_THROWS_AS(floats.at(9, 0, 0), usage_error);
    CHECK_THROWS_AS(load_image_float(folder.path / "ga.png", -1), usage_error);
}

TEST_CASE("to_8bit clamps, rounds to the nearest code and reads NaN as 0") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const FloatImage image{.width = 7, .height = 1, .channels = 1,
                           .values = {nan, -1.0f, 0.4f / 255, 0.6f / 255, 100.4f / 255, 254.6f / 255, 7.0f}};
    CHECK(to_8bit(image).pixels == std::vector<std::uint8_t>{0, 0, 0, 1, 100, 255, 255});
    FloatImage short_values = image;
    short_values.values.pop_back();
    CHECK_THROWS_WITH(to_8bit(short_values), Catch::Contains("needs 7 values, it has 6"));
}

TEST_CASE("JPEG writing drops alpha, stores grey as equal RGB, and trades size for quality") {
    TemporaryFolder folder;
    Image textured = gradient(48, 32, 3);
    save_jpeg(folder.path / "q95.jpg", textured, 95);
    save_jpeg(folder.path / "q30.jpg", textured, 30);
    CHECK(fs::file_size(folder.path / "q30.jpg") < fs::file_size(folder.path / "q95.jpg"));
    // A grey ramp with alpha: the alpha is dropped, the grey comes back in all three channels.
    Image grey_alpha{.width = 16, .height = 16, .channels = 2, .pixels = {}};
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) grey_alpha.pixels.insert(grey_alpha.pixels.end(), {std::uint8_t(60 + 8 * x), 7});
    save_jpeg(folder.path / "ga.jpg", grey_alpha, 95);
    const Image back = load_image(folder.path / "ga.jpg");
    REQUIRE(back.channels == 3);
    double error = 0;
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
            for (int c = 0; c < 3; ++c) error += std::abs(back.at(x, y, c) - grey_alpha.at(x, y, 0));
    CHECK(error / (16 * 16 * 3) < 2.0);
    CHECK_THROWS_AS(save_jpeg(folder.path / "q.jpg", textured, 101), usage_error);
    CHECK_THROWS_WITH(save_jpeg(folder.path / "none" / "q.jpg", textured), Catch::Contains("does not exist"));

    // save_image picks the format from the extension, in any case.
    save_image(folder.path / "upper.PNG", textured);
    CHECK(load_image(folder.path / "upper.PNG").pixels == textured.pixels);
    save_image(folder.path / "upper.Jpg", textured);
    CHECK(read_bytes(folder.path / "upper.Jpg").substr(0, 3) == "\xff\xd8\xff");
    CHECK_THROWS_AS(save_image(folder.path / "x.gif", textured), usage_error);
    CHECK_THROWS_WITH(save_image(folder.path / "noextension", textured),
                      Catch::Contains("noextension") && Catch::Contains(".jpeg"));
}

TEST_CASE("Truncated, empty and non-image files, and folders, are errors naming the file, for every loader") {
    TemporaryFolder folder;
    save_jpeg(folder.path / "whole.jpg", gradient(40, 30, 3), 90);
    const std::string jpeg = read_bytes(folder.path / "whole.jpg");
    // Right after the JPEG header (SOI and the 18-byte JFIF segment), and cut in half.
    for (const std::size_t keep : {std::size_t{20}, jpeg.size() / 2}) {
        const fs::path cut = folder.path / ("cut" + std::to_string(keep) + ".jpg");
        write_bytes(cut, jpeg.substr(0, keep));
        CHECK_THROWS_AS(load_image(cut), corrupt_image_error);
        CHECK_THROWS_WITH(load_image_float(cut), Catch::Contains(cut.string()) && Catch::Contains("truncated JPEG"));
        const std::vector<std::uint8_t> bytes(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(keep));
        CHECK_THROWS_WITH(load_image_from_memory(bytes, "member.jpg"), Catch::Contains("member.jpg"));
    }
    CHECK_THROWS_AS(read_image_info(folder.path / "cut20.jpg"), corrupt_image_error);

    const fs::path text = folder.path / "readme.jpg";
    write_bytes(text, "plain words, no pixels");
    for (const auto& load : {+[](const fs::path& p) { (void)load_image(p); },
                             +[](const fs::path& p) { (void)load_image_float(p); },
                             +[](const fs::path& p) { (void)read_image_info(p); }}) {
        CHECK_THROWS_AS(load(text), unsupported_image_error);
        CHECK_THROWS_WITH(load(text), Catch::Contains(text.string()));
        CHECK_THROWS_AS(load(folder.path), image_error);
        CHECK_THROWS_WITH(load(folder.path), Catch::Contains(folder.path.string()) && Catch::Contains("not a file"));
        write_bytes(folder.path / "empty.png", "");
        CHECK_THROWS_WITH(load(folder.path / "empty.png"), Catch::Contains("empty.png") && Catch::Contains("empty"));
        CHECK_THROWS_AS(load(folder.path / "gone.png"), image_not_found_error);
    }
}

TEST_CASE("The pixel limit refuses images from their header, before any decoding") {
    TemporaryFolder folder;
    save_png(folder.path / "twelve.png", gradient(4, 3, 3));
    const ImageLimits eleven{.max_pixels = 11};
    CHECK_THROWS_AS(load_image(folder.path / "twelve.png", 0, eleven), image_too_large_error);
    CHECK_THROWS_WITH(load_image(folder.path / "twelve.png", 0, eleven),
                      Catch::Contains("twelve.png") && Catch::Contains("4 x 3") && Catch::Contains("limit of 11") &&
                          Catch::Contains("ImageLimits"));
    CHECK(load_image_float(folder.path / "twelve.png", 0, ImageLimits{.max_pixels = 12}).width == 4);
    const std::string png = read_bytes(folder.path / "twelve.png");
    const std::vector<std::uint8_t> bytes(png.begin(), png.end());
    CHECK_THROWS_AS(load_image_from_memory(bytes, "twelve in memory", 3, eleven), image_too_large_error);
    CHECK(load_image_from_memory(bytes, "twelve in memory", 3).pixels == gradient(4, 3, 3).pixels);
    // JPEG headers too (stb reads their size from the frame header).
    save_jpeg(folder.path / "twelve.jpg", gradient(4, 3, 3));
    CHECK_THROWS_AS(load_image(folder.path / "twelve.jpg", 0, eleven), image_too_large_error);

    // A 33-byte file whose header claims 100000 x 100000: too large, and neither a crash nor an
    // attempt to allocate 30 GB. read_image_info, which has no limit, says stb cannot decode it.
    const fs::path huge = folder.path / "huge.png";
    write_bytes(huge, png_claiming(100000, 100000));
    CHECK_THROWS_AS(load_image(huge), image_too_large_error);
    CHECK_THROWS_WITH(load_image_float(huge), Catch::Contains("huge.png") && Catch::Contains("100000 x 100000"));
    CHECK_THROWS_AS(read_image_info(huge), image_too_large_error);
    // A header of zero pixels is damage, not an empty image.
    write_bytes(folder.path / "zero.png", png_claiming(0, 7));
    CHECK_THROWS_AS(load_image(folder.path / "zero.png"), corrupt_image_error);
    CHECK_THROWS_WITH(read_image_info(folder.path / "zero.png"), Catch::Contains("zero.png") && Catch::Contains("0 x 7"));
}

TEST_CASE("An empty data chunk in a PNG changes nothing (and gives stb no null pointer to copy to)") {
    TemporaryFolder folder;
    const Image image = gradient(6, 5, 3);
    save_png(folder.path / "plain.png", image);
    std::string png = read_bytes(folder.path / "plain.png");
    // After the signature (8 bytes) and IHDR (25): an IDAT of length 0 with its CRC.
    png.insert(33, std::string("\0\0\0\0IDAT\x35\xaf\x06\x1e", 12));
    write_bytes(folder.path / "empty_idat.png", png);
    CHECK(load_image(folder.path / "empty_idat.png").pixels == image.pixels);
    CHECK(to_8bit(load_image_float(folder.path / "empty_idat.png")).pixels == image.pixels);
}
