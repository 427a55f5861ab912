// The JSON reader behind safetensors headers and the colorize command's hint files.
#include <chroma/io/json_lite.hpp>

#include <string_view>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    chroma::io::json::parse(std::string_view(reinterpret_cast<const char*>(input.data()), input.size()), "fuzz input");
}
