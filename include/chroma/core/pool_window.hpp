#pragma once
// The arithmetic of a square 2-D pooling window's sizes, shared by MaxPool2d and every
// backend's pooling kernels.
#include "shape.hpp"

namespace chroma {

struct PoolWindow {
    index_t kernel = 1, stride = 1, padding = 0;

    /// PyTorch's floor mode: floor((size + 2p - k) / s) + 1; 0 means the input is too small.
    constexpr index_t output_size(index_t size) const {
        const index_t span = size + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }
};

}  // namespace chroma
