#pragma once
// Shape of an NCHW tensor with named dimensions.
#include <cstdint>
#include <string>

namespace chroma {

using index_t = std::int64_t;

/// The four dimensions of an NCHW tensor: batch, channels, height, width.
/// Use designated initialisers to keep call sites readable: `Shape{.n = 8, .c = 1, .h = 64, .w = 64}`.
struct Shape {
    index_t n = 0;
    index_t c = 0;
    index_t h = 0;
    index_t w = 0;

    constexpr index_t count() const { return n * c * h * w; }
    constexpr index_t plane() const { return h * w; }          // elements in one channel
    constexpr index_t per_sample() const { return c * h * w; }  // elements in one batch item
    constexpr bool operator==(const Shape&) const = default;

    /// "[N=8, C=1, H=64, W=64]": the form every error message uses.
    std::string str() const {
        return "[N=" + std::to_string(n) + ", C=" + std::to_string(c) + ", H=" + std::to_string(h) +
               ", W=" + std::to_string(w) + "]";
    }
};

}  // namespace chroma
