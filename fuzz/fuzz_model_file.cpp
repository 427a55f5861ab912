// Model files as `chroma colorize --model` reads them: a safetensors file whose metadata names
// the architecture, decoding, size and chroma gain, rebuilt as the model it names.
#include <chroma/inference/model_file.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    static const std::string path = "/tmp/chroma_fuzz_model_" + std::to_string(::getpid()) + ".safetensors";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return;
    if (!input.empty()) std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
    chroma::inference::load_colorizer(path);
}
