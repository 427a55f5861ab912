#pragma once
// Image files: load what stb_image reads (PNG, JPEG, BMP, TGA, GIF, PSD, HDR, PNM) as 8-bit
// interleaved pixels (Image) or as floats in [0, 1] keeping 16-bit PNGs' precision (FloatImage),
// from a file or from bytes in memory; save PNG or JPEG.
// JPEGs are returned upright, turned as their EXIF orientation says (exif_orientation.hpp).
//
// Every load first reads the header and refuses an image larger than ImageLimits::max_pixels
// before anything is decoded, so a damaged or hostile header cannot ask for gigabytes. Every
// failure is an image_error naming the file (or the name given for bytes in memory).
//
// Header-only use of stb: its implementation is compiled into each translation unit that
// includes this header with internal linkage (STB_IMAGE_STATIC, STB_IMAGE_WRITE_STATIC), so any
// number of translation units can include it without duplicate symbols. The functions that call
// stb, and those that call them, are `static inline` for the same reason: each translation unit
// has its own copy, calling its own stb, which keeps the one-definition rule. A program that uses
// stb itself should include stb_image.h / stb_image_write.h (with its own settings) before this
// header; Chroma then uses those declarations and the program provides the implementation, as stb
// documents.
#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "exif_orientation.hpp"
#include "jpeg_huffman_check.hpp"
#include "png_chunk_check.hpp"

#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
// Debian 12's stb_image (2.27) shifts an unsigned int by more than 31 bits when a JPEG's scan
// ends before its last block: stbi__grow_buffer_unsafe runs with code_bits below zero (stb 2.28
// stops there and returns zeros). On x86 the shift count is masked, so such an already corrupt
// JPEG decodes to garbage pixels, but UBSan reports it. clang's sanitizer builds (the fuzzers)
// leave stb's own functions out of the shift check so that they keep checking everything else;
// the lasting fix is a newer stb or another JPEG decoder.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift"))), apply_to = function)
#endif
#if __has_include(<stb/stb_image.h>)
#include <stb/stb_image.h>  // Debian, Ubuntu, Fedora
#else
#include <stb_image.h>  // vcpkg, Homebrew, a copy beside the program
#endif
#if defined(__clang__)
#pragma clang attribute pop
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
/// The header claims more pixels than ImageLimits allows; nothing was decoded.
class image_too_large_error : public image_error {
public:
    using image_error::image_error;
};

/// How large an image a load accepts. The default, 2^28 pixels (16384 x 16384), decodes to at
/// most 1 GiB of RGBA bytes (4 GiB as floats); raise it for larger photos.
struct ImageLimits {
    std::uint64_t max_pixels = 268435456;
};

/// What a file's header says, read without decoding the pixels.
struct ImageInfo {
    int width = 0;
    int height = 0;
    int channels = 0;          // as stored: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    int bits_per_channel = 8;  // 16 for 16-bit PNG and PSD, 8 for everything else stb reads
};

namespace detail {
inline std::size_t pixel_index(int x, int y, int channel, int width, int height, int channels) {
    if (x < 0 || x >= width || y < 0 || y >= height || channel < 0 || channel >= channels)
        throw usage_error("pixel (" + std::to_string(x) + ", " + std::to_string(y) + ") channel " +
                          std::to_string(channel) + " is outside a " + std::to_string(width) + " x " +
                          std::to_string(height) + " image of " + std::to_string(channels) + " channels");
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
               static_cast<std::size_t>(channels) +
           static_cast<std::size_t>(channel);
}
inline std::size_t value_count(int width, int height, int channels) {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(channels);
}
}  // namespace detail

/// 8-bit pixels, interleaved (RGBRGB... for 3 channels), rows top to bottom.
struct Image {
    int width = 0;
    int height = 0;
    int channels = 0;  // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    std::vector<std::uint8_t> pixels;

    bool empty() const noexcept { return pixels.empty(); }
    std::size_t pixel_count() const noexcept {
        return static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    }
    /// Checked access to one channel of one pixel.
    std::uint8_t& at(int x, int y, int channel) { return pixels.at(index(x, y, channel)); }
    std::uint8_t at(int x, int y, int channel) const { return pixels.at(index(x, y, channel)); }

private:
    std::size_t index(int x, int y, int channel) const {
        return detail::pixel_index(x, y, channel, width, height, channels);
    }
};

