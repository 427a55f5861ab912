#pragma once
// The scalings that bring L and ab into the range a network sees, named after what they do:
// normalized = (value - offset) / scale, and back.
//
//   lightness_unit       L / 100          [0, 1]          ColorNet (seed 000)
//   lightness_centered   (L - 50) / 100   [-0.5, 0.5]     the input of Zhang et al.'s ECCV16 network
//   ab_over_110          ab / 110         about [-1, 1]   Zhang et al.'s reference code's ab scale
//   ab_over_128          ab / 128         within (-1, 1)  ab for a tanh output layer
#include "../backend/cpu/elementwise.hpp"
#include "../core/host_device.hpp"
#include "../core/tensor.hpp"

namespace chroma::color {

struct Normalization {
    double offset = 0.0;
    double scale = 1.0;
};

inline constexpr Normalization lightness_unit{.offset = 0.0, .scale = 100.0};
inline constexpr Normalization lightness_centered{.offset = 50.0, .scale = 100.0};
inline constexpr Normalization ab_over_110{.offset = 0.0, .scale = 110.0};
inline constexpr Normalization ab_over_128{.offset = 0.0, .scale = 128.0};

namespace ops {
template <class T>
struct affine {
    T multiply, add;
    CHROMA_HOST_DEVICE T operator()(T x) const { return x * multiply + add; }
};
}  // namespace ops

/// In place: x <- (x - offset) / scale.
template <class T, Backend B>
void normalize_in_place(Tensor<T, B>& x, Normalization n) {
    kernels::unary_forward(x, x, ops::affine<T>{static_cast<T>(1.0 / n.scale), static_cast<T>(-n.offset / n.scale)});
}

/// In place: x <- x * scale + offset.
template <class T, Backend B>
void denormalize_in_place(Tensor<T, B>& x, Normalization n) {
    kernels::unary_forward(x, x, ops::affine<T>{static_cast<T>(n.scale), static_cast<T>(n.offset)});
}

/// A normalized copy: (x - offset) / scale.
template <class T, Backend B>
Tensor<T, B> normalize(const Tensor<T, B>& x, Normalization n) {
    Tensor<T, B> out = x.clone();
    normalize_in_place(out, n);
    return out;
}

/// A copy mapped back: x * scale + offset.
template <class T, Backend B>
Tensor<T, B> denormalize(const Tensor<T, B>& x, Normalization n) {
    Tensor<T, B> out = x.clone();
    denormalize_in_place(out, n);
    return out;
}

}  // namespace chroma::color
