#pragma once
// Image files: load what stb_image reads (PNG, JPEG, BMP, TGA, GIF, PSD, HDR, PNM) as 8-bit
// interleaved pixels, and save PNG.
//
// Header-only use of stb: its implementation is compiled into each translation unit that
// includes this header with internal linkage (STB_IMAGE_STATIC, STB_IMAGE_WRITE_STATIC), so any
// number of translation units can include it without duplicate symbols. The two functions that
// call stb are `static inline` for the same reason: each translation unit has its own copy,
// calling its own stb, which keeps the one-definition rule. A program that uses stb itself should
// include stb_image.h / stb_image_write.h (with its own settings) before this header; Chroma then
// uses those declarations and the program provides the implementation, as stb documents.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"

#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#if __has_include(<stb/stb_image.h>)
#include <stb/stb_image.h>  // Debian, Ubuntu, Fedora
#else
#include <stb_image.h>  // vcpkg, Homebrew, a copy beside the program
#endif
#undef STB_IMAGE_IMPLEMENTATION
#endif

#if !defined(INCLUDE_STB_IMAGE_WRITE_H)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if __has_include(<stb/stb_image_write.h>)
#include <stb/stb_image_write.h>
#else
#include <stb_image_write.h>
#endif
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#endif

namespace chroma {

/// An image file could not be read or written. The message names the file.
class image_error : public error {
public:
    using error::error;
};
/// The file does not exist.
class image_not_found_error : public image_error {
public:
    using image_error::image_error;
};
/// The file is in a format the loader does not read.
class unsupported_image_error : public image_error {
public:
    using image_error::image_error;
};
/// The file claims a format it reads but its contents are damaged or truncated.
class corrupt_image_error : public image_error {
public:
    using image_error::image_error;
};

/// 8-bit pixels, interleaved (RGBRGB... for 3 channels), rows top to bottom.
struct Image {
    int width = 0;
    int height = 0;
    int channels = 0;  // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    std::vector<std::uint8_t> pixels;

    bool empty() const noexcept { return pixels.empty(); }
    /// Checked access to one channel of one pixel.
    std::uint8_t& at(int x, int y, int channel) { return pixels.at(index(x, y, channel)); }
    std::uint8_t at(int x, int y, int channel) const { return pixels.at(index(x, y, channel)); }

private:
    std::size_t index(int x, int y, int channel) const {
        if (x < 0 || x >= width || y < 0 || y >= height || channel < 0 || channel >= channels)
            throw usage_error("pixel (" + std::to_string(x) + ", " + std::to_string(y) + ") channel " +
                              std::to_string(channel) + " is outside a " + std::to_string(width) + " x " +
                              std::to_string(height) + " image of " + std::to_string(channels) + " channels");
        return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
                   static_cast<std::size_t>(channels) +
               static_cast<std::size_t>(channel);
    }
};

/// Loads an image file as 8-bit pixels. `channels` 0 keeps the file's channel count; 1 to 4
/// converts (3 gives RGB whatever the file holds: grey is repeated, alpha dropped).
/// Throws image_not_found_error, unsupported_image_error or corrupt_image_error naming the file.
static inline Image load_image(const std::filesystem::path& path, int channels = 0) {
    if (channels < 0 || channels > 4)
        throw usage_error("load_image: channels must be 0 (as stored) or 1 to 4, got " + std::to_string(channels));
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw image_not_found_error("image file '" + name + "' does not exist");
    if (!std::filesystem::is_regular_file(path, ec)) throw image_error("'" + name + "' is not a file");
    if (std::filesystem::file_size(path, ec) == 0) throw corrupt_image_error("image file '" + name + "' is empty");

    int width = 0, height = 0, stored = 0;
    stbi_uc* data = stbi_load(name.c_str(), &width, &height, &stored, channels);
    if (!data) {
        const std::string_view reason = stbi_failure_reason() ? stbi_failure_reason() : "unknown";
        if (reason == "unknown image type")
            throw unsupported_image_error("image file '" + name + "' is in a format that cannot be read (" +
                                          "PNG, JPEG, BMP, TGA, GIF, PSD, HDR and PNM are)");
        if (reason == "can't fopen") throw image_error("image file '" + name + "' cannot be opened");
        throw corrupt_image_error("image file '" + name + "' is damaged or truncated (" + std::string(reason) + ")");
    }
    Image image{.width = width, .height = height, .channels = channels ? channels : stored, .pixels = {}};
    image.pixels.assign(data, data + static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                         static_cast<std::size_t>(image.channels));
    stbi_image_free(data);
    return image;
}

/// Writes an image as PNG. Throws usage_error for an image whose sizes and pixels disagree,
/// image_error naming the file when it cannot be written.
static inline void save_png(const std::filesystem::path& path, const Image& image) {
    const std::string name = path.string();
    if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4)
        throw usage_error("save_png('" + name + "'): an image needs a positive size and 1 to 4 channels, got " +
                          std::to_string(image.width) + " x " + std::to_string(image.height) + " x " +
                          std::to_string(image.channels));
    const std::size_t expected = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) *
                                 static_cast<std::size_t>(image.channels);
    if (image.pixels.size() != expected)
        throw usage_error("save_png('" + name + "'): a " + std::to_string(image.width) + " x " +
                          std::to_string(image.height) + " x " + std::to_string(image.channels) + " image needs " +
                          std::to_string(expected) + " bytes, it has " + std::to_string(image.pixels.size()));
    if (!stbi_write_png(name.c_str(), image.width, image.height, image.channels, image.pixels.data(),
                        image.width * image.channels)) {
        const auto folder = path.parent_path();
        std::error_code ec;
        if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
            throw image_error("cannot write '" + name + "': the folder '" + folder.string() + "' does not exist");
        throw image_error("cannot write '" + name + "'");
    }
}

}  // namespace chroma