/// Float pixels in [0, 1], interleaved like Image, rows top to bottom. The form the transforms
/// (transforms.hpp) work on: no precision is lost to 8 bits between resizing and L*a*b*.
struct FloatImage {
    int width = 0;
    int height = 0;
    int channels = 0;  // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
    std::vector<float> values;

    bool empty() const noexcept { return values.empty(); }
    std::size_t pixel_count() const noexcept {
        return static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    }
    /// Checked access to one channel of one pixel.
    float& at(int x, int y, int channel) { return values.at(index(x, y, channel)); }
    float at(int x, int y, int channel) const { return values.at(index(x, y, channel)); }

private:
    std::size_t index(int x, int y, int channel) const {
        return detail::pixel_index(x, y, channel, width, height, channels);
    }
};

/// 8-bit codes -> [0, 1] (code / 255).
inline FloatImage to_float(const Image& image) {
    FloatImage out{.width = image.width, .height = image.height, .channels = image.channels, .values = {}};
    out.values.resize(image.pixels.size());
    for (std::size_t i = 0; i < image.pixels.size(); ++i) out.values[i] = image.pixels[i] * (1.0f / 255.0f);
    return out;
}

/// [0, 1] -> 8-bit codes: clamped to [0, 1] (NaN reads as 0), then rounded to the nearest code.
inline Image to_8bit(const FloatImage& image) {
    if (image.values.size() != detail::value_count(image.width, image.height, image.channels))
        throw usage_error("to_8bit: a " + std::to_string(image.width) + " x " + std::to_string(image.height) + " x " +
                          std::to_string(image.channels) + " image needs " +
                          std::to_string(detail::value_count(image.width, image.height, image.channels)) +
                          " values, it has " + std::to_string(image.values.size()));
    Image out{.width = image.width, .height = image.height, .channels = image.channels, .pixels = {}};
    out.pixels.resize(image.values.size());
    for (std::size_t i = 0; i < image.values.size(); ++i) {
        const float v = image.values[i];
        const float unit = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // written so that NaN gives 0
        out.pixels[i] = static_cast<std::uint8_t>(unit * 255.0f + 0.5f);
    }
    return out;
}

namespace detail {

// The longest file stb can decode: it takes lengths as int.
inline constexpr std::uint64_t stb_max_bytes = INT_MAX;

inline void require_channels_argument(const char* what, int channels) {
    if (channels < 0 || channels > 4)
        throw usage_error(std::string(what) + ": channels must be 0 (as stored) or 1 to 4, got " +
                          std::to_string(channels));
}

// The checks shared by every loader that reads a file: it exists, is a regular file, is not
// empty. Returns the file's size.
inline std::uintmax_t check_image_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw image_not_found_error("image file '" + name + "' does not exist");
    if (!std::filesystem::is_regular_file(path, ec)) throw image_error("'" + name + "' is not a file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) throw image_error("image file '" + name + "' cannot be read (" + ec.message() + ")");
    if (size == 0) throw corrupt_image_error("image file '" + name + "' is empty");
    if (size > stb_max_bytes)
        throw image_too_large_error("image file '" + name + "' is " + std::to_string(size) +
                                    " bytes; stb_image reads files of at most 2 GiB");
    return size;
}

// The first `count` bytes of a file (fewer if it is shorter).
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::uintmax_t count) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw image_error("image file '" + path.string() + "' cannot be opened");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(count));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) throw image_error("image file '" + path.string() + "' cannot be read");
    return bytes;
}

inline bool starts_with(std::span<const std::uint8_t> bytes, std::string_view prefix) {
    return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin(), [](char p, std::uint8_t b) {
               return static_cast<std::uint8_t>(p) == b;
           });
}

inline bool is_png(std::span<const std::uint8_t> head) { return starts_with(head, "\x89PNG\r\n\x1a\n"); }

// The format stb reads that the first bytes announce, or "" for none: a file that announces one
// and fails is damaged, not of an unknown format. (TGA has no signature; a damaged TGA reads as
// unsupported.)
inline std::string_view signature_format(std::span<const std::uint8_t> head) {
    if (is_png(head)) return "PNG";
    if (starts_with(head, "\xff\xd8\xff")) return "JPEG";
    if (starts_with(head, "GIF8")) return "GIF";
    if (starts_with(head, "BM")) return "BMP";
    if (starts_with(head, "8BPS")) return "PSD";
    if (starts_with(head, "#?RADIANCE") || starts_with(head, "#?RGBE")) return "HDR";
    if (starts_with(head, "P5") || starts_with(head, "P6")) return "PNM";
    return "";
}

