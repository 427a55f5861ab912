// Packed datasets (`chroma pack` files), opened through their memory map: the header, the name
// table, each image's pixels and the checksum.
#include <chroma/data/packed_dataset.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    static const std::string path = "/tmp/chroma_fuzz_packed_" + std::to_string(::getpid()) + ".pack";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return;
    if (!input.empty()) std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
    const chroma::data::PackedDataset dataset(path);
    dataset.verify();
    for (std::size_t i = 0; i < dataset.size() && i < 4; ++i) {
        (void)dataset.name(i);
        (void)dataset.load(i);
    }
}
