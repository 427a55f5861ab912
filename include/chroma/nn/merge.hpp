#pragma once
// Merges join two paths of a Skip: AddThen<Activation> (add, then activate: the ResNet and
// ColorNet U-Net merge) and Concat (stack channels: the classic U-Net merge).
//
// A merge spec offers out_channels_for(a, b), accepts(a, b), and a runtime layer with
// forward(a, b) -> output and backward(dy) -> {da, db}.
#include <string>
#include <utility>

#include "../backend/cpu/elementwise.hpp"
#include "activation_pool.hpp"
#include "identity.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

template <class T, class B>
using gradient_pair = std::pair<const Tensor<T, B>&, const Tensor<T, B>&>;

/// a + b, then Activation (Identity for a plain sum). Both paths must have equal shapes.
template <class Activation = Identity>
struct AddThen {
    static constexpr bool accepts(int a, int b) { return a == any_channels || b == any_channels || a == b; }
    static constexpr int out_channels_for(int a, int b) { return a != any_channels ? a : b; }

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() { return "add then " + layer_t<Activation, T, B>::describe(); }
        Shape output_shape(Shape a, Shape b) const {
            if (!(a == b))
                throw shape_error(describe() + ": the two paths give different shapes, " + a.str() + " and " + b.str());
            return activation_.output_shape(a);
        }
        const Tensor<T, B>& forward(const Tensor<T, B>& a, const Tensor<T, B>& b) {
            ActivationPool<T, B>::take(sum_, output_shape(a.shape(), b.shape()));
            kernels::add(a, b, sum_);
            return activation_.forward(sum_);
        }
        gradient_pair<T, B> backward(const Tensor<T, B>& dy) {
            const Tensor<T, B>& dsum = activation_.backward(dy);
            return {dsum, dsum};
        }
        template <class V>
        void visit_parameters(V&& visit) {
            activation_.visit_parameters(visit);
        }
        void set_training(bool training) { activation_.set_training(training); }
        /// Hands the sum and the activation's output to the activation pool (inference only).
        void release_output() {
            ActivationPool<T, B>::give(sum_);
            detail::release_output(activation_);
        }
        void release_input_gradient() { detail::release_input_gradient(activation_); }

    private:
        Tensor<T, B> sum_;
        layer_t<Activation, T, B> activation_;
    };
};

/// [a, b] stacked along channels. Both paths must share N, H and W.
struct Concat {
    static constexpr bool accepts(int, int) { return true; }
    static constexpr int out_channels_for(int a, int b) {
        return a == any_channels || b == any_channels ? any_channels : a + b;
    }

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() { return "Concat"; }
        Shape output_shape(Shape a, Shape b) const {
            if (a.n != b.n || a.h != b.h || a.w != b.w)
                throw shape_error("Concat: the two inputs differ in N, H or W: " + a.str() + " and " + b.str());
            return Shape{.n = a.n, .c = a.c + b.c, .h = a.h, .w = a.w};
        }
        const Tensor<T, B>& forward(const Tensor<T, B>& a, const Tensor<T, B>& b) {
            ActivationPool<T, B>::take(output_, output_shape(a.shape(), b.shape()));
            kernels::concat_channels(a, b, output_);
            first_shape_ = a.shape();
            second_shape_ = b.shape();
            return output_;
        }
        gradient_pair<T, B> backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(first_grad_, first_shape_);
            ActivationPool<T, B>::take(second_grad_, second_shape_);
            kernels::split_channels(dy, first_grad_, second_grad_);
            return {first_grad_, second_grad_};
        }
        template <class V>
        void visit_parameters(V&&) {}
        void set_training(bool) {}
        /// Hands the output buffer to the activation pool (inference only).
        void release_output() { ActivationPool<T, B>::give(output_); }
        void release_input_gradient() {
            ActivationPool<T, B>::give(first_grad_);
            ActivationPool<T, B>::give(second_grad_);
        }

    private:
        Tensor<T, B> output_, first_grad_, second_grad_;
        Shape first_shape_{}, second_shape_{};
    };
};

}  // namespace chroma
