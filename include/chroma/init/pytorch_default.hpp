#pragma once
// PyTorch's default initialisation for conv layers: weight and bias uniform in
// [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with a = sqrt(5)); BatchNorm scale 1,
// shift 0. Statistics keep the values their layer gave them.
#include <cmath>
#include <string_view>

#include "../core/parameter.hpp"
#include "../core/random.hpp"

namespace chroma::init {

template <class T, class B>
void pytorch_default(Parameter<T, B>& p, Rng& rng) {
    static_assert(B::host_accessible, "initialise on a host backend, then copy the parameters to the device");
    switch (p.role) {
        case parameter_role::weight:
        case parameter_role::bias: {
            const double bound = p.fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(p.fan_in)) : 0.0;
            for (index_t i = 0; i < p.value.size(); ++i) p.value.data()[i] = static_cast<T>(rng.uniform(-bound, bound));
            break;
        }
        case parameter_role::scale: p.value.fill(T(1)); break;
        case parameter_role::shift: p.value.fill(T(0)); break;
        case parameter_role::statistic: break;
    }
}

/// Initialises every parameter of `net` (anything with visit_parameters) from `seed`, in visit order.
template <class Net>
void pytorch_default(Net& net, std::uint64_t seed) {
    Rng rng(seed);
    net.visit_parameters([&](std::string_view, auto& p) { pytorch_default(p, rng); });
}

}  // namespace chroma::init
