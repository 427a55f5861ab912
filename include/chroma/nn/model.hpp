#pragma once
// Model<Net, Backend, T>: a network spec instantiated on one backend, with the conveniences a
// training loop needs (train/eval, zero_grad, parameter listing and counting).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/cpu/elementwise.hpp"
#include "../init/pytorch_default.hpp"
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

    void train() { this->set_training(true); }
    void eval() { this->set_training(false); }

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
};

}  // namespace chroma
