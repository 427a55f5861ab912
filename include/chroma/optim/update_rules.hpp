#pragma once
// The per-element update rules of the optimisers, shared by every backend's kernels. They follow
// PyTorch's torch.optim formulas exactly, so a run can be checked against PyTorch step by step.
#include <cmath>

#include "../core/host_device.hpp"

namespace chroma::optim {

/// SGD with momentum and Nesterov (torch.optim.SGD); weight_decay is L2 added to the gradient.
struct sgd_rule {
    double learning_rate, momentum, dampening, weight_decay;
    bool nesterov, first_step;

    template <class T>
    CHROMA_HOST_DEVICE void operator()(T& value, T grad, T* buffer) const {
        double d = static_cast<double>(grad) + weight_decay * static_cast<double>(value);
        if (momentum != 0.0) {
            const double b = first_step ? d : momentum * static_cast<double>(*buffer) + (1.0 - dampening) * d;
            *buffer = static_cast<T>(b);
            d = nesterov ? d + momentum * b : b;
        }
        value = static_cast<T>(static_cast<double>(value) - learning_rate * d);
    }
};

/// Adam and AdamW (torch.optim.Adam / AdamW) at step t >= 1; weight decay is L2 added to the
/// gradient (Adam) or decoupled, shrinking the value before the step (AdamW).
struct adam_rule {
    double learning_rate, beta1, beta2, eps, weight_decay;
    bool decoupled;
    double bias_correction1, bias_correction2;  // 1 - beta^t

    template <class T>
    CHROMA_HOST_DEVICE void operator()(T& value, T grad, T& exp_avg, T& exp_avg_sq) const {
        double v = static_cast<double>(value);
        double g = static_cast<double>(grad);
        if (decoupled)
            v *= 1.0 - learning_rate * weight_decay;
        else
            g += weight_decay * v;
        const double m = beta1 * static_cast<double>(exp_avg) + (1.0 - beta1) * g;
        const double s = beta2 * static_cast<double>(exp_avg_sq) + (1.0 - beta2) * g * g;
        exp_avg = static_cast<T>(m);
        exp_avg_sq = static_cast<T>(s);
        const double denominator = std::sqrt(s) / std::sqrt(bias_correction2) + eps;
        value = static_cast<T>(v - (learning_rate / bias_correction1) * m / denominator);
    }
};

}  // namespace chroma::optim
