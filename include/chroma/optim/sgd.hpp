#pragma once
// Plain stochastic gradient descent: value -= learning_rate * grad, for every trainable parameter.
#include <string_view>

#include "../backend/cpu/elementwise.hpp"
#include "../core/parameter.hpp"

namespace chroma::optim {

class Sgd {
public:
    explicit Sgd(double learning_rate) : learning_rate_(learning_rate) {}

    template <class Net>
    void step(Net& net) const {
        net.visit_parameters([&](std::string_view, auto& p) {
            using T = typename std::remove_reference_t<decltype(p.value)>::value_type;
            if (p.trainable()) kernels::axpy(static_cast<T>(-learning_rate_), p.grad, p.value);
        });
    }

    double learning_rate() const { return learning_rate_; }

private:
    double learning_rate_;
};

}  // namespace chroma::optim