// Bytes enough for the PNG signature and its IHDR's width and height.
inline constexpr std::size_t png_header_bytes = 24;

// A PNG's size read from its IHDR directly: stb refuses to describe a PNG that would decode to
// more than 1 GiB and then reports "unknown image type", which would hide the real problem.
inline bool png_header_size(std::span<const std::uint8_t> head, std::uint64_t& width, std::uint64_t& height) {
    if (!is_png(head) || head.size() < png_header_bytes || !starts_with(head.subspan(12), "IHDR")) return false;
    const auto big_endian = [&](std::size_t at) {
        return (std::uint64_t{head[at]} << 24) | (std::uint64_t{head[at + 1]} << 16) |
               (std::uint64_t{head[at + 2]} << 8) | std::uint64_t{head[at + 3]};
    };
    width = big_endian(16);
    height = big_endian(20);
    return true;
}

inline std::string size_text(std::uint64_t width, std::uint64_t height) {
    return std::to_string(width) + " x " + std::to_string(height);
}

// Throws unless a header's size is positive and within the limit.
inline void check_header_size(const std::string& name, std::uint64_t width, std::uint64_t height,
                              const ImageLimits& limits) {
    if (width == 0 || height == 0)
        throw corrupt_image_error("image file '" + name + "' is damaged: its header says " + size_text(width, height) +
                                  " pixels");
    if (width > INT_MAX || height > INT_MAX)
        throw corrupt_image_error("image file '" + name + "' is damaged: its header says " + size_text(width, height) +
                                  " pixels, more than any image format allows");
    if (width * height > limits.max_pixels)
        throw image_too_large_error("image file '" + name + "' is " + size_text(width, height) + " = " +
                                    std::to_string(width * height) + " pixels, more than the limit of " +
                                    std::to_string(limits.max_pixels) +
                                    "; to read it, pass ImageLimits{.max_pixels = ...} with a larger limit");
}

// The error for a failed stb call, from stb's reason and the format the first bytes announce.
// stb keeps its last reason (per thread) until the next failure sets another, and some of its
// decoders fail without setting one; so `reason_before`, the reason taken just before the call,
// tells a reason of this call from a stale one (which would name the wrong format).
[[noreturn]] static inline void throw_stb_failure(const std::string& name, std::span<const std::uint8_t> head,
                                                  const char* reason_before) {
    const char* fresh = stbi_failure_reason();
    const std::string_view reason = fresh && fresh != reason_before ? fresh : "";
    const std::string_view format = signature_format(head);
    if (reason == "outofmem") throw image_error("not enough memory to decode image file '" + name + "'");
    if (reason == "too large")
        throw image_too_large_error("image file '" + name + "' is larger than stb_image decodes (" +
                                    "at most 2^24 pixels a side and 1 GiB of decoded data)");
    if (format.empty() && (reason.empty() || reason == "unknown image type"))
        throw unsupported_image_error("image file '" + name + "' is in a format that cannot be read (" +
                                      "PNG, JPEG, BMP, TGA, GIF, PSD, HDR and PNM are)");
    const std::string what = format.empty() ? "file" : std::string(format);
    const std::string detail =
        reason.empty() || reason == "unknown image type" ? "" : " (stb_image: " + std::string(reason) + ")";
    throw corrupt_image_error("image file '" + name + "' is a damaged or truncated " + what + detail);
}

