// Safetensors files: the header JSON, dtypes, shapes and offsets, and reading every tensor.
#include <chroma/io/safetensors.hpp>

#include <string>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    const auto file = chroma::io::SafetensorsFile::parse(std::string(input.begin(), input.end()), "fuzz input");
    for (const auto& name : file.names()) {
        const auto& dims = file.tensor_info(name).dims;
        if (dims.size() > 4) continue;
        chroma::Tensor<float> t(chroma::io::shape_of(dims));
        if (t.size() <= (1 << 20)) file.get(name, t, static_cast<int>(dims.size()));
    }
}
