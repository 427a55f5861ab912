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
    // x > 0 exactly where relu(x) > 0, so the derivative can be read from the output.
    static constexpr bool derivative_from_output = true;
};

template <float NegativeSlope>
struct leaky_relu {
    static std::string describe() { return "LeakyReLU(" + std::to_string(NegativeSlope) + ")"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : T(NegativeSlope) * x; }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : T(NegativeSlope); }
    // A positive slope keeps the sign, so the output tells which side x was on.
    static constexpr bool derivative_from_output = NegativeSlope > 0.0f;
};

struct tanh {
    static std::string describe() { return "Tanh"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return std::tanh(x); }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T, T y) const { return T(1) - y * y; }
    static constexpr bool derivative_from_output = true;
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
    static constexpr bool derivative_from_output = true;
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
            require_nonempty(describe, in);
            return in;
        }
        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            if (in_place_) {
                // Overwrites the input where it lies: the derivative needs only the output.
                output_ = x;
                output_shape(x.shape());
                kernels::unary_forward(x, output_, Op{});
                input_ = output_;
                return output_;
            }
            ActivationPool<T, B>::take(output_, output_shape(x.shape()));
            kernels::unary_forward(x, output_, Op{});
            input_ = x;
            return output_;
        }

        /// Whether the layer may overwrite its input with its output, saving a buffer the size
        /// of the activation. Sequential asks for it where the layer before is one whose backward
        /// never reads its own output (a convolution), so no one else reads that buffer. Only
        /// for an Op whose derivative can be read from its output.
        void set_in_place(bool in_place) {
            if constexpr (requires { Op::derivative_from_output; }) in_place_ = in_place && Op::derivative_from_output;
        }
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_.shape());
            kernels::unary_backward(input_, output_, dy, input_grad_, Op{});
            return input_grad_;
        }
        template <class V>
        void visit_parameters(V&&) {}
        void set_training(bool) {}
        /// Hands the output buffer to the activation pool (Sequential does, for inference only).
        void release_output() { ActivationPool<T, B>::give(output_); }
        /// Hands the input gradient's buffer to the pool once the layer before has read it.
        void release_input_gradient() { ActivationPool<T, B>::give(input_grad_); }

    private:
        Tensor<T, B> input_, output_, input_grad_;
        bool in_place_ = false;
    };
};

using ReLU = Elementwise<ops::relu>;
/// LeakyReLU with PyTorch's default slope 0.01; GAN discriminators use LeakyReLU<0.2f>.
template <float NegativeSlope = 0.01f>
using LeakyReLU = Elementwise<ops::leaky_relu<NegativeSlope>>;
using Tanh = Elementwise<ops::tanh>;
using Sigmoid = Elementwise<ops::sigmoid>;

}  // namespace chroma
