#pragma once
// A check of a JPEG's Huffman tables before stb_image decodes it. stb_image (as Debian ships it,
// 2022-09-08) builds each table from its 16 code counts without checking that they add up to at
// most 256, the number of symbols a table can hold, and writes one byte per code into a
// 257-byte array: a damaged or hostile file with larger counts writes past it (found by
// fuzz/fuzz_image). Such a table is never valid, so the file is refused before stb sees it.
//
// Every DHT segment of the file is read, also those between the scans of a progressive JPEG:
// the walk goes from marker to marker and steps over entropy-coded data byte by byte (a 0xFF
// there is always followed by 0x00 or a restart marker). Each table is read as stb reads it,
// bytes past the end of the file counting as 0, so every table stb would build is seen.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace chroma {

/// What is wrong with a JPEG's Huffman tables ("a Huffman table defines 300 codes ..."), or
/// nothing when each defines at most 256 codes or the bytes are not a JPEG. `frame_seen`, when
/// given, says whether a frame header (SOF) was among the bytes: stb_image reads the tables
/// before it when it only probes the size.
inline std::optional<std::string> jpeg_huffman_table_problem(std::span<const std::uint8_t> file,
                                                             bool* frame_seen = nullptr) {
    if (frame_seen) *frame_seen = false;
    // stb takes any number of 0xFF fill bytes before the SOI marker, as before any marker.
    std::size_t at = 0;
    while (at < file.size() && file[at] == 0xFF) ++at;
    if (at == 0 || at >= file.size() || file[at] != 0xD8) return std::nullopt;
    ++at;
    const auto byte = [&](std::size_t i) -> unsigned { return i < file.size() ? file[i] : 0u; };
    while (at + 1 < file.size()) {
        if (file[at] != 0xFF) {  // entropy-coded data: on to the next marker
            ++at;
            continue;
        }
        const unsigned marker = file[at + 1];
        if (marker == 0xFF) {  // fill byte
            ++at;
            continue;
        }
        // A stuffed zero, TEM, SOI and the restart markers carry no length.
        if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
            at += 2;
            continue;
        }
        if (marker == 0xD9) break;  // EOI
        if (frame_seen && marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
            *frame_seen = true;
        const std::size_t length = byte(at + 2) << 8 | byte(at + 3);
        if (marker == 0xC4) {
            long remaining = static_cast<long>(length) - 2;  // as stb counts it
            std::size_t table = at + 4;
            while (remaining > 0) {
                std::size_t codes = 0;
                for (std::size_t i = 0; i < 16; ++i) codes += byte(table + 1 + i);
                if (codes > 256)
                    return "a Huffman table defines " + std::to_string(codes) + " codes; a table holds at most 256";
                table += 17 + codes;
                remaining -= static_cast<long>(17 + codes);
            }
        }
        at += 2 + (length < 2 ? 2 : length);
    }
    return std::nullopt;
}

}  // namespace chroma
