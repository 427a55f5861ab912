#pragma once
// ConvTranspose2d as torch.nn.ConvTranspose2d (no groups): the gradient of a convolution with
// respect to its input, used for learned upsampling (Zhang's conv8 is 4x4, stride 2, padding 1).
// Parameters: weight [In, Out, K, K], bias [Out].
#include <string>

#include "../backend/cpu/conv.hpp"
#include "../core/conv_geometry.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"
#include "scratch_workspace.hpp"

namespace chroma {

template <int In, int Out, int Kernel, int Stride = 1, int Padding = 0, int OutputPadding = 0, int Dilation = 1,
          bool Bias = true>
struct ConvTranspose2d {
    static_assert(In > 0 && Out > 0, "ConvTranspose2d: channel counts must be positive");
    static_assert(Kernel > 0 && Stride > 0 && Dilation > 0,
                  "ConvTranspose2d: kernel, stride and dilation must be positive");
    static_assert(Padding >= 0, "ConvTranspose2d: padding must be >= 0");
    static_assert(OutputPadding >= 0 && OutputPadding < Stride,
                  "ConvTranspose2d: output padding must be smaller than the stride");

    static constexpr int in_channels = In;
    static constexpr int out_channels = Out;
    static constexpr int kernel = Kernel, stride = Stride, padding = Padding, dilation = Dilation;

    template <class T, Backend B>
    class layer {
    public:
        /// backward() reads the input, the weight and dy, never the output: the layer after it
        /// may overwrite that output (Elementwise::set_in_place).
        static constexpr bool backward_reads_output = false;

        layer()
            // PyTorch computes fan_in of a transposed conv from weight dim 1, i.e. Out * K * K.
            : weight_(Parameter<T, B>::make(Shape{.n = In, .c = Out, .h = Kernel, .w = Kernel}, parameter_role::weight,
                                            Out * Kernel * Kernel, In * Kernel * Kernel)) {
            if constexpr (Bias) bias_ = Parameter<T, B>::vector(Out, parameter_role::bias, Out * Kernel * Kernel);
        }

        static std::string describe() {
            return "ConvTranspose2d(" + std::to_string(In) + "->" + std::to_string(Out) + ", kernel " +
                   std::to_string(Kernel) + ", stride " + std::to_string(Stride) + ", padding " +
                   std::to_string(Padding) + ", dilation " + std::to_string(Dilation) + ")";
        }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            require_channels(describe, In, in);
            const index_t h =
                ConvGeometry::transposed_output_size(in.h, Kernel, Stride, Padding, Dilation, OutputPadding);
            const index_t w =
                ConvGeometry::transposed_output_size(in.w, Kernel, Stride, Padding, Dilation, OutputPadding);
            if (h <= 0 || w <= 0)
                throw shape_error(describe() + ": input " + in.str() + " gives an empty output: padding " +
                                  std::to_string(Padding) + " removes more than the kernel adds");
            return Shape{.n = in.n, .c = Out, .h = h, .w = w};
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Shape out = output_shape(x.shape());
            // The equivalent convolution runs from this layer's output back to its input.
            geometry_ = ConvGeometry{.in_channels = Out, .out_channels = In, .kernel = Kernel, .stride = Stride,
                                     .padding = Padding, .dilation = Dilation, .in_h = out.h, .in_w = out.w,
                                     .out_h = x.shape().h, .out_w = x.shape().w};
            ActivationPool<T, B>::take(output_, out);
            kernels::conv_transpose2d_forward(geometry_, x, weight_.value, Bias ? &bias_.value : nullptr, output_,
                                              workspace_.get());
            input_ = x;
            notify_forward(weight_, output_, weight_layout::in_out);
            return output_;
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_.shape());
            kernels::conv_transpose2d_backward(geometry_, input_, weight_.value, dy, &input_grad_, weight_.gradient(),
                                               Bias ? &bias_.gradient() : nullptr, workspace_.get());
            return input_grad_;
        }

        template <class V>
        void visit_parameters(V&& visit) {
            visit("weight", weight_);
            if constexpr (Bias) visit("bias", bias_);
        }
        void set_training(bool) {}
        /// Hands the output buffer to the activation pool (Sequential does, for inference only).
        void release_output() { ActivationPool<T, B>::give(output_); }
        /// Hands the input gradient's buffer to the pool once the layer before has read it.
        void release_input_gradient() { ActivationPool<T, B>::give(input_grad_); }

    private:
        Parameter<T, B> weight_, bias_;
        ConvGeometry geometry_{};
        Tensor<T, B> input_, output_, input_grad_;
        ScratchWorkspace<T, B> workspace_;
    };
};

}  // namespace chroma
