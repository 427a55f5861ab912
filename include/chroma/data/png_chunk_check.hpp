#pragma once
// A check of a PNG's chunk lengths before stb_image decodes it. stb_image (as Debian ships it,
// 2022-09-08) grows its buffer for the compressed image data to fit each IDAT chunk's declared
// length before it reads the chunk, doubling it until it fits: a 188-byte file declaring a
// gigabyte chunk makes it allocate 2 GiB (found by fuzz/fuzz_image). A chunk longer than the
// bytes left in the file is never valid, so the file is refused before stb sees it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace chroma {

/// What is wrong with a PNG's chunk layout ("its IDAT chunk at byte 122 declares 1117061197
/// bytes ..."), or nothing when every chunk up to IEND fits in the file or the bytes are not a PNG.
inline std::optional<std::string> png_chunk_problem(std::span<const std::uint8_t> file) {
    static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (file.size() < 8) return std::nullopt;
    for (std::size_t i = 0; i < 8; ++i)
        if (file[i] != signature[i]) return std::nullopt;
    std::size_t at = 8;
    // A chunk is a 4-byte length, a 4-byte type, the data and a 4-byte CRC.
    while (at + 8 <= file.size()) {
        const std::size_t length = (std::size_t{file[at]} << 24) | (std::size_t{file[at + 1]} << 16) |
                                   (std::size_t{file[at + 2]} << 8) | std::size_t{file[at + 3]};
        std::string type;
        for (std::size_t i = 4; i < 8; ++i) {
            const char c = static_cast<char>(file[at + i]);
            type += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? c : '?';
        }
        const std::size_t left = file.size() - at - 8;
        if (length > left)
            return "its " + type + " chunk at byte " + std::to_string(at) + " declares " + std::to_string(length) +
                   " bytes of data, but only " + std::to_string(left) + " bytes follow";
        if (type == "IEND") break;
        at += 12 + length;
    }
    return std::nullopt;
}

}  // namespace chroma
