#pragma once
// Element-wise kernels on the CPU. Operations are small functors (see nn/activation.hpp) so the
// CUDA backend can run the same maths in its own kernels.
#include <algorithm>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {

template <class T>
void fill(Tensor<T, cpu>& t, T value) {
    std::fill_n(t.data(), t.size(), value);
}

template <class T>
void copy(const Tensor<T, cpu>& from, Tensor<T, cpu>& to) {
    require_same_shape(from.shape(), to.shape(), "copy");
    std::copy_n(from.data(), from.size(), to.data());
}

/// y[i] = op(x[i])
template <class T, class Op>
void unary_forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y, Op op) {
    const T* in = x.data();
    T* out = y.data();
    cpu_detail::parallel_for(x.size(), 1, [&](index_t i) { out[i] = op(in[i]); });
}

/// dx[i] = dy[i] * op.derivative(x[i], y[i])
template <class T, class Op>
void unary_backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& y, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx,
                    Op op) {
    const T *in = x.data(), *out = y.data(), *grad_out = dy.data();
    T* grad_in = dx.data();
    cpu_detail::parallel_for(x.size(), 1,
                             [&](index_t i) { grad_in[i] = grad_out[i] * op.derivative(in[i], out[i]); });
}

/// out = a + b
template <class T>
void add(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b, Tensor<T, cpu>& out) {
    const T *pa = a.data(), *pb = b.data();
    T* po = out.data();
    cpu_detail::parallel_for(a.size(), 1, [&](index_t i) { po[i] = pa[i] + pb[i]; });
}

/// y += alpha * x
template <class T>
void axpy(T alpha, const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    const T* px = x.data();
    T* py = y.data();
    cpu_detail::parallel_for(x.size(), 1, [&](index_t i) { py[i] += alpha * px[i]; });
}

}  // namespace chroma::kernels

namespace chroma::kernels {

/// out = [a, b] along channels (a's channels first); a, b and out share N, H and W.
template <class T>
void concat_channels(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b, Tensor<T, cpu>& out) {
    const index_t a_size = a.shape().per_sample(), b_size = b.shape().per_sample();
    cpu_detail::parallel_for(out.shape().n, a_size + b_size, [&](index_t n) {
        T* to = out.data() + n * (a_size + b_size);
        std::copy_n(a.data() + n * a_size, a_size, to);
        std::copy_n(b.data() + n * b_size, b_size, to + a_size);
    });
}

/// The inverse of concat_channels: splits `in` into a (first channels) and b (the rest).
template <class T>
void split_channels(const Tensor<T, cpu>& in, Tensor<T, cpu>& a, Tensor<T, cpu>& b) {
    const index_t a_size = a.shape().per_sample(), b_size = b.shape().per_sample();
    cpu_detail::parallel_for(in.shape().n, a_size + b_size, [&](index_t n) {
        const T* from = in.data() + n * (a_size + b_size);
        std::copy_n(from, a_size, a.data() + n * a_size);
        std::copy_n(from + a_size, b_size, b.data() + n * b_size);
    });
}

}  // namespace chroma::kernels
