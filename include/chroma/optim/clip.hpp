#pragma once
// Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_: when the global L2 norm of all
// gradients exceeds max_norm, every gradient is scaled by max_norm / (norm + 1e-6).
#include <cmath>
#include <string_view>

#include "../backend/cpu/optimizer.hpp"
#include "../core/error.hpp"

namespace chroma::optim {

/// Returns the norm before clipping.
template <class Net>
double clip_grad_norm(Net& net, double max_norm) {
    if (!(max_norm > 0)) throw usage_error("clip_grad_norm: max_norm must be positive");
    double squares = 0.0;
    net.visit_parameters([&](std::string_view, auto& p) {
        if (p.trainable() && p.has_gradient()) squares += kernels::sum_of_squares(p.grad);
    });
    const double norm = std::sqrt(squares);
    if (norm > max_norm) {
        const double factor = max_norm / (norm + 1e-6);
        net.visit_parameters([&](std::string_view, auto& p) {
            using T = typename std::remove_reference_t<decltype(p.value)>::value_type;
            if (p.trainable() && p.has_gradient()) kernels::scale(p.grad, static_cast<T>(factor));
        });
    }
    return norm;
}

}  // namespace chroma::optim
