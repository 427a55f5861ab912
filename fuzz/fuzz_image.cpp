// The image decoder from memory (every format stb reads, EXIF orientation, 16-bit PNG), with a
// pixel limit of 4 megapixels so that a header claiming a huge image is refused before decoding.
#include <chroma/data/image.hpp>

#include "fuzz_target.hpp"

void chroma_fuzz_one(std::span<const std::uint8_t> input) {
    const chroma::ImageLimits limits{.max_pixels = std::uint64_t(1) << 22};
    const auto image = chroma::load_image_from_memory(input, "fuzz input", 0, limits);
    if (image.pixels.size() != image.pixel_count() * static_cast<std::size_t>(image.channels)) __builtin_trap();
    chroma::load_image_float_from_memory(input, "fuzz input", 3, limits);
}
