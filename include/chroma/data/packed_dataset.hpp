#pragma once
// A packed dataset: one file of fixed-size 8-bit sRGB images, read through a memory map. Decoding
// a JPEG and resizing it costs milliseconds; reading a packed image costs microseconds, so
// training on many small images is no longer limited by the decoder (seed 001 found per-file
// reads too slow and settled on one file). `chroma pack` writes them; see docs/packed-format.md.
//
// Layout, little-endian, version 1:
//   bytes  0-7   "CHROMAPK"
//          8-11  u32 version (1)
//         12-15  u32 header size in bytes (64)
//         16-23  u64 image count
//         24-27  u32 width      28-31 u32 height      32-35 u32 channels (3, sRGB R G B)
//         36-39  u32 fit mode (0: shorter side resized then centre-cropped, 1: padded to square)
//         40-47  u64 byte offset of the name table
//         48-51  u32 CRC-32 of the pixel data     52-55 u32 CRC-32 of the name table
//         56-59  u32 reserved (0)                 60-63 u32 CRC-32 of bytes 0-59
//   then count x height x width x channels pixel bytes, images one after the other, rows top to
//   bottom, pixels interleaved; then the name table: per image a u32 byte length and the source
//   file's path (UTF-8, relative to the packed folder).
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../io/atomic_file.hpp"
#include "../io/crc32.hpp"
#include "dataset.hpp"
#include "image.hpp"
#include "mapped_file.hpp"
#include "transforms.hpp"

namespace chroma::data {

/// The file is not a packed dataset, or is damaged, truncated or of an unknown version.
class packed_format_error : public io::file_error {
public:
    using io::file_error::file_error;
};

namespace packed_format {
inline constexpr std::array<char, 8> magic = {'C', 'H', 'R', 'O', 'M', 'A', 'P', 'K'};
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t header_bytes = 64;

struct Header {
    std::uint64_t count = 0;
    std::uint32_t width = 0, height = 0, channels = 3, fit = 0;
    std::uint64_t names_offset = 0;
    std::uint32_t pixels_crc = 0, names_crc = 0;

