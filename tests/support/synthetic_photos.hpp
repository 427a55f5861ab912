#pragma once
// Smooth synthetic "photos" whose ab is a function of L, so that a small network can learn it
// in a few steps: the trainer's and the distributed tests' data.
#include <chroma/chroma.hpp>

#include <cmath>
#include <cstdint>

namespace test_support {

inline chroma::train::Batch synthetic_photos(int seed, chroma::index_t n = 4, chroma::index_t size = 12) {
    using chroma::index_t;
    chroma::Rng rng(static_cast<std::uint64_t>(seed));
    chroma::train::Batch b{chroma::Tensor<float>(chroma::Shape{.n = n, .c = 1, .h = size, .w = size}),
                           chroma::Tensor<float>(chroma::Shape{.n = n, .c = 2, .h = size, .w = size})};
    for (index_t i = 0; i < n; ++i) {
        const double fx = rng.uniform(0.2, 0.7), phase = rng.uniform(0, 6);
        for (index_t y = 0; y < size; ++y)
            for (index_t x = 0; x < size; ++x) {
                const double l = 50 + 40 * std::sin(fx * x + phase) * std::cos(0.3 * y);
                b.lightness(i, 0, y, x) = static_cast<float>(l);
                b.ab(i, 0, y, x) = static_cast<float>(l > 50 ? 30 : -20);
                b.ab(i, 1, y, x) = static_cast<float>((l - 50) * 0.5);
            }
    }
    return b;
}

}  // namespace test_support
