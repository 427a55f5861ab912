#pragma once
// The EXIF Orientation tag (0x0112) of a JPEG, and turning pixels upright by it. Cameras and
// phones store the pixels as the sensor reads them out and record in this tag how to turn them
// for display; stb_image ignores it, so without this a portrait photo decodes lying on its side.
//
// The reader takes any bytes whatsoever: every read is checked against the segment it lies in,
// and a tag that cannot be read means orientation 1 (the image itself may still decode), so it
// never throws and never reads outside the span.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace chroma {

namespace detail {

// Reads an unsigned integer of `size` bytes at `at` from a TIFF block in its byte order, or
// returns false when it would end past the block. 64-bit arithmetic: offsets come from the file
// and may be anything up to 2^32 - 1.
inline bool tiff_read(std::span<const std::uint8_t> tiff, bool little_endian, std::uint64_t at, unsigned size,
                      std::uint32_t& value) {
    if (at > tiff.size() || size > tiff.size() - at) return false;
    value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const std::uint32_t byte = tiff[static_cast<std::size_t>(at) + (little_endian ? size - 1 - i : i)];
        value = (value << 8) | byte;
    }
    return true;
}

// The Orientation of IFD0 in an EXIF TIFF block ("II" or "MM", 42, the offset of IFD0), or 1.
inline std::uint16_t tiff_orientation(std::span<const std::uint8_t> tiff) noexcept {
    if (tiff.size() < 8) return 1;
    bool little_endian = false;
    if (tiff[0] == 'I' && tiff[1] == 'I')
        little_endian = true;
    else if (!(tiff[0] == 'M' && tiff[1] == 'M'))
        return 1;
    std::uint32_t magic = 0, ifd = 0, count = 0;
    if (!tiff_read(tiff, little_endian, 2, 2, magic) || magic != 42) return 1;
    if (!tiff_read(tiff, little_endian, 4, 4, ifd) || !tiff_read(tiff, little_endian, ifd, 2, count)) return 1;
    // At most 65535 entries of 12 bytes; stop at the first that does not fit (a huge count
    // in a short block ends there).
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t entry = std::uint64_t{ifd} + 2 + 12 * i;
        std::uint32_t tag = 0, type = 0, values = 0, value = 0;
        if (!tiff_read(tiff, little_endian, entry, 2, tag) || !tiff_read(tiff, little_endian, entry + 2, 2, type) ||
            !tiff_read(tiff, little_endian, entry + 4, 4, values))
            return 1;
        if (tag != 0x0112) continue;
        // The standard says one SHORT (3), stored in the entry itself; a few writers use a LONG (4).
        if (values != 1 || (type != 3 && type != 4)) return 1;
        if (!tiff_read(tiff, little_endian, entry + 8, type == 3 ? 2 : 4, value)) return 1;
        return value >= 1 && value <= 8 ? static_cast<std::uint16_t>(value) : std::uint16_t{1};
    }
    return 1;
}

}  // namespace detail

/// The EXIF Orientation of a JPEG file's bytes, 1 to 8 (1: stored upright): read from IFD0 of
/// the first APP1 segment that holds EXIF ("Exif\0\0" then a TIFF block, either byte order).
/// 1 when the bytes are not a JPEG, hold no such tag, the tag's value is outside 1 to 8, or
/// anything on the way is damaged. Only the segments before the image data (SOS) are looked at;
/// a prefix of the file holding them gives the same answer.
inline std::uint16_t jpeg_exif_orientation(std::span<const std::uint8_t> file) noexcept {
    if (file.size() < 4 || file[0] != 0xFF || file[1] != 0xD8) return 1;
    std::size_t at = 2;
    // Each turn moves `at` forward by at least one byte, so the walk ends.
    while (at + 1 < file.size()) {
        if (file[at] != 0xFF) return 1;  // not a marker: damaged
        const std::uint8_t marker = file[at + 1];
        if (marker == 0xFF) {  // a fill byte before the marker
            ++at;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) return 1;  // image data (or the end): no EXIF before it
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // markers without a length
            at += 2;
            continue;
        }
        if (at + 4 > file.size()) return 1;
        const std::size_t length = (std::size_t{file[at + 2]} << 8) | std::size_t{file[at + 3]};  // counts itself
        if (length < 2 || length > file.size() - at - 2) return 1;  // truncated
        const std::span<const std::uint8_t> payload = file.subspan(at + 4, length - 2);
        constexpr std::uint8_t exif[] = {'E', 'x', 'i', 'f', 0, 0};
        if (marker == 0xE1 && payload.size() >= sizeof exif &&
            std::equal(std::begin(exif), std::end(exif), payload.begin()))
            return detail::tiff_orientation(payload.subspan(sizeof exif));
        at += 2 + length;
    }
    return 1;
}