    std::uint64_t image_bytes() const { return std::uint64_t{width} * height * channels; }
    std::uint64_t pixels_end() const { return header_bytes + count * image_bytes(); }
};

inline void put_u32(std::uint8_t* at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void put_u64(std::uint8_t* at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t get_u32(const std::uint8_t* at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | at[i];
    return v;
}
inline std::uint64_t get_u64(const std::uint8_t* at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | at[i];
    return v;
}

inline std::array<std::uint8_t, header_bytes> encode(const Header& h) {
    std::array<std::uint8_t, header_bytes> b{};
    std::memcpy(b.data(), magic.data(), magic.size());
    put_u32(&b[8], version);
    put_u32(&b[12], static_cast<std::uint32_t>(header_bytes));
    put_u64(&b[16], h.count);
    put_u32(&b[24], h.width);
    put_u32(&b[28], h.height);
    put_u32(&b[32], h.channels);
    put_u32(&b[36], h.fit);
    put_u64(&b[40], h.names_offset);
    put_u32(&b[48], h.pixels_crc);
    put_u32(&b[52], h.names_crc);
    put_u32(&b[60], io::crc32(b.data(), 60));
    return b;
}

inline Header decode(const std::uint8_t* data, std::size_t size, const std::string& name) {
    if (size < header_bytes)
        throw packed_format_error("'" + name + "' is not a packed dataset: " + std::to_string(size) +
                                  " bytes, shorter than the 64-byte header");
    if (std::memcmp(data, magic.data(), magic.size()) != 0)
        throw packed_format_error("'" + name + "' is not a packed dataset (no CHROMAPK signature); make one with `chroma pack`");
    if (get_u32(data + 8) != version)
        throw packed_format_error("'" + name + "' is a packed dataset of version " + std::to_string(get_u32(data + 8)) +
                                  "; this Chroma reads version " + std::to_string(version));
    if (io::crc32(data, 60) != get_u32(data + 60))
        throw packed_format_error("'" + name + "' has a damaged header (checksum mismatch)");
    Header h;
    h.count = get_u64(data + 16);
    h.width = get_u32(data + 24);
    h.height = get_u32(data + 28);
    h.channels = get_u32(data + 32);
    h.fit = get_u32(data + 36);
    h.names_offset = get_u64(data + 40);
    h.pixels_crc = get_u32(data + 48);
    h.names_crc = get_u32(data + 52);
    if (h.channels != 3 || h.width == 0 || h.height == 0 || h.width > 65536 || h.height > 65536)
        throw packed_format_error("'" + name + "' declares " + std::to_string(h.width) + " x " +
                                  std::to_string(h.height) + " x " + std::to_string(h.channels) +
                                  " images; packed images are RGB with sides 1 to 65536");
    if (h.count > (std::uint64_t{1} << 40) || h.names_offset != h.pixels_end())
        throw packed_format_error("'" + name + "' has an inconsistent header (image count " + std::to_string(h.count) +
                                  ", name table at byte " + std::to_string(h.names_offset) + ")");
    if (size < h.pixels_end())
        throw packed_format_error("'" + name + "' is truncated: " + std::to_string(h.count) + " images of " +
                                  std::to_string(h.width) + " x " + std::to_string(h.height) + " need " +
                                  std::to_string(h.pixels_end()) + " bytes of pixels, the file has " +
                                  std::to_string(size));
    return h;
}
}  // namespace packed_format

/// A packed dataset opened for reading. Opening checks the header and the name table; verify()
/// also checks every pixel against the stored checksum (one pass over the file).
class PackedDataset {
public:
    explicit PackedDataset(const std::filesystem::path& path) : file_(std::make_shared<MappedFile>(path)) {
        const std::string name = path.string();
        header_ = packed_format::decode(file_->data(), file_->size(), name);
        const std::uint8_t* at = file_->data() + header_.names_offset;
        const std::uint8_t* end = file_->data() + file_->size();
        if (io::crc32(at, static_cast<std::size_t>(end - at)) != header_.names_crc)
            throw packed_format_error("'" + name + "' is truncated or damaged after its pixels (name table checksum mismatch)");
        names_.reserve(header_.count);
        for (std::uint64_t i = 0; i < header_.count; ++i) {
            if (end - at < 4) throw packed_format_error("'" + name + "' has a truncated name table");
            const std::uint32_t length = packed_format::get_u32(at);
            at += 4;
            if (static_cast<std::uint64_t>(end - at) < length)
                throw packed_format_error("'" + name + "' has a truncated name table");
            names_.emplace_back(reinterpret_cast<const char*>(at), length);
            at += length;
        }
    }

    std::size_t size() const { return static_cast<std::size_t>(header_.count); }
    int width() const { return static_cast<int>(header_.width); }
    int height() const { return static_cast<int>(header_.height); }
    FitMode fit() const { return header_.fit == 1 ? FitMode::pad : FitMode::crop; }
    std::string name(std::size_t index) const { return names_.at(index); }

    /// Image `index`'s bytes (height x width x 3, interleaved sRGB), straight from the map.
    std::span<const std::uint8_t> pixels(std::size_t index) const {
        if (index >= size())
            throw usage_error("packed dataset '" + file_->path().string() + "' has " + std::to_string(size()) +
                              " images, asked for number " + std::to_string(index));
        const auto bytes = static_cast<std::size_t>(header_.image_bytes());
        return {file_->data() + packed_format::header_bytes + index * bytes, bytes};
    }

    FloatImage load(std::size_t index) const {
        const auto bytes = pixels(index);
        FloatImage image;
        image.width = width();
        image.height = height();
        image.channels = 3;
        image.values.resize(bytes.size());
        for (std::size_t i = 0; i < bytes.size(); ++i) image.values[i] = bytes[i] * (1.0f / 255.0f);
        return image;
    }

    /// Reads every pixel and compares with the stored checksum; throws packed_format_error.
    void verify() const {
        const auto bytes = static_cast<std::size_t>(header_.count * header_.image_bytes());
        if (io::crc32(file_->data() + packed_format::header_bytes, bytes) != header_.pixels_crc)
            throw packed_format_error("'" + file_->path().string() + "' has damaged pixel data (checksum mismatch)");
    }

private:
    std::shared_ptr<MappedFile> file_;  // shared: copies of the dataset (one per loader) share the map
    packed_format::Header header_;
    std::vector<std::string> names_;
};

static_assert(ImageDataset<PackedDataset>);

}  // namespace chroma::data
