#pragma once
// Optimiser updates on the CPU: the rules of optim/update_rules.hpp applied to every element.
#include "../../core/tensor.hpp"
#include "../../optim/update_rules.hpp"
#include "parallel.hpp"

namespace chroma::kernels {

template <class T>
void sgd_update(const optim::sgd_rule& rule, Tensor<T, cpu>& value, const Tensor<T, cpu>& grad,
                Tensor<T, cpu>* momentum_buffer) {
    T* v = value.data();
    const T* g = grad.data();
    T* b = momentum_buffer ? momentum_buffer->data() : nullptr;
    cpu_detail::parallel_for(value.size(), 4, [&](index_t i) { rule(v[i], g[i], b ? b + i : nullptr); });
}

template <class T>
void adam_update(const optim::adam_rule& rule, Tensor<T, cpu>& value, const Tensor<T, cpu>& grad,
                 Tensor<T, cpu>& exp_avg, Tensor<T, cpu>& exp_avg_sq) {
    T *v = value.data(), *m = exp_avg.data(), *s = exp_avg_sq.data();
    const T* g = grad.data();
    cpu_detail::parallel_for(value.size(), 8, [&](index_t i) { rule(v[i], g[i], m[i], s[i]); });
}

/// Sum of squares of all elements, accumulated in double in a fixed order (deterministic).
template <class T>
double sum_of_squares(const Tensor<T, cpu>& t) {
    double total = 0.0;
    for (index_t i = 0; i < t.size(); ++i) total += static_cast<double>(t.data()[i]) * t.data()[i];
    return total;
}

/// t *= factor
template <class T>
void scale(Tensor<T, cpu>& t, T factor) {
    T* p = t.data();
    cpu_detail::parallel_for(t.size(), 1, [&](index_t i) { p[i] *= factor; });
}

}  // namespace chroma::kernels