// Reads the header of an image in memory, checks it against the limit and says what it holds.
static inline ImageInfo probe_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                                     const ImageLimits& limits) {
    if (bytes.empty()) throw corrupt_image_error("image file '" + name + "' is empty");
    if (bytes.size() > stb_max_bytes)
        throw image_too_large_error("image file '" + name + "' is " + std::to_string(bytes.size()) +
                                    " bytes; stb_image reads files of at most 2 GiB");
    // Before stb reads any of it: stb builds the Huffman tables while it probes a JPEG's size.
    if (const auto problem = jpeg_huffman_table_problem(bytes))
        throw corrupt_image_error("image file '" + name + "' is a damaged JPEG, not decoded: " + *problem);
    // And before stb sizes its buffers by a PNG's declared chunk lengths.
    if (const auto problem = png_chunk_problem(bytes))
        throw corrupt_image_error("image file '" + name + "' is a damaged or truncated PNG, not decoded: " + *problem);
    std::uint64_t png_width = 0, png_height = 0;
    if (png_header_size(bytes, png_width, png_height)) check_header_size(name, png_width, png_height, limits);
    const auto length = static_cast<int>(bytes.size());
    ImageInfo info;
    const char* reason_before = stbi_failure_reason();
    if (!stbi_info_from_memory(bytes.data(), length, &info.width, &info.height, &info.channels))
        throw_stb_failure(name, bytes, reason_before);
    check_header_size(name, static_cast<std::uint64_t>(std::max(info.width, 0)),
                      static_cast<std::uint64_t>(std::max(info.height, 0)), limits);
    info.bits_per_channel = stbi_is_16_bit_from_memory(bytes.data(), length) ? 16 : 8;
    return info;
}

// A PNG without its empty IDAT chunks, or nothing when it has none. stb copies an IDAT chunk into
// a buffer it allocates on the first non-empty one, so an empty first IDAT has it memcpy zero
// bytes to a null pointer: harmless in practice but undefined behaviour (UBSan stops there).
// Empty data chunks carry no pixels, so dropping them changes nothing (stb ignores chunk CRCs).
inline std::vector<std::uint8_t> png_without_empty_data_chunks(std::span<const std::uint8_t> bytes) {
    std::vector<std::size_t> empty_chunks;
    for (const PngChunk& chunk : png_chunk_layout(bytes).chunks)
        if (chunk.length == 0 && chunk.type == "IDAT" && chunk.at + 12 <= bytes.size()) empty_chunks.push_back(chunk.at);
    std::vector<std::uint8_t> kept;
    if (empty_chunks.empty()) return kept;
    kept.reserve(bytes.size());
    std::size_t from = 0;
    for (const std::size_t chunk : empty_chunks) {
        kept.insert(kept.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from),
                    bytes.begin() + static_cast<std::ptrdiff_t>(chunk));
        from = chunk + 12;
    }
    kept.insert(kept.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end());
    return kept;
}

// Decodes an image in memory into `out` (Image or FloatImage): 16-bit files keep their precision
// in a FloatImage; everything else is read as 8-bit. A JPEG is turned upright as its EXIF
// orientation says (JPEGs are always 8-bit, so only that path turns anything).
template <class Out>
static inline Out decode_memory(std::span<const std::uint8_t> file, const std::string& name, int channels,
                                const ImageLimits& limits) {
    const ImageInfo info = probe_memory(file, name, limits);
    const std::vector<std::uint8_t> cleaned = is_png(file) ? png_without_empty_data_chunks(file)
                                                           : std::vector<std::uint8_t>{};
    const std::span<const std::uint8_t> bytes = cleaned.empty() ? file : std::span<const std::uint8_t>(cleaned);
    const auto length = static_cast<int>(bytes.size());
    int width = 0, height = 0, stored = 0;
    const char* reason_before = stbi_failure_reason();
    if constexpr (std::is_same_v<Out, FloatImage>) {
        if (info.bits_per_channel == 16) {
            stbi_us* data = stbi_load_16_from_memory(bytes.data(), length, &width, &height, &stored, channels);
            if (!data) throw_stb_failure(name, bytes, reason_before);
            FloatImage out{.width = width, .height = height, .channels = channels ? channels : stored, .values = {}};
            out.values.resize(value_count(width, height, out.channels));
            for (std::size_t i = 0; i < out.values.size(); ++i) out.values[i] = data[i] * (1.0f / 65535.0f);
            stbi_image_free(data);
            return out;
        }
    }
    stbi_uc* data = stbi_load_from_memory(bytes.data(), length, &width, &height, &stored, channels);
    if (!data) throw_stb_failure(name, bytes, reason_before);
    Image image{.width = width, .height = height, .channels = channels ? channels : stored, .pixels = {}};
    image.pixels.assign(data, data + value_count(width, height, image.channels));
    stbi_image_free(data);
    const OrientedSize upright =
        apply_orientation(image.pixels, width, height, image.channels, jpeg_exif_orientation(file));
    image.width = upright.width;
    image.height = upright.height;
    if constexpr (std::is_same_v<Out, FloatImage>)
        return to_float(image);
    else
        return image;
}

