// Training checkpoints. A checkpoint carries a CRC-32 of its payload, which random mutations
// almost never keep right, so inputs whose first byte is odd are taken as a payload alone and
// given a valid header (magic, version, entry count from the next 4 bytes, size, checksum): the
// entry parser behind the checksum gets fuzzed too. Even first bytes: the rest is a whole file.
#include <chroma/io/checkpoint.hpp>
#include <chroma/io/crc32.hpp>

#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    if (input.empty()) return;
    const std::string_view rest(reinterpret_cast<const char*>(input.data()) + 1, input.size() - 1);
    std::string file;
    if (input[0] % 2 == 0) {
        file = std::string(rest);
    } else {
        if (rest.size() < 4) return;
        std::uint32_t count = 0;
        std::memcpy(&count, rest.data(), 4);
        const std::string_view payload = rest.substr(4);
        const std::uint32_t version = chroma::io::Checkpoint::version;
        const std::uint64_t size = payload.size();
        const std::uint32_t crc = chroma::io::crc32(payload.data(), payload.size());
        file = "CHROMACK";
        file.append(reinterpret_cast<const char*>(&version), 4);
        file.append(reinterpret_cast<const char*>(&count), 4);
        file.append(reinterpret_cast<const char*>(&size), 8);
        file.append(reinterpret_cast<const char*>(&crc), 4);
        file += payload;
    }
    const auto checkpoint = chroma::io::Checkpoint::parse(file, "fuzz input");
    for (const auto& name : checkpoint.names()) {
        try {
            chroma::Tensor<float> t;
            checkpoint.get(name, t);
        } catch (const chroma::error&) {
        }
        try {
            (void)checkpoint.get_text(name);
        } catch (const chroma::error&) {
        }
    }
}
