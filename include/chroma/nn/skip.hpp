#pragma once
// Skip<Inner, Projection, Merge>: runs Inner and Projection on the same input and merges their
// outputs. Nesting Skips inside a Sequential gives a U-Net; Residual is a Skip with an
// add-then-ReLU merge. Inner's parameters appear directly under the Skip's name (so a ResNet
// block's "conv1.weight" keeps its PyTorch name); Projection's under "projection" unless Named.
#include <string>

#include "../backend/cpu/elementwise.hpp"
#include "activation.hpp"
#include "activation_pool.hpp"
#include "identity.hpp"
#include "merge.hpp"
#include "named.hpp"
#include "sequential.hpp"

namespace chroma {

/// Instantiated only when the two paths of an add-merge Skip give different channel counts.
template <int InnerGivesChannels, int ProjectionGivesChannels>
struct skip_channel_mismatch {
    static_assert(InnerGivesChannels == ProjectionGivesChannels,
                  "chroma::Skip: the inner path and the projection give different channel counts, so their outputs "
                  "cannot be added (read skip_channel_mismatch<inner channels, projection channels> above; "
                  "use a 1x1 Conv2d projection or the Concat merge)");
    static constexpr bool ok = true;
};

/// Instantiated only when the two paths of a Skip expect different input channels.
template <int InnerExpectsChannels, int ProjectionExpectsChannels>
struct skip_input_mismatch {
    static_assert(InnerExpectsChannels == ProjectionExpectsChannels,
                  "chroma::Skip: the inner path and the projection expect different input channels "
                  "(read skip_input_mismatch<inner channels, projection channels> above)");
    static constexpr bool ok = true;
};

template <class Inner, class Projection = Identity, class Merge = AddThen<ReLU>>
struct Skip {
    static_assert(detail::require_layer_spec<Inner>::ok && detail::require_layer_spec<Projection>::ok);

private:
    static constexpr int a_in = Inner::in_channels, b_in = Projection::in_channels;
    static constexpr bool inputs_agree = a_in == any_channels || b_in == any_channels || a_in == b_in;
    static_assert(std::conditional_t<inputs_agree, detail::channels_match, skip_input_mismatch<a_in, b_in>>::ok);
    static constexpr int input = a_in != any_channels ? a_in : b_in;
    static constexpr int inner_out = Inner::out_channels != any_channels ? Inner::out_channels : input;
    static constexpr int projection_out = Projection::out_channels != any_channels ? Projection::out_channels : input;
    static_assert(std::conditional_t<Merge::accepts(inner_out, projection_out), detail::channels_match,
                                     skip_channel_mismatch<inner_out, projection_out>>::ok);

public:
    static constexpr int in_channels = input;
    static constexpr int out_channels = Merge::out_channels_for(inner_out, projection_out);

    template <class T, Backend B>
    class layer {
        static std::string inner_name() { return detail::child_name<Inner>(""); }
        static std::string projection_name() { return detail::child_name<Projection>("projection"); }

    public:
        static std::string describe() { return "Skip(" + layer_t<Merge, T, B>::describe() + ")"; }

        Shape output_shape(Shape in) const {
            const Shape a = detail::with_context(inner_name, [&] { return inner_.output_shape(in); });
            const Shape b = detail::with_context(projection_name, [&] { return projection_.output_shape(in); });
            return merge_.output_shape(a, b);
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Tensor<T, B>& a =
                detail::with_context(inner_name, [&]() -> const Tensor<T, B>& { return inner_.forward(x); });
            const Tensor<T, B>& b = detail::with_context(
                projection_name(), [&]() -> const Tensor<T, B>& { return projection_.forward(x); });
            const Tensor<T, B>& merged = merge_.forward(a, b);
            if (inference_) {  // both paths have been read
                detail::release_output(inner_);
                detail::release_output(projection_);
            }
            return merged;
        }

        /// Hands the merged output to the activation pool (inference only).
        void release_output() { detail::release_output(merge_); }

        /// Inference only (Model::inference): the paths' outputs go back to the activation pool
        /// once merged.
        void set_inference(bool inference) {
            inference_ = inference;
            detail::set_inference(inner_, inference);
            detail::set_inference(projection_, inference);
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            const auto [da, db] = merge_.backward(dy);
            const Tensor<T, B>& dx_inner =
                detail::with_context(inner_name, [&]() -> const Tensor<T, B>& { return inner_.backward(da); });
            const Tensor<T, B>& dx_projection = detail::with_context(
                projection_name(), [&]() -> const Tensor<T, B>& { return projection_.backward(db); });
            ActivationPool<T, B>::take(input_grad_, dx_inner.shape());
            kernels::add(dx_inner, dx_projection, input_grad_);
            // Every gradient inside has been read.
            detail::release_input_gradient(merge_);
            detail::release_input_gradient(inner_);
            detail::release_input_gradient(projection_);
            return input_grad_;
        }

        void release_input_gradient() { ActivationPool<T, B>::give(input_grad_); }

        template <class V>
        void visit_parameters(V&& visit) {
            detail::visit_child(inner_, inner_name(), visit);
            detail::visit_child(projection_, projection_name(), visit);
            detail::visit_child(merge_, "merge", visit);
        }

        void set_training(bool training) {
            inner_.set_training(training);
            projection_.set_training(training);
            merge_.set_training(training);
        }

        auto& inner() { return inner_; }
        auto& projection() { return projection_; }

    private:
        layer_t<Inner, T, B> inner_;
        layer_t<Projection, T, B> projection_;
        layer_t<Merge, T, B> merge_;
        Tensor<T, B> input_grad_;
        bool inference_ = false;
    };
};

/// A ResNet basic block: relu(body(x) + shortcut(x)). The shortcut is the identity, or a
/// projection (1x1 strided conv + BatchNorm) when the body changes channels or size.
template <class Body, class Shortcut = Identity>
using Residual = Skip<Body, Shortcut, AddThen<ReLU>>;

}  // namespace chroma
