#pragma once
// Frozen<Spec>: a pretrained block held as it is while the rest of a network trains, the usual
// first stage of fine-tuning a backbone.
//
// - It always runs in evaluation mode (a BatchNorm inside normalises by its running statistics,
//   a Dropout passes everything), also while the network trains and after it is unfrozen, so
//   the features the block was trained to give are not re-normalised batch by batch.
// - While frozen, its parameters are marked Parameter::frozen: optimisers, zero_grad and
//   gradient clipping skip them, and parameter_count() leaves them out.
// - While frozen, backward passes no gradient back: it returns zeros of the input's shape and
//   computes nothing, which is what makes a frozen backbone cheap to train behind. So a frozen
//   block must have nothing trainable before it (a pretrained encoder at the start of a network,
//   or a chain of frozen blocks). Once unfrozen it is an ordinary pass-through whose parameters
//   train and whose backward is exact. A block is unfrozen by set_frozen(false) or by releasing
//   its parameters (set_frozen_parameters, by name): it counts as frozen while any of its
//   weights, biases, scales or shifts is.
// Parameter names pass through unchanged, so a checkpoint does not depend on the freezing.
#include <string>

#include "../backend/cpu/elementwise.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

template <class Spec>
struct Frozen {
    static_assert(detail::require_layer_spec<Spec>::ok);
    static constexpr int in_channels = Spec::in_channels;
    static constexpr int out_channels = Spec::out_channels;

    template <class T, Backend B>
    class layer {
    public:
        layer() {
            inner_.set_training(false);
            set_frozen(true);
        }

        static std::string describe() { return "Frozen(" + layer_t<Spec, T, B>::describe() + ")"; }
        Shape output_shape(Shape in) const { return inner_.output_shape(in); }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            input_shape_ = x.shape();
            return inner_.forward(x);
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            if (!frozen()) return inner_.backward(dy);
            ActivationPool<T, B>::take(input_grad_, input_shape_);
            kernels::fill(input_grad_, T(0));
            return input_grad_;
        }

        template <class V>
        void visit_parameters(V&& visit) {
            inner_.visit_parameters(visit);
        }
        /// Ignored: the block always runs in evaluation mode.
        void set_training(bool) { inner_.set_training(false); }
        void set_inference(bool inference) { detail::set_inference(inner_, inference); }
        void release_output() { detail::release_output(inner_); }
        void release_input_gradient() {
            ActivationPool<T, B>::give(input_grad_);
            detail::release_input_gradient(inner_);
        }

        /// Freezes (the default) or releases the block's parameters.
        void set_frozen(bool frozen) {
            frozen_ = frozen;
            inner_.visit_parameters([frozen](auto, auto& parameter) {
                if (parameter.role != parameter_role::statistic) parameter.frozen = frozen;
            });
        }
        bool frozen() {
            bool any_learnt = false, any_frozen = false;
            inner_.visit_parameters([&](auto, auto& parameter) {
                if (parameter.role == parameter_role::statistic) return;
                any_learnt = true;
                any_frozen = any_frozen || parameter.frozen;
            });
            return any_learnt ? any_frozen : frozen_;
        }
        auto& inner() { return inner_; }

    private:
        layer_t<Spec, T, B> inner_;
        Shape input_shape_{};
        Tensor<T, B> input_grad_;
        bool frozen_ = true;  // what counts for a block without parameters
    };
};

/// Freezes or releases the weights, biases, scales and shifts of `net` whose names start with
/// `name_prefix` (a Frozen block whose parameters are all released trains, see above). Returns
/// how many changed.
template <class Net>
int set_frozen_parameters(Net& net, bool frozen, const std::string& name_prefix) {
    int changed = 0;
    net.visit_parameters([&](std::string_view name, auto& parameter) {
        if (parameter.role != parameter_role::statistic && name.starts_with(name_prefix) && parameter.frozen != frozen) {
            parameter.frozen = frozen;
            ++changed;
        }
    });
    return changed;
}

}  // namespace chroma
