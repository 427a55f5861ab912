// Image I/O beyond 8-bit PNG: 16-bit PNGs at full precision, grey + alpha, JPEG writing, other
// formats, reading from memory, and the pixel limit that refuses an image from its header alone.
#include <catch2/catch.hpp>

#include <chroma/data/image.hpp>
#include <chroma/io/crc32.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temporary_folder.hpp"

using namespace chroma;
using chroma::testing::TemporaryFolder;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures = CHROMA_FIXTURE_DIR;

Image pattern(int width, int height, int channels) {
    Image image{.width = width, .height = height, .channels = channels, .pixels = {}};
    image.pixels.resize(static_cast<std::size_t>(width) * height * channels);
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        image.pixels[i] = static_cast<std::uint8_t>((i * 7 + i / 13 * 29) % 256);
    return image;
}

// A smooth image: JPEG's error on it is small, so a round trip can be checked closely.
Image smooth(int width, int height) {
    Image image{.width = width, .height = height, .channels = 3, .pixels = {}};
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c) image.pixels.push_back(static_cast<std::uint8_t>(40 + x * 2 + y * (c + 1)));
    return image;
}

std::string bytes_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// The 8 signature bytes, an IHDR chunk claiming width x height 8-bit grey, an empty IDAT and
// IEND: a file of 57 bytes that claims an image of any size.
std::vector<std::uint8_t> png_header_only(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (std::uint32_t v : {width, height})
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
    for (std::uint8_t b : {8, 0, 0, 0, 0}) out.push_back(b);
    auto end_chunk = [&](std::size_t start) {
        const std::uint32_t crc = io::crc32(out.data() + start, out.size() - start);
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(crc >> shift));
    };
    end_chunk(12);
    for (const char* kind : {"IDAT", "IEND"}) {
        for (int i = 0; i < 4; ++i) out.push_back(0);
        const std::size_t start = out.size();
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(kind[i]));
        end_chunk(start);
    }
    return out;
}

}  // namespace

TEST_CASE("16-bit PNGs load at full precision as floats and rounded as 8-bit", "[image]") {
    const FloatImage gray = load_image_float(fixtures / "gray16_4x3.png");
    REQUIRE(gray.width == 4);
    REQUIRE(gray.height == 3);
    REQUIRE(gray.channels == 1);
    CHECK(gray.at(1, 0, 0) == Approx(1.0 / 65535).epsilon(1e-6));
    CHECK(gray.at(2, 0, 0) == Approx(256.0 / 65535).epsilon(1e-6));
    CHECK(gray.at(3, 0, 0) == 1.0f);
    CHECK(gray.at(1, 2, 0) == Approx(54321.0 / 65535).epsilon(1e-6));
    CHECK(read_image_info(fixtures / "gray16_4x3.png").bits_per_channel == 16);

    const FloatImage rgb = load_image_float(fixtures / "rgb16_2x2.png");
    REQUIRE(rgb.channels == 3);
    CHECK(rgb.at(0, 0, 1) == Approx(100.0 / 65535).epsilon(1e-6));
    CHECK(rgb.at(0, 1, 0) == Approx(32768.0 / 65535).epsilon(1e-6));
    CHECK(rgb.at(1, 1, 2) == Approx(60000.0 / 65535).epsilon(1e-6));
    const Image eight = load_image(fixtures / "rgb16_2x2.png");
    CHECK(eight.at(1, 1, 2) == 234);  // stb keeps the high byte: 60000 >> 8
    CHECK(eight.at(0, 0, 2) == 255);

    const FloatImage gray_alpha = load_image_float(fixtures / "gray_alpha16_2x1.png");
    REQUIRE(gray_alpha.channels == 2);
    CHECK(gray_alpha.at(0, 0, 1) == 1.0f);
    CHECK(gray_alpha.at(1, 0, 0) == Approx(60000.0 / 65535).epsilon(1e-6));
    CHECK(gray_alpha.at(1, 0, 1) == 0.0f);
    const FloatImage as_rgba = load_image_float(fixtures / "gray_alpha16_2x1.png", 4);
    CHECK(as_rgba.at(1, 0, 2) == Approx(60000.0 / 65535).epsilon(1e-6));
    CHECK(as_rgba.at(1, 0, 3) == 0.0f);
}

TEST_CASE("grey + alpha, BMP and TGA files round trip; float and 8-bit convert exactly", "[image]") {
    TemporaryFolder folder("image_io");
    const Image gray_alpha = pattern(5, 4, 2);
    save_png(folder / "ga.png", gray_alpha);
    const Image back = load_image(folder / "ga.png");
    CHECK(back.channels == 2);
    CHECK(back.pixels == gray_alpha.pixels);
    CHECK(read_image_info(folder / "ga.png").channels == 2);

    const Image rgb = pattern(6, 3, 3);
    REQUIRE(stbi_write_bmp((folder / "x.bmp").c_str(), 6, 3, 3, rgb.pixels.data()));
    REQUIRE(stbi_write_tga((folder / "x.tga").c_str(), 6, 3, 3, rgb.pixels.data()));
    CHECK(load_image(folder / "x.bmp").pixels == rgb.pixels);
    CHECK(load_image(folder / "x.tga").pixels == rgb.pixels);

    CHECK(to_8bit(to_float(rgb)).pixels == rgb.pixels);
    FloatImage odd{.width = 3, .height = 1, .channels = 1, .values = {-0.5f, 0.5f, 2.0f}};
    CHECK(to_8bit(odd).pixels == std::vector<std::uint8_t>{0, 128, 255});
}

