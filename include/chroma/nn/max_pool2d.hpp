#pragma once
// MaxPool2d: the maximum of each Kernel x Kernel window, as torch.nn.MaxPool2d(Kernel, Stride,
// Padding) (dilation 1, floor mode). Padding counts as -infinity; ties pick the first maximum.
// Backward routes each output's gradient to the input pixel that was its maximum (recorded by
// forward, as PyTorch's indices).
// MaxPool2d<2> halves the size; MaxPool2d<3, 2, 1> is the ResNet stem's pool.
#include <string>
#include <type_traits>

#include "../backend/cpu/pooling.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

template <int Kernel, int Stride = Kernel, int Padding = 0>
struct MaxPool2d {
    static_assert(Kernel > 0 && Stride > 0, "MaxPool2d: kernel and stride must be positive");
    static_assert(Padding >= 0 && Padding <= Kernel / 2,
                  "MaxPool2d: padding must lie between 0 and half the kernel size (as in PyTorch), so that "
                  "every window covers at least one input pixel");

    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;
    static constexpr int kernel = Kernel, stride = Stride, padding = Padding;

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() {
            return "MaxPool2d(kernel " + std::to_string(Kernel) + ", stride " + std::to_string(Stride) +
                   ", padding " + std::to_string(Padding) + ")";
        }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            const index_t h = window.output_size(in.h), w = window.output_size(in.w);
            if (h <= 0 || w <= 0)
                throw shape_error(describe() + ": input " + in.str() + " is smaller than the " +
                                  std::to_string(Kernel) + "x" + std::to_string(Kernel) + " window plus padding");
            return Shape{.n = in.n, .c = in.c, .h = h, .w = w};
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Shape out = output_shape(x.shape());
            // Maximum positions are stored as T; float holds integers exactly only up to 2^24.
            if constexpr (std::is_same_v<T, float>)
                if (static_cast<double>(Kernel - 1) * static_cast<double>(x.shape().w + 1) >= 0x1.0p24)
                    throw shape_error(describe() + ": input " + x.shape().str() +
                                      " is too wide to record maximum positions in float; use double");
            ActivationPool<T, B>::take(output_, out);
            argmax_.resize(out);
            kernels::max_pool2d_forward(window, x, output_, argmax_);
            input_shape_ = x.shape();
            return output_;
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_shape_);
            kernels::max_pool2d_backward(window, dy, argmax_, input_grad_);
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
        static constexpr PoolWindow window{.kernel = Kernel, .stride = Stride, .padding = Padding};
        Shape input_shape_{};
        Tensor<T, B> output_, input_grad_;
        Tensor<T, B> argmax_;  // where each output's maximum lay in its window (see max_pool2d_forward)
    };
};

}  // namespace chroma
