#pragma once
// CRC-32 (the IEEE polynomial used by zip and PNG), to detect corrupt checkpoint files.
#include <array>
#include <cstddef>
#include <cstdint>

namespace chroma::io {

namespace detail {
constexpr std::array<std::uint32_t, 256> make_crc32_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
inline constexpr auto crc32_table = make_crc32_table();
}  // namespace detail

/// Continues a CRC-32 over `size` bytes; start with crc = 0.
inline std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) crc = detail::crc32_table[(crc ^ bytes[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

}  // namespace chroma::io
