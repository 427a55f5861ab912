#pragma once
// Softmax over the channels of an NCHW tensor on the CPU, as torch.nn.Softmax(dim=1).
//
// One pixel's channels lie H*W apart, so walking them pixel by pixel would touch a new cache
// line per value. Instead each task takes a block of neighbouring pixels of one image and sweeps
// the channels row by row: every inner loop reads contiguous memory and runs as Eigen's SIMD
// array code (exp included). Tasks (image, pixel block) run in parallel and write disjoint
// outputs, so results do not depend on the thread count.
#include <algorithm>

#include <Eigen/Core>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {
namespace cpu_detail {

/// Pixels handled together by one softmax task; its per-pixel scratch lives on the stack.
inline constexpr index_t softmax_block = 256;

template <class T>
using array_view = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using const_array_view = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

/// Calls body(offset of the block's first value, block length) for every pixel block of every image.
template <class F>
void for_each_pixel_block(const Shape& s, F&& body) {
    const index_t plane = s.plane();
    const index_t blocks = (plane + softmax_block - 1) / softmax_block;
    parallel_for(s.n * blocks, s.c * softmax_block * 8, [&](index_t task) {
        const index_t n = task / blocks, first = (task % blocks) * softmax_block;
        body(n * s.c * plane + first, std::min(softmax_block, plane - first));
    });
}

}  // namespace cpu_detail

/// y = exp(x - max_c x) / sum_c exp(x - max_c x) at every pixel; y must already have x's shape.
template <class T>
void softmax_channels_forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    using namespace cpu_detail;
    const Shape& s = x.shape();
    const index_t plane = s.plane();
    for_each_pixel_block(s, [&](index_t offset, index_t length) {
        alignas(64) T scratch[2 * softmax_block];
        array_view<T> top(scratch, length), sum(scratch + softmax_block, length);
        const T* in = x.data() + offset;
        T* out = y.data() + offset;
        // Subtracting each pixel's maximum keeps exp from overflowing.
        top = const_array_view<T>(in, length);
        for (index_t c = 1; c < s.c; ++c) top = top.max(const_array_view<T>(in + c * plane, length));
        sum.setZero();
        for (index_t c = 0; c < s.c; ++c) {
            array_view<T> row(out + c * plane, length);
            row = (const_array_view<T>(in + c * plane, length) - top).exp();
            sum += row;
        }
        sum = sum.inverse();  // one division per pixel, then multiplications
        for (index_t c = 0; c < s.c; ++c) array_view<T>(out + c * plane, length) *= sum;
    });
}

/// dx = y * (dy - sum_c dy * y) at every pixel, from the forward's output y.
template <class T>
void softmax_channels_backward(const Tensor<T, cpu>& y, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx) {
    using namespace cpu_detail;
    const Shape& s = y.shape();
    const index_t plane = s.plane();
    for_each_pixel_block(s, [&](index_t offset, index_t length) {
        alignas(64) T scratch[softmax_block];
        array_view<T> dot(scratch, length);
        const T* out = y.data() + offset;
        const T* grad_out = dy.data() + offset;
        T* grad_in = dx.data() + offset;
        dot.setZero();
        for (index_t c = 0; c < s.c; ++c)
            dot += const_array_view<T>(out + c * plane, length) * const_array_view<T>(grad_out + c * plane, length);
        for (index_t c = 0; c < s.c; ++c)
            array_view<T>(grad_in + c * plane, length) =
                const_array_view<T>(out + c * plane, length) *
                (const_array_view<T>(grad_out + c * plane, length) - dot);
    });
}

}  // namespace chroma::kernels
