#pragma once
// Max pooling on the GPU, as backend/cpu/pooling.hpp: the same window scan (first maximum in
// row-major order wins, a NaN wins), one output per thread. Backward gathers: each input pixel
// sums the gradients of the windows whose recorded maximum it was, in the CPU's order.
#include <algorithm>

#include "../../core/pool_window.hpp"
#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T>
struct max_pool_forward_op {
    PoolWindow window;
    const T* x;
    T *y, *where;
    index_t in_h, in_w, out_h, out_w;

    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t out_plane = out_h * out_w, p = i / out_plane, o = i % out_plane;
        const index_t top = (o / out_w) * window.stride - window.padding;
        const index_t left = (o % out_w) * window.stride - window.padding;
        const T* plane = x + p * in_h * in_w;
        const index_t h_begin = top > 0 ? top : 0, h_end = top + window.kernel < in_h ? top + window.kernel : in_h;
        const index_t w_begin = left > 0 ? left : 0, w_end = left + window.kernel < in_w ? left + window.kernel : in_w;
        index_t best = h_begin * in_w + w_begin;
        T best_value = plane[best];
        for (index_t ih = h_begin; ih < h_end; ++ih)
            for (index_t iw = w_begin; iw < w_end; ++iw) {
                const T value = plane[ih * in_w + iw];
                if (value > best_value || value != value) {  // value != value: NaN
                    best = ih * in_w + iw;
                    best_value = value;
                }
            }
        y[i] = best_value;
        where[i] = static_cast<T>(best - (top * in_w + left));
    }
};

template <class T>
struct max_pool_backward_op {
    PoolWindow window;
    const T *dy, *where;
    T* dx;
    index_t in_h, in_w, out_h, out_w;

    /// The outputs whose windows cover input position `at` along one axis: [lo, hi].
    CHROMA_HOST_DEVICE void covering(index_t at, index_t out_size, index_t& lo, index_t& hi) const {
        const index_t first = at + window.padding - window.kernel + 1;  // top <= at < top + kernel
        lo = first <= 0 ? 0 : (first + window.stride - 1) / window.stride;
        hi = (at + window.padding) / window.stride;
        if (hi > out_size - 1) hi = out_size - 1;
    }

    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t in_plane = in_h * in_w, out_plane = out_h * out_w;
        const index_t p = i / in_plane, pixel = i % in_plane, ih = pixel / in_w, iw = pixel % in_w;
        index_t oh_lo, oh_hi, ow_lo, ow_hi;
        covering(ih, out_h, oh_lo, oh_hi);
        covering(iw, out_w, ow_lo, ow_hi);
        T sum = 0;
        for (index_t oh = oh_lo; oh <= oh_hi; ++oh)
            for (index_t ow = ow_lo; ow <= ow_hi; ++ow) {
                const index_t o = p * out_plane + oh * out_w + ow;
                const index_t corner = (oh * window.stride - window.padding) * in_w + ow * window.stride - window.padding;
                if (corner + static_cast<index_t>(where[o]) == pixel) sum += dy[o];
            }
        dx[i] = sum;
    }
};

}  // namespace cuda_detail

/// y = max over each window of x; `where` = each maximum's position relative to its window's
/// top-left corner (row * input width + column), as the CPU records it.
template <class T>
void max_pool2d_forward(const PoolWindow& window, const Tensor<T, cuda>& x, Tensor<T, cuda>& y,
                        Tensor<T, cuda>& where) {
    const Shape &in = x.shape(), &out = y.shape();
    cuda_detail::for_each_index("max_pool2d_forward", y.size(),
                                cuda_detail::max_pool_forward_op<T>{window, x.data(), y.data(), where.data(), in.h, in.w,
                                                                    out.h, out.w});
}

/// dx = dy routed to each window's maximum (summed where windows overlap on one pixel).
template <class T>
void max_pool2d_backward(const PoolWindow& window, const Tensor<T, cuda>& dy, const Tensor<T, cuda>& where,
                         Tensor<T, cuda>& dx) {
    const Shape &in = dx.shape(), &out = dy.shape();
    cuda_detail::for_each_index("max_pool2d_backward", dx.size(),
                                cuda_detail::max_pool_backward_op<T>{window, dy.data(), where.data(), dx.data(), in.h,
                                                                     in.w, out.h, out.w});
}

}  // namespace chroma::kernels
