#pragma once
// Upsample: enlarges height and width by an integer Factor, as
// torch.nn.Upsample(scale_factor=Factor, mode=...) with align_corners=False for bilinear.
// Upsample<2> copies each pixel into a 2x2 block; Upsample<4, upsample_mode::bilinear> is the
// last step of Zhang et al.'s colorizer.
#include <string>

#include "../backend/cpu/upsample.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

enum class upsample_mode {
    nearest,   // each output pixel copies the input pixel it falls in
    bilinear,  // interpolates the four nearest input pixel centres (align_corners=False)
};

template <int Factor, upsample_mode Mode = upsample_mode::nearest>
struct Upsample {
    static_assert(Factor > 0, "Upsample: the scale factor must be a positive integer");

    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;
    static constexpr int factor = Factor;
    static constexpr upsample_mode mode = Mode;

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() {
            return "Upsample(x" + std::to_string(Factor) + ", " +
                   (Mode == upsample_mode::nearest ? "nearest" : "bilinear") + ")";
        }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            return Shape{.n = in.n, .c = in.c, .h = in.h * Factor, .w = in.w * Factor};
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            ActivationPool<T, B>::take(output_, output_shape(x.shape()));
            if constexpr (Mode == upsample_mode::nearest)
                kernels::upsample_nearest_forward(Factor, x, output_);
            else
                kernels::upsample_bilinear_forward(Factor, x, output_);
            input_shape_ = x.shape();
            return output_;
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_shape_);
            if constexpr (Mode == upsample_mode::nearest)
                kernels::upsample_nearest_backward(Factor, dy, input_grad_);
            else
                kernels::upsample_bilinear_backward(Factor, dy, input_grad_);
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
        Shape input_shape_{};  // backward needs only the shape: the maps are linear
        Tensor<T, B> output_, input_grad_;
    };
};

}  // namespace chroma