template <class Out>
static inline Out decode_file(const std::filesystem::path& path, int channels, const ImageLimits& limits) {
    const std::uintmax_t size = check_image_file(path);
    const std::vector<std::uint8_t> bytes = read_file_bytes(path, size);
    return decode_memory<Out>(bytes, path.string(), channels, limits);
}

// Bytes enough for a JPEG's EXIF orientation: the SOI, one segment before the EXIF APP1 (a JFIF
// APP0, which may hold a thumbnail) and the APP1 itself, each at most 2 + 65535 bytes.
inline constexpr std::size_t jpeg_exif_header_bytes = 2 + 2 * (2 + 65535);

}  // namespace detail

/// Reads a file's header: its size, channels and bit depth, without decoding the pixels. No pixel
/// limit applies (nothing is decoded; this is how to learn an image's size before loading it).
/// The size is the upright one that load_image returns: sides swapped for a JPEG whose EXIF
/// orientation turns it a quarter.
/// Throws image_not_found_error, unsupported_image_error or corrupt_image_error naming the file,
/// and image_too_large_error for a PNG larger than stb_image can decode at all.
static inline ImageInfo read_image_info(const std::filesystem::path& path) {
    const std::string name = path.string();
    detail::check_image_file(path);
    std::vector<std::uint8_t> head = detail::read_file_bytes(path, detail::png_header_bytes);
    if (detail::signature_format(head) == "JPEG") {
        head = detail::read_file_bytes(path, detail::jpeg_exif_header_bytes);
        // stbi_info reads up to the frame header, building the Huffman tables before it: check
        // them all, in the whole file when the frame header lies beyond the head.
        bool frame_seen = false;
        auto problem = jpeg_huffman_table_problem(head, &frame_seen);
        if (!problem && !frame_seen && head.size() == detail::jpeg_exif_header_bytes)
            problem = jpeg_huffman_table_problem(detail::read_file_bytes(path, std::filesystem::file_size(path)));
        if (problem) throw corrupt_image_error("image file '" + name + "' is a damaged JPEG: " + *problem);
    }
    std::uint64_t png_width = 0, png_height = 0;
    const bool png = detail::png_header_size(head, png_width, png_height);
    if (png) detail::check_header_size(name, png_width, png_height, ImageLimits{.max_pixels = UINT64_MAX});
    ImageInfo info;
    const char* reason_before = stbi_failure_reason();
    if (!stbi_info(name.c_str(), &info.width, &info.height, &info.channels)) {
        // stb describes no PNG whose pixels would pass 1 GiB; say so rather than "damaged".
        if (png && png_width * png_height * 4 > (std::uint64_t{1} << 30))
            throw image_too_large_error("image file '" + name + "' is " + detail::size_text(png_width, png_height) +
                                        " pixels, larger than stb_image decodes (1 GiB of decoded data)");
        detail::throw_stb_failure(name, head, reason_before);
    }
    detail::check_header_size(name, static_cast<std::uint64_t>(std::max(info.width, 0)),
                              static_cast<std::uint64_t>(std::max(info.height, 0)),
                              ImageLimits{.max_pixels = UINT64_MAX});
    info.bits_per_channel = stbi_is_16_bit(name.c_str()) ? 16 : 8;
    if (orientation_swaps_sides(jpeg_exif_orientation(head))) std::swap(info.width, info.height);
    return info;
}

/// Loads an image file as 8-bit pixels. `channels` 0 keeps the file's channel count; 1 to 4
/// converts as stb does (3 gives RGB whatever the file holds: grey is repeated, alpha dropped;
/// 1 from RGB is the luma (77 R + 150 G + 29 B) / 256). 16-bit files are reduced to 8 bits by
/// keeping the high byte, as stb does; load_image_float keeps all 16.
/// Throws image_not_found_error, unsupported_image_error, corrupt_image_error or
/// image_too_large_error naming the file.
static inline Image load_image(const std::filesystem::path& path, int channels = 0, ImageLimits limits = {}) {
    detail::require_channels_argument("load_image", channels);
    return detail::decode_file<Image>(path, channels, limits);
}

