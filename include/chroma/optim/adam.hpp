#pragma once
// Adam and AdamW as torch.optim.Adam / AdamW, with Keras' learning-rate `decay`
// (lr_t = lr / (1 + decay * t), t counting previous steps) that seed 001's recipe uses.
#include <cmath>
#include <string_view>

#include "../backend/cpu/optimizer.hpp"
#include "../core/parameter.hpp"
#include "optimizer_state.hpp"

namespace chroma::optim {

struct AdamOptions {
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;            // L2 for Adam; decoupled decay for AdamW
    bool decoupled_weight_decay = false;  // true: AdamW
    double decay = 0.0;                   // Keras-style learning-rate decay per step
};

/// AdamW's defaults (torch.optim.AdamW): decoupled weight decay 0.01.
inline AdamOptions adamw_options(double learning_rate = 1e-3, double weight_decay = 1e-2) {
    return AdamOptions{.learning_rate = learning_rate, .weight_decay = weight_decay, .decoupled_weight_decay = true};
}

template <class T = float, Backend B = cpu>
class Adam {
public:
    explicit Adam(const AdamOptions& options = {}) : options_(options) {
        if (options.learning_rate < 0 || options.eps < 0 || options.weight_decay < 0 || options.decay < 0)
            throw usage_error("Adam: learning rate, eps, weight decay and decay must be >= 0");
        if (options.beta1 < 0 || options.beta1 >= 1 || options.beta2 < 0 || options.beta2 >= 1)
            throw usage_error("Adam: betas must lie in [0, 1)");
    }

    template <class Net>
    void step(Net& net) {
        const double t = static_cast<double>(steps_ + 1);
        const double rate = options_.learning_rate / (1.0 + options_.decay * static_cast<double>(steps_));
        const adam_rule rule{rate,
                             options_.beta1,
                             options_.beta2,
                             options_.eps,
                             options_.weight_decay,
                             options_.decoupled_weight_decay,
                             1.0 - std::pow(options_.beta1, t),
                             1.0 - std::pow(options_.beta2, t)};
        state_.for_each(net, 2, [&](Parameter<T, B>& p, std::vector<Tensor<T, B>>& moments) {
            kernels::adam_update(rule, p.value, p.grad, moments[0], moments[1]);
        });
        ++steps_;
    }

    /// The base learning rate (schedules set it; Keras decay is applied on top).
    double learning_rate() const { return options_.learning_rate; }
    void set_learning_rate(double rate) { options_.learning_rate = rate; }
    long long steps() const { return steps_; }
    /// Restores the step count (from a checkpoint).
    void set_steps(long long steps) { steps_ = steps; }
    /// Creates the zeroed state for `net` now rather than at the first step, so that a checkpoint
    /// can be loaded into it.
    template <class Net>
    void attach(Net& net) {
        state_.for_each(net, 2, [](auto&, auto&) {}, false);
    }
    const AdamOptions& options() const { return options_; }

    template <class V>
    void visit_state(V&& visit) {
        state_.visit({"exp_avg", "exp_avg_sq"}, visit);
    }

private:
    AdamOptions options_;
    parameter_state<T, B> state_;
    long long steps_ = 0;
};

}  // namespace chroma::optim
