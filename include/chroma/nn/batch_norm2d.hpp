#pragma once
// BatchNorm2d: per-channel batch normalisation with a learned scale and shift, as
// torch.nn.BatchNorm2d(Channels, eps=Eps, momentum=Momentum) with affine and running statistics.
//
// Momentum and Eps are double template arguments so that the defaults are PyTorch's own values
// (0.1 and 1e-5) exactly: BatchNorm2d<64>, BatchNorm2d<64, 0.01>, BatchNorm2d<64, 0.1, 1e-3>.
// Parameters, named as in PyTorch's state_dict: weight [C] (scale, starts at 1), bias [C] (shift,
// starts at 0), running_mean [C] (starts at 0), running_var [C] (starts at 1) and
// num_batches_tracked (counts training forwards).
//
// In training mode it normalises with the statistics of its own batch, or, inside a
// SynchronisedBatchNorm scope (batch_norm_group.hpp), with those of every rank's batch.
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../backend/cpu/batch_norm.hpp"
#include "../backend/cpu/elementwise.hpp"
#include "../core/number_text.hpp"
#include "../core/error.hpp"
#include "batch_norm_group.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {

template <int Channels, double Momentum = 0.1, double Eps = 1e-5>
struct BatchNorm2d {
    static_assert(Channels > 0, "BatchNorm2d: the channel count must be positive");
    static_assert(Momentum >= 0.0 && Momentum <= 1.0, "BatchNorm2d: momentum must lie in [0, 1]");
    static_assert(Eps > 0.0, "BatchNorm2d: eps must be positive (it keeps 1 / sqrt(var + eps) finite)");

    static constexpr int in_channels = Channels;
    static constexpr int out_channels = Channels;
    static constexpr double momentum = Momentum, eps = Eps;

    template <class T, Backend B>
    class layer {
    public:
        layer()
            : weight_(Parameter<T, B>::vector(Channels, parameter_role::scale)),
              bias_(Parameter<T, B>::vector(Channels, parameter_role::shift)),
              running_mean_(Parameter<T, B>::vector(Channels, parameter_role::statistic)),
              running_var_(Parameter<T, B>::vector(Channels, parameter_role::statistic)),
              batches_tracked_(Parameter<T, B>::vector(1, parameter_role::statistic)),
              saved_mean_(Shape{.n = Channels, .c = 1, .h = 1, .w = 1}),
              saved_invstd_(Shape{.n = Channels, .c = 1, .h = 1, .w = 1}) {
            kernels::fill(weight_.value, T(1));
            kernels::fill(running_var_.value, T(1));
            batches_tracked_.rank = 0;  // a scalar in PyTorch
        }

        static std::string describe() {
            return "BatchNorm2d(" + std::to_string(Channels) + ", momentum " + detail::number_text(Momentum) +
                   ", eps " + detail::number_text(Eps) + ")";
        }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            require_channels(describe, Channels, in);
            return in;
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            ActivationPool<T, B>::take(output_, output_shape(x.shape()));
            batch_statistics_ = training_;
            synchronised_ = nullptr;
            if (training_) {
                // PyTorch refuses this too: one value has no variance to normalise by.
                if (x.shape().n * x.shape().plane() < 2)
                    throw shape_error(describe() + " needs more than one value per channel in training mode, got "
                                                   "input of shape " +
                                      x.shape().str());
                if (batch_norm_group() && batch_norm_group()->size() > 1) {
                    synchronised_ = batch_norm_group();
                    if constexpr (std::is_same_v<B, cpu>) {
                        share_ = kernels::batch_norm_forward_training_synchronised(
                            x, weight_.value, bias_.value, T(Momentum), T(Eps), running_mean_.value,
                            running_var_.value, batches_tracked_.value, saved_mean_, saved_invstd_, output_, exchange_,
                            [ranks = synchronised_](std::span<double> v) { ranks->all_reduce_sum(v); });
                    } else {
                        throw usage_error(describe() + ": synchronised BatchNorm exchanges host memory and runs on "
                                                       "the CPU backend only");
                    }
                } else {
                    kernels::batch_norm_forward_training(x, weight_.value, bias_.value, T(Momentum), T(Eps),
                                                         running_mean_.value, running_var_.value,
                                                         batches_tracked_.value, saved_mean_, saved_invstd_, output_);
                }
            } else {
                kernels::batch_norm_forward_inference(x, weight_.value, bias_.value, T(Eps), running_mean_.value,
                                                      running_var_.value, saved_mean_, saved_invstd_, output_);
            }
            input_ = x;
            return output_;
        }

        /// Differentiates the forward that ran last, in the mode it ran in.
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, output_, dy);
            ActivationPool<T, B>::take(input_grad_, input_.shape());
            if constexpr (std::is_same_v<B, cpu>) {
                if (batch_statistics_ && synchronised_) {
                    kernels::batch_norm_backward_synchronised(
                        input_, dy, weight_.value, saved_mean_, saved_invstd_, share_, input_grad_, weight_.gradient(),
                        bias_.gradient(), exchange_,
                        [ranks = synchronised_](std::span<double> v) { ranks->all_reduce_sum(v); });
                    return input_grad_;
                }
            }
            kernels::batch_norm_backward(input_, dy, weight_.value, saved_mean_, saved_invstd_, batch_statistics_,
                                         input_grad_, weight_.gradient(), bias_.gradient());
            return input_grad_;
        }

        template <class V>
        void visit_parameters(V&& visit) {
            visit("weight", weight_);
            visit("bias", bias_);
            visit("running_mean", running_mean_);
            visit("running_var", running_var_);
            visit("num_batches_tracked", batches_tracked_);
        }
        void set_training(bool training) { training_ = training; }
        /// Hands the output buffer to the activation pool (Sequential does, for inference only).
        void release_output() { ActivationPool<T, B>::give(output_); }
        /// Hands the input gradient's buffer to the pool once the layer before has read it.
        void release_input_gradient() { ActivationPool<T, B>::give(input_grad_); }
        bool training() const noexcept { return training_; }

    private:
        Parameter<T, B> weight_, bias_, running_mean_, running_var_, batches_tracked_;
        Tensor<T, B> saved_mean_, saved_invstd_;  // per channel, from the last forward
        Tensor<T, B> input_, output_, input_grad_;
        bool training_ = true;           // PyTorch modules start in training mode
        bool batch_statistics_ = true;   // whether the last forward normalised with batch statistics
        distributed::Communicator* synchronised_ = nullptr;  // the ranks the last training forward summed over
        double share_ = 1.0;             // then: this rank's part of the values of each channel
        std::vector<double> exchange_;   // the statistics the ranks sum, kept between steps
    };
};

}  // namespace chroma
