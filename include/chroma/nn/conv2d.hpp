#pragma once
// Conv2d: 2-D convolution with kernel, stride, padding, dilation and optional bias, as
// torch.nn.Conv2d (no groups). Parameters: weight [Out, In, K, K], bias [Out].
#include <string>

#include "../backend/cpu/conv.hpp"
#include "../core/conv_geometry.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"
#include "scratch_workspace.hpp"

namespace chroma {

/// Padding value meaning "keep the size at stride 1": dilation * (kernel - 1) / 2 (odd kernels).
inline constexpr int same = -1;

template <int In, int Out, int Kernel, int Stride = 1, int Padding = 0, int Dilation = 1, bool Bias = true>
struct Conv2d {
    static_assert(In > 0 && Out > 0, "Conv2d: channel counts must be positive");
    static_assert(Kernel > 0 && Stride > 0 && Dilation > 0, "Conv2d: kernel, stride and dilation must be positive");
    static_assert(Padding >= 0 || Padding == same, "Conv2d: padding must be >= 0 or chroma::same");
    static_assert(Padding != same || Kernel % 2 == 1, "Conv2d: 'same' padding needs an odd kernel size");

    static constexpr int in_channels = In;
    static constexpr int out_channels = Out;
    static constexpr int kernel = Kernel, stride = Stride, dilation = Dilation;
    static constexpr int padding = Padding == same ? Dilation * (Kernel - 1) / 2 : Padding;

    template <class T, Backend B>
    class layer {
    public:
        /// backward() reads the input, the weight and dy, never the output: the layer after it
        /// may overwrite that output (Elementwise::set_in_place).
        static constexpr bool backward_reads_output = false;

        layer()
            : weight_(Parameter<T, B>::make(Shape{.n = Out, .c = In, .h = Kernel, .w = Kernel}, parameter_role::weight,
                                            In * Kernel * Kernel, Out * Kernel * Kernel)) {
            if constexpr (Bias) bias_ = Parameter<T, B>::vector(Out, parameter_role::bias, In * Kernel * Kernel);
        }

        static std::string describe() {
            return "Conv2d(" + std::to_string(In) + "->" + std::to_string(Out) + ", kernel " + std::to_string(Kernel) +
                   ", stride " + std::to_string(Stride) + ", padding " + std::to_string(padding) + ", dilation " +
                   std::to_string(Dilation) + ")";
        }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            require_channels(describe, In, in);
            const index_t h = ConvGeometry::conv_output_size(in.h, Kernel, Stride, padding, Dilation);
            const index_t w = ConvGeometry::conv_output_size(in.w, Kernel, Stride, padding, Dilation);
            if (h <= 0 || w <= 0)
                throw shape_error(describe() + ": input " + in.str() + " is smaller than the dilated kernel (" +
                                  std::to_string(Dilation * (Kernel - 1) + 1) + " pixels) plus padding");
            return Shape{.n = in.n, .c = Out, .h = h, .w = w};
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Shape out = output_shape(x.shape());
            geometry_ = ConvGeometry{.in_channels = In, .out_channels = Out, .kernel = Kernel, .stride = Stride,
                                     .padding = padding, .dilation = Dilation, .in_h = x.shape().h,
                                     .in_w = x.shape().w, .out_h = out.h, .out_w = out.w};
            ActivationPool<T, B>::take(output_, out);
            kernels::conv2d_forward(geometry_, x, weight_.value, Bias ? &bias_.value : nullptr, output_, workspace_.get());
            input_ = x;
            notify_forward(weight_, output_);
            return output_;
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_.shape());
            kernels::conv2d_backward(geometry_, input_, weight_.value, dy, &input_grad_, weight_.gradient(),
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
