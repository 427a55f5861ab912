#pragma once
// Weight initialisers. Each fills the weights from their fan_in / fan_out (kept in every
// Parameter by its layer) and sets biases to zero; BatchNorm scales and shifts get 1 and 0.
// All draw from chroma::Rng in visit order, so a seed reproduces an initialisation anywhere.
//   he_normal:     N(0, 2 / fan_in)              (He et al. 2015; seed 001's choice; kaiming_normal_)
//   xavier_normal: N(0, 2 / (fan_in + fan_out))  (Glorot and Bengio 2010; xavier_normal_)
//   pytorch_default (init/pytorch_default.hpp): what a new PyTorch layer starts with.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "../core/parameter.hpp"
#include "../core/random.hpp"

namespace chroma::init {

namespace detail {

template <class Net, class StddevOf>
void normal_weights_zero_biases(Net& net, std::uint64_t seed, StddevOf stddev_of) {
    Rng rng(seed);
    net.visit_parameters([&](std::string_view, auto& p) {
        static_assert(std::remove_reference_t<decltype(p.value)>::backend::host_accessible,
                      "initialise on a host backend, then copy the parameters to the device");
        using T = typename std::remove_reference_t<decltype(p.value)>::value_type;
        switch (p.role) {
            case parameter_role::weight: {
                const double stddev = stddev_of(p);
                for (index_t i = 0; i < p.value.size(); ++i) p.value.data()[i] = static_cast<T>(rng.normal(0, stddev));
                break;
            }
            case parameter_role::bias: p.value.fill(T(0)); break;
            case parameter_role::scale: p.value.fill(T(1)); break;
            case parameter_role::shift: p.value.fill(T(0)); break;
            case parameter_role::statistic: break;
        }
    });
}

}  // namespace detail

template <class Net>
void he_normal(Net& net, std::uint64_t seed) {
    detail::normal_weights_zero_biases(net, seed, [](const auto& p) {
        return std::sqrt(2.0 / static_cast<double>(std::max<index_t>(1, p.fan_in)));
    });
}

template <class Net>
void xavier_normal(Net& net, std::uint64_t seed) {
    detail::normal_weights_zero_biases(net, seed, [](const auto& p) {
        return std::sqrt(2.0 / static_cast<double>(std::max<index_t>(1, p.fan_in + p.fan_out)));
    });
}

}  // namespace chroma::init
