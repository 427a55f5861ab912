#pragma once
// Per-element loss terms and the CPU kernels that sum them.
//
// A term is a small functor with value(x) and derivative(x), computed in double. Regression
// terms take the difference d = prediction - target; adversarial terms take a discriminator
// output directly. The CUDA backend compiles the same functors (CHROMA_HOST_DEVICE) in its own
// kernels; the CPU kernels below sum the values deterministically (fixed-order chunks).
#include <cmath>

#include "../core/host_device.hpp"
#include "../core/tensor.hpp"
#include "../backend/cpu/ordered_sum.hpp"

namespace chroma::loss::terms {

/// d^2
struct squared {
    CHROMA_HOST_DEVICE double value(double d) const { return d * d; }
    CHROMA_HOST_DEVICE double derivative(double d) const { return 2.0 * d; }
};

/// |d|, with derivative 0 at d = 0 as PyTorch takes it.
struct absolute {
    CHROMA_HOST_DEVICE double value(double d) const { return d < 0.0 ? -d : d; }
    CHROMA_HOST_DEVICE double derivative(double d) const { return d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0); }
};

/// PyTorch's smooth L1: 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere. With beta = 0
/// the first branch never applies and the term is |d|, as in PyTorch.
struct smooth_l1 {
    double beta = 1.0;
    CHROMA_HOST_DEVICE double value(double d) const {
        const double a = d < 0.0 ? -d : d;
        return a < beta ? 0.5 * d * d / beta : a - 0.5 * beta;
    }
    CHROMA_HOST_DEVICE double derivative(double d) const {
        const double a = d < 0.0 ? -d : d;
        if (a < beta) return d / beta;
        return d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0);
    }
};

/// l1 |d| + l2 d^2: the L1 and L2 terms of a GAN generator objective in one pass.
struct l1_plus_l2 {
    double l1 = 0.0, l2 = 0.0;
    CHROMA_HOST_DEVICE double value(double d) const { return l1 * absolute{}.value(d) + l2 * d * d; }
    CHROMA_HOST_DEVICE double derivative(double d) const { return l1 * absolute{}.derivative(d) + 2.0 * l2 * d; }
};

/// Binary cross-entropy of a logit x against the label y: -y log s(x) - (1 - y) log(1 - s(x)),
/// written as max(x, 0) - x y + log(1 + exp(-|x|)) so that no exp overflows.
struct bce_with_logits {
    double label = 1.0;
    CHROMA_HOST_DEVICE double value(double x) const {
        const double a = x < 0.0 ? -x : x;
        return (x > 0.0 ? x : 0.0) - x * label + std::log1p(std::exp(-a));
    }
    CHROMA_HOST_DEVICE double derivative(double x) const {
        // sigmoid(x) - y, evaluated on the side where exp cannot overflow.
        const double s = x >= 0.0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
        return s - label;
    }
};

/// 0.5 (x - goal)^2: the least-squares GAN terms.
struct half_squared_to {
    double goal = 0.0;
    CHROMA_HOST_DEVICE double value(double x) const { return 0.5 * (x - goal) * (x - goal); }
    CHROMA_HOST_DEVICE double derivative(double x) const { return x - goal; }
};

/// slope * x: the Wasserstein critic terms and the energy-based generator term.
struct linear {
    double slope = 1.0;
    CHROMA_HOST_DEVICE double value(double x) const { return slope * x; }
    CHROMA_HOST_DEVICE double derivative(double) const { return slope; }
};

/// max(0, margin - x): the energy-based discriminator's term for generated samples. Its
/// derivative at the kink (x = margin) is taken as 0, as PyTorch's relu has it.
struct hinge_below {
    double margin = 1.0;
    CHROMA_HOST_DEVICE double value(double x) const { return margin - x > 0.0 ? margin - x : 0.0; }
    CHROMA_HOST_DEVICE double derivative(double x) const { return margin - x > 0.0 ? -1.0 : 0.0; }
};

/// x * factor, as an element-wise operation for kernels::unary_forward (scaling a gradient).
struct times {
    double factor = 1.0;
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return static_cast<T>(factor * x); }
};

}  // namespace chroma::loss::terms

namespace chroma::kernels {

/// scale * sum_i term(prediction[i] - target[i]); when `grad` is given, also writes
/// grad[i] = scale * term'(prediction[i] - target[i]). All three tensors have one shape.
template <class T, class Term>
double pointwise_loss(const Tensor<T, cpu>& prediction, const Tensor<T, cpu>& target, Term term, double scale,
                      Tensor<T, cpu>* grad) {
    const T* p = prediction.data();
    const T* t = target.data();
    T* g = grad ? grad->data() : nullptr;
    const double sum = cpu_detail::ordered_sum(prediction.size(), 4, [&](index_t i) {
        const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
        if (g) g[i] = static_cast<T>(scale * term.derivative(d));
        return term.value(d);
    });
    return scale * sum;
}

/// scale * sum_i term(x[i]); when `grad` is given, also writes grad[i] = scale * term'(x[i]).
template <class T, class Term>
double pointwise_loss(const Tensor<T, cpu>& x, Term term, double scale, Tensor<T, cpu>* grad) {
    const T* v = x.data();
    T* g = grad ? grad->data() : nullptr;
    const double sum = cpu_detail::ordered_sum(x.size(), 8, [&](index_t i) {
        const double value = static_cast<double>(v[i]);
        if (g) g[i] = static_cast<T>(scale * term.derivative(value));
        return term.value(value);
    });
    return scale * sum;
}

}  // namespace chroma::kernels