/// Whether an orientation turns the image a quarter (5 to 8): the upright width is the stored height.
constexpr bool orientation_swaps_sides(std::uint16_t orientation) noexcept {
    return orientation >= 5 && orientation <= 8;
}

/// The upright size after apply_orientation.
struct OrientedSize {
    int width = 0;
    int height = 0;
};

/// Turns interleaved pixels (`channels` values each, rows top to bottom) stored with an EXIF
/// orientation into upright ones, in place, and returns the upright size. The meanings (EXIF 2.32,
/// TIFF 6.0), as the transform that shows the stored pixels upright:
///   1 none              2 mirror left-right      3 rotate 180           4 mirror top-bottom
///   5 transpose (mirror across the top-left to bottom-right diagonal)
///   6 rotate 90 clockwise   7 transverse (mirror across the other diagonal)   8 rotate 90 counter-clockwise
/// Values outside 1 to 8 change nothing. Throws usage_error when the values are not
/// width x height x channels.
template <class T>
OrientedSize apply_orientation(std::vector<T>& values, int width, int height, int channels,
                               std::uint16_t orientation) {
    if (width < 0 || height < 0 || channels < 1 ||
        values.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                             static_cast<std::size_t>(channels))
        throw usage_error("apply_orientation: a " + std::to_string(width) + " x " + std::to_string(height) + " x " +
                          std::to_string(channels) + " image cannot have " + std::to_string(values.size()) +
                          " values");
    if (orientation <= 1 || orientation > 8) return {width, height};
    const bool swapped = orientation_swaps_sides(orientation);
    const int out_width = swapped ? height : width;
    const int out_height = swapped ? width : height;
    // The stored pixel for upright (X, Y) is origin + X * step_x + Y * step_y (in pixels); each
    // case's comment gives it as stored (x, y).
    const std::ptrdiff_t w = width, h = height;
    std::ptrdiff_t origin = 0, step_x = 1, step_y = w;
    switch (orientation) {
        case 2: origin = w - 1; step_x = -1; step_y = w; break;                   // (w-1-X, Y)
        case 3: origin = (h - 1) * w + w - 1; step_x = -1; step_y = -w; break;    // (w-1-X, h-1-Y)
        case 4: origin = (h - 1) * w; step_x = 1; step_y = -w; break;             // (X, h-1-Y)
        case 5: origin = 0; step_x = w; step_y = 1; break;                        // (Y, X)
        case 6: origin = (h - 1) * w; step_x = -w; step_y = 1; break;             // (Y, h-1-X)
        case 7: origin = (h - 1) * w + w - 1; step_x = -w; step_y = -1; break;    // (w-1-Y, h-1-X)
        case 8: origin = w - 1; step_x = w; step_y = -1; break;                   // (w-1-Y, X)
        default: break;
    }
    const auto c = static_cast<std::size_t>(channels);
    std::vector<T> upright(values.size());
    std::size_t to = 0;
    for (std::ptrdiff_t y = 0; y < out_height; ++y)
        for (std::ptrdiff_t x = 0; x < out_width; ++x) {
            const auto from = static_cast<std::size_t>(origin + x * step_x + y * step_y) * c;
            for (std::size_t k = 0; k < c; ++k) upright[to++] = values[from + k];
        }
    values = std::move(upright);
    return {out_width, out_height};
}

}  // namespace chroma
