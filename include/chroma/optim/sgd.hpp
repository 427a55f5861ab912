#pragma once
// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
// weight decay, as torch.optim.SGD.
#include <string_view>

#include "../backend/cpu/optimizer.hpp"
#include "../core/parameter.hpp"
#include "optimizer_state.hpp"

namespace chroma::optim {

struct SgdOptions {
    double learning_rate = 0.01;
    double momentum = 0.0;
    double dampening = 0.0;
    bool nesterov = false;
    double weight_decay = 0.0;  // L2: added to the gradient as weight_decay * value
};

template <class T = float, Backend B = cpu>
class Sgd {
public:
    explicit Sgd(double learning_rate) : Sgd(SgdOptions{.learning_rate = learning_rate}) {}
    explicit Sgd(const SgdOptions& options) : options_(options) {
        if (options.learning_rate < 0 || options.momentum < 0 || options.weight_decay < 0)
            throw usage_error("Sgd: learning rate, momentum and weight decay must be >= 0");
        if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
            throw usage_error("Sgd: Nesterov momentum needs momentum > 0 and zero dampening");
    }

    /// Updates every trainable parameter of `net` from its gradient.
    template <class Net>
    void step(Net& net) {
        const bool momentum = options_.momentum != 0.0;
        const sgd_rule rule{options_.learning_rate, options_.momentum, options_.dampening, options_.weight_decay,
                            options_.nesterov, steps_ == 0};
        state_.for_each(net, momentum ? 1 : 0, [&](Parameter<T, B>& p, std::vector<Tensor<T, B>>& buffers) {
            kernels::sgd_update(rule, p.value, p.grad, momentum ? &buffers[0] : nullptr);
        });
        ++steps_;
    }

    double learning_rate() const { return options_.learning_rate; }
    void set_learning_rate(double rate) { options_.learning_rate = rate; }
    long long steps() const { return steps_; }
    /// Restores the step count (from a checkpoint).
    void set_steps(long long steps) { steps_ = steps; }
    /// Creates the zeroed state for `net` now rather than at the first step, so that a checkpoint
    /// can be loaded into it.
    template <class Net>
    void attach(Net& net) {
        state_.for_each(net, options_.momentum != 0.0 ? 1 : 0, [](auto&, auto&) {}, false);
    }
    const SgdOptions& options() const { return options_; }

    template <class V>
    void visit_state(V&& visit) {
        state_.visit({"momentum_buffer"}, visit);
    }

private:
    SgdOptions options_;
    parameter_state<T, B> state_;
    long long steps_ = 0;
};

}  // namespace chroma::optim
