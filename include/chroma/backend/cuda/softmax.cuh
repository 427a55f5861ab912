#pragma once
// Softmax over the channels of an NCHW tensor on the GPU, as torch.nn.Softmax(dim=1): one pixel
// per thread, walking its channels. Neighbouring threads take neighbouring pixels, so each
// channel step reads contiguous memory across the warp.
#include <cmath>

#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T>
struct softmax_forward_op {
    const T* x;
    T* y;
    index_t channels, plane;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t base = (i / plane) * channels * plane + i % plane;
        // Subtracting the pixel's maximum keeps exp from overflowing.
        T top = x[base];
        for (index_t c = 1; c < channels; ++c) top = fmax(top, x[base + c * plane]);
        T sum = 0;
        for (index_t c = 0; c < channels; ++c) {
            const T e = exp(x[base + c * plane] - top);
            y[base + c * plane] = e;
            sum += e;
        }
        const T inverse = T(1) / sum;  // one division per pixel, then multiplications
        for (index_t c = 0; c < channels; ++c) y[base + c * plane] *= inverse;
    }
};

template <class T>
struct softmax_backward_op {
    const T *y, *dy;
    T* dx;
    index_t channels, plane;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t base = (i / plane) * channels * plane + i % plane;
        T dot = 0;
        for (index_t c = 0; c < channels; ++c) dot += y[base + c * plane] * dy[base + c * plane];
        for (index_t c = 0; c < channels; ++c) dx[base + c * plane] = y[base + c * plane] * (dy[base + c * plane] - dot);
    }
};

}  // namespace cuda_detail

/// y = exp(x - max_c x) / sum_c exp(x - max_c x) at every pixel; y must already have x's shape.
template <class T>
void softmax_channels_forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    const Shape& s = x.shape();
    cuda_detail::for_each_index("softmax_channels_forward", s.n * s.plane(),
                                cuda_detail::softmax_forward_op<T>{x.data(), y.data(), s.c, s.plane()});
}

/// dx = y * (dy - sum_c dy * y) at every pixel, from the forward's output y.
template <class T>
void softmax_channels_backward(const Tensor<T, cuda>& y, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx) {
    const Shape& s = y.shape();
    cuda_detail::for_each_index("softmax_channels_backward", s.n * s.plane(),
                                cuda_detail::softmax_backward_op<T>{y.data(), dy.data(), dx.data(), s.c, s.plane()});
}

}  // namespace chroma::kernels
