#pragma once
// Weight clipping for a Wasserstein critic (Arjovsky et al. 2017; seed 004 "clamps the weights of
// the network to some range"): after each critic update every trainable parameter (weights,
// biases, normalisation scales and shifts, as the original clamps all of them) is clamped to
// [-c, c], which keeps the critic K-Lipschitz for some K. Running statistics are left alone.
#include <string>
#include <string_view>
#include <type_traits>

#include "../backend/cpu/elementwise.hpp"
#include "../core/error.hpp"
#include "../core/host_device.hpp"

namespace chroma::loss {

namespace terms {
/// x clamped to [low, high], as an element-wise operation for kernels::unary_forward.
struct clamp_to {
    double low, high;
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const {
        return x < static_cast<T>(low) ? static_cast<T>(low) : (x > static_cast<T>(high) ? static_cast<T>(high) : x);
    }
};
}  // namespace terms

/// Clamps every trainable parameter of `model` (anything with visit_parameters) to [-c, c].
/// Throws usage_error unless c > 0.
template <class Model>
void clip_weights(Model& model, double c) {
    if (!(c > 0.0)) throw usage_error("clip_weights needs a positive clipping value c, got " + std::to_string(c));
    model.visit_parameters([&](std::string_view, auto& parameter) {
        if (parameter.trainable()) kernels::unary_forward(parameter.value, parameter.value, terms::clamp_to{-c, c});
    });
}

}  // namespace chroma::loss
