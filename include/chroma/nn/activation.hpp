#pragma once
// Element-wise activations: ReLU, LeakyReLU, Tanh, Sigmoid. Each is a small functor with its
// value and derivative, wrapped by one layer template, so every backend runs the same maths.
#include <cmath>
#include <string>

#include "../backend/cpu/elementwise.hpp"
#include "../core/host_device.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {
namespace ops {

struct relu {
    static std::string describe() { return "ReLU"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : T(0); }
    // The derivative at 0 is taken as 0, as PyTorch does.
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : T(0); }
};

template <float NegativeSlope>
struct leaky_relu {
    static std::string describe() { return "LeakyReLU(" + std::to_string(NegativeSlope) + ")"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : T(NegativeSlope) * x; }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : T(NegativeSlope); }
};

struct tanh {
    static std::string describe() { return "Tanh"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return std::tanh(x); }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T, T y) const { return T(1) - y * y; }
};

struct sigmoid {
    static std::string describe() { return "Sigmoid"; }
    // Written to avoid overflow of exp for large |x|.
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T, T y) const { return y * (T(1) - y); }
};

}  // namespace ops

/// A layer applying Op to every element; shape and channels pass through unchanged.
template <class Op>
struct Elementwise {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() { return Op::describe(); }
        Shape output_shape(Shape in) const {
            require_nonempty(describe(), in);
            return in;
        }
        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            ActivationPool<T, B>::take(output_, output_shape(x.shape()));
            kernels::unary_forward(x, output_, Op{});
            input_ = x;
            return output_;
        }
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe(), output_, dy);
            input_grad_.resize(input_.shape());
            kernels::unary_backward(input_, output_, dy, input_grad_, Op{});
            return input_grad_;
        }
        template <class V>
        void visit_parameters(V&&) {}
        void set_training(bool) {}
        /// Hands the output buffer to the activation pool (Sequential does, for inference only).
        void release_output() { ActivationPool<T, B>::give(output_); }

    private:
        Tensor<T, B> input_, output_, input_grad_;
    };
};

using ReLU = Elementwise<ops::relu>;
/// LeakyReLU with PyTorch's default slope 0.01; GAN discriminators use LeakyReLU<0.2f>.
template <float NegativeSlope = 0.01f>
using LeakyReLU = Elementwise<ops::leaky_relu<NegativeSlope>>;
using Tanh = Elementwise<ops::tanh>;
using Sigmoid = Elementwise<ops::sigmoid>;

}  // namespace chroma