/// Loads an image file as floats in [0, 1]: 16-bit PNGs keep their full precision (value / 65535),
/// 8-bit files are code / 255. `channels` as for load_image; the same errors.
static inline FloatImage load_image_float(const std::filesystem::path& path, int channels = 0,
                                          ImageLimits limits = {}) {
    detail::require_channels_argument("load_image_float", channels);
    return detail::decode_file<FloatImage>(path, channels, limits);
}

/// Decodes an image file held in memory (an archive member, a packed record) as 8-bit pixels.
/// `name_for_errors` stands for the file in error messages.
static inline Image load_image_from_memory(std::span<const std::uint8_t> bytes, const std::string& name_for_errors,
                                           int channels = 0, ImageLimits limits = {}) {
    detail::require_channels_argument("load_image_from_memory", channels);
    return detail::decode_memory<Image>(bytes, name_for_errors, channels, limits);
}

/// As load_image_from_memory, as floats in [0, 1] with 16-bit precision kept.
static inline FloatImage load_image_float_from_memory(std::span<const std::uint8_t> bytes,
                                                      const std::string& name_for_errors, int channels = 0,
                                                      ImageLimits limits = {}) {
    detail::require_channels_argument("load_image_float_from_memory", channels);
    return detail::decode_memory<FloatImage>(bytes, name_for_errors, channels, limits);
}

namespace detail {
inline void check_image_to_save(const char* what, const std::string& name, const Image& image) {
    if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4)
        throw usage_error(std::string(what) + "('" + name + "'): an image needs a positive size and 1 to 4 channels, got " +
                          std::to_string(image.width) + " x " + std::to_string(image.height) + " x " +
                          std::to_string(image.channels));
    const std::size_t expected = value_count(image.width, image.height, image.channels);
    if (image.pixels.size() != expected)
        throw usage_error(std::string(what) + "('" + name + "'): a " + std::to_string(image.width) + " x " +
                          std::to_string(image.height) + " x " + std::to_string(image.channels) + " image needs " +
                          std::to_string(expected) + " bytes, it has " + std::to_string(image.pixels.size()));
}
[[noreturn]] inline void throw_write_failure(const std::filesystem::path& path) {
    const std::string name = path.string();
    const auto folder = path.parent_path();
    std::error_code ec;
    if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
        throw image_error("cannot write '" + name + "': the folder '" + folder.string() + "' does not exist");
    throw image_error("cannot write '" + name + "'");
}
}  // namespace detail

/// Writes an image as PNG. Throws usage_error for an image whose sizes and pixels disagree,
/// image_error naming the file when it cannot be written.
static inline void save_png(const std::filesystem::path& path, const Image& image) {
    const std::string name = path.string();
    detail::check_image_to_save("save_png", name, image);
    if (!stbi_write_png(name.c_str(), image.width, image.height, image.channels, image.pixels.data(),
                        image.width * image.channels))
        detail::throw_write_failure(path);
}

/// Writes an image as baseline JPEG at `quality` 1 to 100 (above 90 without chroma subsampling).
/// JPEG has no alpha: an alpha channel is dropped, not blended with a background. stb always
/// writes colour (YCbCr) JPEGs, so grey and grey + alpha are stored with R = G = B and load back
/// as 3 channels unless 1 is asked for. Errors as for save_png; usage_error for a bad quality.
static inline void save_jpeg(const std::filesystem::path& path, const Image& image, int quality = 95) {
    const std::string name = path.string();
    if (quality < 1 || quality > 100)
        throw usage_error("save_jpeg('" + name + "'): quality must be 1 to 100, got " + std::to_string(quality));
    detail::check_image_to_save("save_jpeg", name, image);
    if (!stbi_write_jpg(name.c_str(), image.width, image.height, image.channels, image.pixels.data(), quality))
        detail::throw_write_failure(path);
}

/// Writes PNG or JPEG (quality 95) as the extension says: .png, .jpg or .jpeg, in any case.
static inline void save_image(const std::filesystem::path& path, const Image& image) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension == ".png")
        save_png(path, image);
    else if (extension == ".jpg" || extension == ".jpeg")
        save_jpeg(path, image);
    else
        throw usage_error("save_image('" + path.string() + "'): cannot tell the format from the extension '" +
                          path.extension().string() + "'; it writes .png, .jpg and .jpeg");
}

}  // namespace chroma
