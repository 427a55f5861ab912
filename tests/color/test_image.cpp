// Image files on stb: PNG round trips, channel conversion on load, JPEG decoding, and errors that
// name the file. A second translation unit (image_second_unit.cpp) includes the same header, so
// linking this test also checks that the header-only stb setup gives no duplicate symbols.
#include <catch2/catch.hpp>

#include <chroma/data/image.hpp>

#include <cstdint>
#include <cstdlib>
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
