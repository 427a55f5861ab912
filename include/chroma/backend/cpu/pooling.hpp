#pragma once
// Max pooling on the CPU, as torch.nn.MaxPool2d (dilation 1, floor mode). Padding counts as
// -infinity, so a window only looks at the pixels it covers. Ties go to the first maximum in
// row-major window order and a NaN wins, as in PyTorch. Forward records where each maximum was,
// so backward is a cheap scatter. Planes (one image channel each) run in parallel.
#include <algorithm>
#include <cmath>

#include "../../core/pool_window.hpp"
#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {
namespace cpu_detail {

/// Index within an h x w plane of the maximum of the window whose top-left corner (padding
/// included) is (top, left). The window must cover at least one pixel.
template <class T>
index_t window_argmax(const T* plane, index_t h, index_t w, index_t top, index_t left, index_t kernel) {
    const index_t h_begin = std::max<index_t>(top, 0), h_end = std::min(top + kernel, h);
    const index_t w_begin = std::max<index_t>(left, 0), w_end = std::min(left + kernel, w);
    index_t best = h_begin * w + w_begin;
    T best_value = plane[best];
    for (index_t ih = h_begin; ih < h_end; ++ih)
        for (index_t iw = w_begin; iw < w_end; ++iw) {
            const T value = plane[ih * w + iw];
            if (value > best_value || std::isnan(value)) {
                best = ih * w + iw;
                best_value = value;
            }
        }
    return best;
}

/// Calls body(plane index, in-plane output index, top row, left column) for every output element,
/// where (top, left) is its window's corner, padding included (so -padding at the border).
/// Planes run in parallel.
template <class F>
void for_each_window(const Shape& in, const Shape& out, const PoolWindow& window, F&& body) {
    parallel_for(in.n * in.c, out.plane() * window.kernel * window.kernel, [&](index_t p) {
        for (index_t oh = 0; oh < out.h; ++oh)
            for (index_t ow = 0; ow < out.w; ++ow) {
                const index_t top = oh * window.stride - window.padding;
                const index_t left = ow * window.stride - window.padding;
                body(p, oh * out.w + ow, top, left);
            }
    });
}

}  // namespace cpu_detail

/// y = max over each window of x, and `where` = the position of that maximum relative to its
/// window's top-left corner, (row * input width + column), which backward needs. Both must
/// already have the pooled shape. The positions are small integers, exact in T while
/// (kernel - 1) * (input width + 1) < 2^24 (MaxPool2d checks this for float).
template <class T>
void max_pool2d_forward(const PoolWindow& window, const Tensor<T, cpu>& x, Tensor<T, cpu>& y, Tensor<T, cpu>& where) {
    const Shape &in = x.shape(), &out = y.shape();
    cpu_detail::for_each_window(in, out, window, [&](index_t p, index_t o, index_t top, index_t left) {
        const T* plane = x.data() + p * in.plane();
        const index_t argmax = cpu_detail::window_argmax(plane, in.h, in.w, top, left, window.kernel);
        y.data()[p * out.plane() + o] = plane[argmax];
        where.data()[p * out.plane() + o] = static_cast<T>(argmax - (top * in.w + left));
    });
}

/// dx = dy routed to each window's maximum (summed where windows overlap on one pixel), from
/// the positions max_pool2d_forward wrote.
template <class T>
void max_pool2d_backward(const PoolWindow& window, const Tensor<T, cpu>& dy, const Tensor<T, cpu>& where,
                         Tensor<T, cpu>& dx) {
    const Shape &in = dx.shape(), &out = dy.shape();
    std::fill_n(dx.data(), dx.size(), T(0));
    // Each plane is written by one thread only, so the sums are deterministic.
    cpu_detail::for_each_window(in, out, window, [&](index_t p, index_t o, index_t top, index_t left) {
        const index_t argmax = top * in.w + left + static_cast<index_t>(where.data()[p * out.plane() + o]);
        dx.data()[p * in.plane() + argmax] += dy.data()[p * out.plane() + o];
    });
}

}  // namespace chroma::kernels
