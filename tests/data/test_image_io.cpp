// Image I/O beyond 8-bit PNG: 16-bit PNGs at full precision, grey + alpha, BMP and TGA, and
// decoding from memory. (JPEG writing and the pixel limit are in tests/color/test_image.cpp.)
#include <catch2/catch.hpp>

#include <chroma/data/image.hpp>

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

std::string bytes_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
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

TEST_CASE("inputs the fuzzers found are refused with a reason, never decoded into memory errors", "[image]") {
    // fuzz/fuzz_image: a JPEG whose Huffman table counts add up to more than 256 codes, which
    // stb_image would write past its 257-byte table (UBSan: index 257 out of bounds).
    const fs::path huffman = fixtures / "fuzz" / "jpeg_huffman_overflow.jpg";
    CHECK_THROWS_WITH(load_image(huffman), Catch::Contains("jpeg_huffman_overflow.jpg") && Catch::Contains("Huffman table") &&
                                               Catch::Contains("at most 256"));
    std::ifstream in(huffman, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THROWS_AS(load_image_float_from_memory(bytes, "memory", 3), image_error);
    CHECK(jpeg_huffman_table_problem(bytes).has_value());
    // The same fault reached through the size probe (stbi_info builds the tables before the
    // frame header), from memory and from a file.
    const fs::path in_probe = fixtures / "fuzz" / "jpeg_huffman_overflow_in_probe.jpg";
    CHECK_THROWS_WITH(read_image_info(in_probe), Catch::Contains("jpeg_huffman_overflow_in_probe.jpg") &&
                                                      Catch::Contains("Huffman table"));
    CHECK_THROWS_WITH(load_image(in_probe), Catch::Contains("Huffman table"));
    // And after 0xFF fill bytes before the SOI marker, which stb accepts.
    CHECK_THROWS_WITH(load_image(fixtures / "fuzz" / "jpeg_huffman_overflow_after_fill.jpg"),
                      Catch::Contains("Huffman table"));

    // A valid JPEG passes the check, baseline or progressive, and so do bytes that are no JPEG.
    chroma::testing::TemporaryFolder folder("fuzz_regressions");
    Image image{.width = 16, .height = 8, .channels = 3, .pixels = std::vector<std::uint8_t>(16 * 8 * 3, 90)};
    save_jpeg(folder / "fine.jpg", image);
    std::ifstream fine_in(folder / "fine.jpg", std::ios::binary);
    const std::vector<std::uint8_t> fine((std::istreambuf_iterator<char>(fine_in)), std::istreambuf_iterator<char>());
    CHECK_FALSE(jpeg_huffman_table_problem(fine).has_value());
    CHECK(load_image(folder / "fine.jpg").width == 16);
    // Progressive (tests/fixtures/progressive.jpg, written by PIL): Huffman tables between scans.
    std::ifstream progressive_in(fixtures / "progressive.jpg", std::ios::binary);
    const std::vector<std::uint8_t> progressive((std::istreambuf_iterator<char>(progressive_in)),
                                                std::istreambuf_iterator<char>());
    std::size_t tables = 0;
    for (std::size_t i = 0; i + 1 < progressive.size(); ++i) tables += progressive[i] == 0xFF && progressive[i + 1] == 0xC4;
    CHECK(tables > 1);
    CHECK_FALSE(jpeg_huffman_table_problem(progressive).has_value());
    CHECK(load_image(fixtures / "progressive.jpg").width == 24);
    const std::vector<std::uint8_t> png_magic{0x89, 'P', 'N', 'G'};
    CHECK_FALSE(jpeg_huffman_table_problem(png_magic).has_value());
}

TEST_CASE("a PNG whose chunk runs past the end of the file is refused before stb sizes a buffer by it", "[image]") {
    // fuzz/fuzz_image: 188 bytes whose second IDAT chunk declares 1,117,061,197 bytes; stb_image
    // doubled its data buffer to 2 GiB to fit it before reading a byte of it.
    const fs::path huge = fixtures / "fuzz" / "png_huge_idat_chunk.png";
    CHECK_THROWS_WITH(load_image(huge), Catch::Contains("png_huge_idat_chunk.png") && Catch::Contains("IDAT chunk at byte 122") &&
                                            Catch::Contains("declares 1117061197 bytes") &&
                                            Catch::Contains("only 58 bytes follow"));
    // Reading the header alone reads no chunk data, so it still says what the header says.
    CHECK(read_image_info(huge).width == 5);
    CHECK_THROWS_AS(load_image_float(huge), corrupt_image_error);

    // A whole PNG passes, with or without bytes after IEND (stb ignores them, so does the check).
    chroma::testing::TemporaryFolder folder("png_chunks");
    Image image{.width = 7, .height = 5, .channels = 3, .pixels = std::vector<std::uint8_t>(7 * 5 * 3, 40)};
    save_png(folder / "fine.png", image);
    std::ifstream in(folder / "fine.png", std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_FALSE(png_chunk_problem(bytes).has_value());
    std::vector<std::uint8_t> trailing = bytes;
    trailing.insert(trailing.end(), {0xFF, 0xFF, 0xFF, 0xFF, 'j', 'u', 'n', 'k'});
    CHECK_FALSE(png_chunk_problem(trailing).has_value());
    CHECK(load_image_from_memory(trailing, "trailing.png").pixels == image.pixels);
    // Cut inside its IDAT chunk: refused by the check, naming the chunk.
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 20);
    const auto problem = png_chunk_problem(cut);
    REQUIRE(problem.has_value());
    CHECK_THAT(*problem, Catch::Contains("IDAT chunk"));
    CHECK_THROWS_WITH(load_image_from_memory(cut, "cut.png"), Catch::Contains("cut.png") && Catch::Contains("IDAT"));
    // Not a PNG: nothing to say.
    CHECK_FALSE(png_chunk_problem(std::vector<std::uint8_t>{0xFF, 0xD8, 0xFF}).has_value());
}