TEST_CASE("JPEG writing: close round trip, quality trades size, alpha is dropped", "[image]") {
    TemporaryFolder folder("jpeg");
    const Image image = smooth(32, 24);
    save_jpeg(folder / "high.jpg", image, 95);
    save_jpeg(folder / "low.jpg", image, 20);
    const Image back = load_image(folder / "high.jpg");
    REQUIRE(back.pixels.size() == image.pixels.size());
    double error = 0;
    for (std::size_t i = 0; i < image.pixels.size(); ++i) error += std::abs(back.pixels[i] - image.pixels[i]);
    CHECK(error / static_cast<double>(image.pixels.size()) < 2.0);
    CHECK(fs::file_size(folder / "low.jpg") < fs::file_size(folder / "high.jpg"));

    Image rgba = pattern(8, 8, 4);
    save_image(folder / "rgba.JPEG", rgba);
    CHECK(load_image(folder / "rgba.JPEG").channels == 3);
    save_image(folder / "rgba.png", rgba);
    CHECK(load_image(folder / "rgba.png").pixels == rgba.pixels);
    CHECK_THROWS_WITH(save_image(folder / "x.webp", rgba), Catch::Contains("x.webp") && Catch::Contains(".png"));
    CHECK_THROWS_AS(save_jpeg(folder / "q.jpg", rgba, 0), usage_error);
}

TEST_CASE("images over the pixel limit are refused from the header, before decoding", "[image]") {
    TemporaryFolder folder("limit");
    save_png(folder / "small.png", pattern(10, 10, 3));
    CHECK_THROWS_AS(load_image(folder / "small.png", 0, ImageLimits{.max_pixels = 99}), image_too_large_error);
    CHECK_THROWS_WITH(load_image_float(folder / "small.png", 0, ImageLimits{.max_pixels = 99}),
                      Catch::Contains("small.png") && Catch::Contains("10 x 10") && Catch::Contains("max_pixels"));
    CHECK(load_image(folder / "small.png", 0, ImageLimits{.max_pixels = 100}).width == 10);

    // A 57-byte file claiming 20000 x 20000 (4e8 pixels, over the default 2^28): refused as too
    // large from its header, never decoded.
    const auto bomb = png_header_only(20000, 20000);
    std::ofstream(folder / "bomb.png", std::ios::binary).write(reinterpret_cast<const char*>(bomb.data()),
                                                              static_cast<std::streamsize>(bomb.size()));
    CHECK(read_image_info(folder / "bomb.png").width == 20000);
    CHECK_THROWS_WITH(load_image(folder / "bomb.png"), Catch::Contains("bomb.png") && Catch::Contains("20000 x 20000"));
    CHECK_THROWS_AS(load_image_float(folder / "bomb.png"), image_too_large_error);
    CHECK_THROWS_AS(load_image_from_memory(bomb, "bomb in memory"), image_too_large_error);
    // 100000 x 100000 is past stb's own bound (2^30 bytes): still too large, not "damaged".
    CHECK_THROWS_AS(load_image_from_memory(png_header_only(100000, 100000), "huge"), image_too_large_error);
    // Within the limit but without data: damaged.
    const auto empty = png_header_only(4, 4);
    CHECK_THROWS_AS(load_image_from_memory(empty, "header only"), corrupt_image_error);
}

TEST_CASE("decoding from memory gives the file's pixels; bad bytes name the source", "[image]") {
    TemporaryFolder folder("memory");
    const Image image = pattern(7, 5, 3);
    save_png(folder / "m.png", image);
    const std::string file = bytes_of(folder / "m.png");
    const std::vector<std::uint8_t> bytes(file.begin(), file.end());
    CHECK(load_image_from_memory(bytes, "m.png").pixels == image.pixels);
    CHECK(load_image_from_memory(bytes, "m.png", 1).channels == 1);
    const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
    CHECK_THROWS_WITH(load_image_from_memory(text, "archive/member.jpg"), Catch::Contains("archive/member.jpg"));
    CHECK_THROWS_AS(load_image_from_memory({}, "nothing"), corrupt_image_error);

    // A truncated PNG (half its bytes) from a file: damaged, naming the file.
    std::ofstream(folder / "half.png", std::ios::binary) << file.substr(0, file.size() / 2);
    CHECK_THROWS_AS(load_image(folder / "half.png"), corrupt_image_error);
    CHECK_THROWS_WITH(load_image_float(folder / "half.png"), Catch::Contains("half.png"));
    CHECK_THROWS_AS(read_image_info(folder / "absent.png"), image_not_found_error);
}
