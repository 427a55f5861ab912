#pragma once
// Model<Net, Backend, T>: a network spec instantiated on one backend, with the conveniences a
// training loop needs (train/eval, zero_grad, parameter listing and counting).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/cpu/elementwise.hpp"
#include "../init/pytorch_default.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "sequential.hpp"

namespace chroma {

template <class Net, Backend B = cpu, class T = float>
class Model : public layer_t<Net, T, B> {
    static_assert(detail::require_layer_spec<Net>::ok);

public:
    using spec = Net;
    using backend = B;
    using value_type = T;
    static constexpr int in_channels = Net::in_channels;
    static constexpr int out_channels = Net::out_channels;

    /// Initialises the parameters as PyTorch would by default, reproducibly from `seed`.
    explicit Model(std::uint64_t seed = 0) { init::pytorch_default(*this, seed); }

    void train() {
        set_inference(false);
        this->set_training(true);
    }
    void eval() {
        set_inference(false);
        this->set_training(false);
    }
    /// Evaluation mode for a network that will not be differentiated, as torch.inference_mode:
    /// each layer's output buffer is handed on (nn/activation_pool.hpp) as soon as the next layer
    /// has read it, so a chain holds about two activations instead of one per layer. forward()'s
    /// result is kept as usual; backward() is refused until train() or eval().
    void inference() {
        this->set_training(false);
        set_inference(true);
    }
    bool inference_only() const { return inference_; }

    /// The network's backward; refused after inference(), whose layers have let go of the
    /// activations it needs.
    const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
        if (inference_)
            throw usage_error("backward() on a model in inference mode, which keeps no activations: call train() or "
                              "eval() before the forward pass");
        return layer_t<Net, T, B>::backward(dy);
    }

    /// Sets every gradient to zero (backward adds into them).
    void zero_grad() {
        this->visit_parameters([](std::string_view, Parameter<T, B>& p) {
            if (p.trainable() && p.has_gradient()) kernels::fill(p.grad, T(0));
        });
    }

    /// Number of trainable values (what papers report as "parameters").
    index_t parameter_count() {
        index_t total = 0;
        this->visit_parameters([&](std::string_view, Parameter<T, B>& p) {
            if (p.trainable()) total += p.value.size();
        });
        return total;
    }

    /// Every parameter and statistic name, in visit order.
    std::vector<std::string> parameter_names() {
        std::vector<std::string> names;
        this->visit_parameters([&](std::string_view name, Parameter<T, B>&) { names.emplace_back(name); });
        return names;
    }

    /// The parameter called `name`; throws usage_error listing nothing else if there is none.
    Parameter<T, B>& parameter(std::string_view name) {
        Parameter<T, B>* found = nullptr;
        this->visit_parameters([&](std::string_view n, Parameter<T, B>& p) {
            if (n == name) found = &p;
        });
        if (!found) throw usage_error("the model has no parameter named '" + std::string(name) + "'");
        return *found;
    }

private:
    void set_inference(bool inference) {
        inference_ = inference;
        detail::set_inference(static_cast<layer_t<Net, T, B>&>(*this), inference);
    }

    bool inference_ = false;
};

}  // namespace chroma
