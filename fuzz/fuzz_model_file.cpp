// Model files as `chroma colorize --model` reads them, up to building the network: the
// safetensors container and the metadata values a model file carries ("decoding",
// "native_size", "chroma_gain"), each parsed as inference/model_file.hpp parses it. (Building
// the network itself cannot be compiled here: clang 14, the libFuzzer toolchain Debian ships,
// does not take the floating-point template arguments of Chroma's layers.)
#include <chroma/inference/decoding_text.hpp>
#include <chroma/io/safetensors.hpp>

#include <cstdlib>
#include <string>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    const auto file = chroma::io::SafetensorsFile::parse(std::string(input.begin(), input.end()), "fuzz input");
    const auto& metadata = file.metadata();
    if (const auto it = metadata.find("decoding"); it != metadata.end()) {
        const auto decoding = chroma::inference::parse_decoding(it->second);
        if (chroma::inference::parse_decoding(chroma::inference::decoding_text(decoding)).method != decoding.method)
            __builtin_trap();  // the text a model file is saved with must read back
    }
    if (const auto it = metadata.find("native_size"); it != metadata.end()) (void)std::atoi(it->second.c_str());
    if (const auto it = metadata.find("chroma_gain"); it != metadata.end()) (void)std::strtof(it->second.c_str(), nullptr);
}
