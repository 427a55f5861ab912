#pragma once
// Element-wise kernels on the GPU: the same functors as the CPU (nn/activation.hpp's ops,
// compiled for the device through CHROMA_HOST_DEVICE), each element one thread.
#include <cmath>

#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T>
struct fill_op {
    T* out;
    T value;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { out[i] = value; }
};

template <class T, class Op>
struct unary_forward_op {
    const T* in;
    T* out;
    Op op;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { out[i] = op(in[i]); }
};

template <class T, class Op>
struct unary_backward_op {
    const T *in, *out, *grad_out;
    T* grad_in;
    Op op;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { grad_in[i] = grad_out[i] * op.derivative(in[i], out[i]); }
};

template <class T>
struct add_op {
    const T *a, *b;
    T* out;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { out[i] = a[i] + b[i]; }
};

template <class T>
struct axpy_op {
    T alpha;
    const T* x;
    T* y;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { y[i] += alpha * x[i]; }
};

/// One element of [a, b] stacked along channels, per image: a_size values of a, then b_size of b.
template <class T>
struct concat_op {
    const T *a, *b;
    T* out;
    index_t a_size, b_size;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t n = i / (a_size + b_size), k = i % (a_size + b_size);
        out[i] = k < a_size ? a[n * a_size + k] : b[n * b_size + k - a_size];
    }
};

template <class T>
struct split_op {
    const T* in;
    T *a, *b;
    index_t a_size, b_size;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t n = i / (a_size + b_size), k = i % (a_size + b_size);
        if (k < a_size)
            a[n * a_size + k] = in[i];
        else
            b[n * b_size + k - a_size] = in[i];
    }
};

}  // namespace cuda_detail

template <class T>
void fill(Tensor<T, cuda>& t, T value) {
    if (t.empty()) return;
    if (value == T(0) && !std::signbit(value)) {  // all-zero bits: a memset is cheaper than a kernel
        chroma::cuda_detail::check(cudaMemsetAsync(t.data(), 0, static_cast<std::size_t>(t.size()) * sizeof(T),
                                                   chroma::cuda_detail::stream()),
                                   "filling a tensor with zeros");
        return;
    }
    cuda_detail::for_each_index("fill", t.size(), cuda_detail::fill_op<T>{t.data(), value});
}

template <class T>
void copy(const Tensor<T, cuda>& from, Tensor<T, cuda>& to) {
    require_same_shape(from.shape(), to.shape(), "copy");
    cuda::copy(from.data(), to.data(), from.size());
}

/// y[i] = op(x[i])
template <class T, class Op>
void unary_forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y, Op op) {
    cuda_detail::for_each_index("unary_forward", x.size(), cuda_detail::unary_forward_op<T, Op>{x.data(), y.data(), op});
}

/// dx[i] = dy[i] * op.derivative(x[i], y[i])
template <class T, class Op>
void unary_backward(const Tensor<T, cuda>& x, const Tensor<T, cuda>& y, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx,
                    Op op) {
    cuda_detail::for_each_index("unary_backward", x.size(),
                                cuda_detail::unary_backward_op<T, Op>{x.data(), y.data(), dy.data(), dx.data(), op});
}

/// out = a + b
template <class T>
void add(const Tensor<T, cuda>& a, const Tensor<T, cuda>& b, Tensor<T, cuda>& out) {
    cuda_detail::for_each_index("add", a.size(), cuda_detail::add_op<T>{a.data(), b.data(), out.data()});
}

/// y += alpha * x
template <class T>
void axpy(T alpha, const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cuda_detail::for_each_index("axpy", x.size(), cuda_detail::axpy_op<T>{alpha, x.data(), y.data()});
}

/// out = [a, b] along channels (a's channels first); a, b and out share N, H and W.
template <class T>
void concat_channels(const Tensor<T, cuda>& a, const Tensor<T, cuda>& b, Tensor<T, cuda>& out) {
    cuda_detail::for_each_index(
        "concat_channels", out.size(),
        cuda_detail::concat_op<T>{a.data(), b.data(), out.data(), a.shape().per_sample(), b.shape().per_sample()});
}

/// The inverse of concat_channels: splits `in` into a (first channels) and b (the rest).
template <class T>
void split_channels(const Tensor<T, cuda>& in, Tensor<T, cuda>& a, Tensor<T, cuda>& b) {
    cuda_detail::for_each_index(
        "split_channels", in.size(),
        cuda_detail::split_op<T>{in.data(), a.data(), b.data(), a.shape().per_sample(), b.shape().per_sample()});
}

}  // namespace chroma::kernels
