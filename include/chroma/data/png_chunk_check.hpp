#pragma once
// A check of a PNG's chunk lengths before stb_image decodes it. stb_image (as Debian ships it,
// 2022-09-08) grows its buffer for the compressed image data to fit each IDAT chunk's declared
// length before it reads the chunk, doubling it until it fits: a 188-byte file declaring a
// gigabyte chunk makes it allocate 2 GiB (found by fuzz/fuzz_image). A chunk longer than the
// bytes left in the file is never valid, so the file is refused before stb sees it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace chroma {

/// One chunk of a PNG: its type (letters, others shown as '?'), where it starts (its length
/// field) and its data length.
struct PngChunk {
    std::string type;
    std::size_t at = 0, length = 0;
};

/// A PNG's chunks in order, from the signature to IEND (included), or to the first chunk that
/// declares more data than the file holds, which `problem` then describes ("its IDAT chunk at
/// byte 122 declares 1117061197 bytes of data, but only 58 bytes follow"). Empty for bytes that
/// are not a PNG.
struct PngChunkLayout {
    std::vector<PngChunk> chunks;
    std::optional<std::string> problem;
};

inline PngChunkLayout png_chunk_layout(std::span<const std::uint8_t> file) {
    static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    PngChunkLayout layout;
    if (file.size() < 8 || !std::equal(signature, signature + 8, file.begin())) return layout;
    // A chunk is a 4-byte length, a 4-byte type, the data and a 4-byte CRC.
    for (std::size_t at = 8; at + 8 <= file.size();) {
        PngChunk chunk{.type = "", .at = at,
                       .length = (std::size_t{file[at]} << 24) | (std::size_t{file[at + 1]} << 16) |
                                 (std::size_t{file[at + 2]} << 8) | std::size_t{file[at + 3]}};
        for (std::size_t i = 4; i < 8; ++i) {
            const char c = static_cast<char>(file[at + i]);
            chunk.type += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? c : '?';
        }
        const std::size_t left = file.size() - at - 8;
        if (chunk.length > left) {
            layout.problem = "its " + chunk.type + " chunk at byte " + std::to_string(at) + " declares " +
                             std::to_string(chunk.length) + " bytes of data, but only " + std::to_string(left) +
                             " bytes follow";
            break;
        }
        layout.chunks.push_back(chunk);
        if (chunk.type == "IEND") break;
        at += 12 + chunk.length;
    }
    return layout;
}

/// What is wrong with a PNG's chunk layout, or nothing when every chunk up to IEND fits in the
/// file or the bytes are not a PNG.
inline std::optional<std::string> png_chunk_problem(std::span<const std::uint8_t> file) {
    return png_chunk_layout(file).problem;
}

}  // namespace chroma
