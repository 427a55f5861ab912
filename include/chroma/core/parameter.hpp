#pragma once
// A named trainable value (weight, bias, BatchNorm scale) or a non-trainable buffer
// (BatchNorm running statistics). One visitor mechanism reaches both, so initialisers,
// optimisers and serialisation share it; optimisers skip the buffers.
#include "tensor.hpp"

namespace chroma {

enum class parameter_role {
    weight,     // filled by initialisers from fan_in / fan_out
    bias,       // PyTorch's default fills it from fan_in too
    scale,      // BatchNorm gamma: starts at 1
    shift,      // BatchNorm beta: starts at 0
    statistic,  // running mean / variance / batch count: not trained, but saved
};

template <class T, Backend B = cpu>
struct Parameter {
    Tensor<T, B> value;
    Tensor<T, B> grad;  // empty until a backward reaches it (gradient()), then value's shape; statistics never have one
    parameter_role role = parameter_role::weight;
    index_t fan_in = 0;   // inputs feeding one output (PyTorch's definition for this layer)
    index_t fan_out = 0;  // outputs fed by one input
    int rank = 4;         // PyTorch's rank of this tensor: 4 for conv weights, 1 for biases and statistics
    bool frozen = false;  // held fixed (a pretrained backbone, nn/frozen.hpp): optimisers leave it alone

    /// Whether optimisers update it: a weight, bias, scale or shift that is not frozen.
    bool trainable() const noexcept { return role != parameter_role::statistic && !frozen; }

    /// Whether a backward has reached it since it was made, so that grad holds its gradient.
    bool has_gradient() const noexcept { return !grad.empty() && grad.shape() == value.shape(); }
    /// The gradient that backward adds into, allocated zeroed on first use, as PyTorch's .grad
    /// is: a model that only infers, or a frozen block, never holds gradient memory.
    Tensor<T, B>& gradient() {
        if (!has_gradient()) grad = Tensor<T, B>(value.shape());
        return grad;
    }

    /// Allocates the value with PyTorch's shape convention (weights are [out, in, kh, kw] stored
    /// in the four NCHW slots); the gradient comes with the first backward.
    static Parameter make(Shape shape, parameter_role role, index_t fan_in = 0, index_t fan_out = 0, int rank = 4) {
        Parameter p;
        p.value = Tensor<T, B>(shape);
        p.role = role;
        p.fan_in = fan_in;
        p.fan_out = fan_out;
        p.rank = rank;
        return p;
    }
    /// A 1-D parameter of `length` values ([length] in PyTorch), stored as [N=length, C=1, H=1, W=1].
    static Parameter vector(index_t length, parameter_role role, index_t fan_in = 0) {
        return make(Shape{.n = length, .c = 1, .h = 1, .w = 1}, role, fan_in, 0, 1);
    }
};

}  // namespace chroma
