#pragma once
// Softmax: turns each pixel's channels into a probability distribution, as
// torch.nn.Softmax(dim=1); numerically stable (each pixel's maximum is subtracted first).
// Zhang et al.'s colorizer applies it to 313 ab-bin logits per pixel.
#include <string>

#include "../backend/cpu/softmax.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

struct Softmax {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() { return "Softmax(over channels)"; }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            return in;
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            ActivationPool<T, B>::take(output_, output_shape(x.shape()));
            kernels::softmax_channels_forward(x, output_);
            return output_;
        }

        /// Needs only the forward's output: dx = y * (dy - sum over channels of dy * y).
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, output_.shape());
            kernels::softmax_channels_backward(output_, dy, input_grad_);
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
        Tensor<T, B> output_, input_grad_;
    };
};

}  // namespace chroma
