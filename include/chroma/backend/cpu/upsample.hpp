#pragma once
// Upsampling by an integer factor on the CPU, as torch.nn.Upsample(scale_factor=F):
// nearest (source pixel = destination / F) and bilinear with align_corners=False. Planes (one
// image channel each) run in parallel; each plane's gradient sums stay in one thread.
#include <algorithm>
#include <vector>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {
namespace cpu_detail {

/// Where one output row (or column) of a bilinear upsampling reads: two source indices and
/// their weights.
template <class T>
struct bilinear_tap {
    index_t first = 0, second = 0;
    T first_weight = 1, second_weight = 0;
};

/// PyTorch's area_pixel_compute_source_index with align_corners=False: the source coordinate
/// (dst + 0.5) / F - 0.5, clamped at 0 on the low side; the second tap stays on the last pixel
/// at the high edge.
/// Written into `taps` (a buffer the caller keeps, so a steady state allocates nothing).
template <class T>
const std::vector<bilinear_tap<T>>& bilinear_taps(std::vector<bilinear_tap<T>>& taps, index_t in_size, index_t out_size,
                                                  index_t factor) {
    taps.resize(static_cast<std::size_t>(out_size));
    const T scale = T(1) / static_cast<T>(factor);
    for (index_t o = 0; o < out_size; ++o) {
        const T source = std::max(scale * (static_cast<T>(o) + T(0.5)) - T(0.5), T(0));
        auto& tap = taps[static_cast<std::size_t>(o)];
        tap.first = static_cast<index_t>(source);
        tap.second = tap.first + (tap.first < in_size - 1 ? 1 : 0);
        tap.second_weight = source - static_cast<T>(tap.first);
        tap.first_weight = T(1) - tap.second_weight;
    }
    return taps;
}

}  // namespace cpu_detail

/// y[h, w] = x[h / factor, w / factor]; y must already be factor times x's height and width.
template <class T>
void upsample_nearest_forward(index_t factor, const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    const Shape &in = x.shape(), &out = y.shape();
    cpu_detail::parallel_for(in.n * in.c, out.plane(), [&](index_t p) {
        const T* from = x.data() + p * in.plane();
        T* to = y.data() + p * out.plane();
        // Widen each input row once, then copy it down to the factor - 1 rows below.
        for (index_t ih = 0; ih < in.h; ++ih) {
            const T* row = from + ih * in.w;
            T* first = to + ih * factor * out.w;
            for (index_t iw = 0; iw < in.w; ++iw) std::fill_n(first + iw * factor, factor, row[iw]);
            for (index_t copy = 1; copy < factor; ++copy) std::copy_n(first, out.w, first + copy * out.w);
        }
    });
}

/// dx[h, w] = the sum of dy over the factor x factor block that copied x[h, w].
template <class T>
void upsample_nearest_backward(index_t factor, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx) {
    const Shape &in = dx.shape(), &out = dy.shape();
    cpu_detail::parallel_for(in.n * in.c, out.plane(), [&](index_t p) {
        const T* grad_out = dy.data() + p * out.plane();
        T* grad_in = dx.data() + p * in.plane();
        for (index_t ih = 0; ih < in.h; ++ih)
            for (index_t iw = 0; iw < in.w; ++iw) {
                T sum = 0;
                for (index_t dh = 0; dh < factor; ++dh) {
                    const T* row = grad_out + (ih * factor + dh) * out.w + iw * factor;
                    for (index_t dw = 0; dw < factor; ++dw) sum += row[dw];
                }
                grad_in[ih * in.w + iw] = sum;
            }
    });
}

/// Bilinear interpolation (align_corners=False); y must already be factor times x's size.
template <class T>
void upsample_bilinear_forward(index_t factor, const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    const Shape &in = x.shape(), &out = y.shape();
    thread_local std::vector<cpu_detail::bilinear_tap<T>> row_taps, column_taps;
    const auto& rows = cpu_detail::bilinear_taps<T>(row_taps, in.h, out.h, factor);
    const auto& cols = cpu_detail::bilinear_taps<T>(column_taps, in.w, out.w, factor);
    cpu_detail::parallel_for(in.n * in.c, 4 * out.plane(), [&](index_t p) {
        const T* from = x.data() + p * in.plane();
        T* to = y.data() + p * out.plane();
        for (index_t oh = 0; oh < out.h; ++oh) {
            const auto& r = rows[static_cast<std::size_t>(oh)];
            const T* top = from + r.first * in.w;
            const T* bottom = from + r.second * in.w;
            for (index_t ow = 0; ow < out.w; ++ow) {
                const auto& c = cols[static_cast<std::size_t>(ow)];
                to[oh * out.w + ow] = r.first_weight * (c.first_weight * top[c.first] + c.second_weight * top[c.second]) +
                                      r.second_weight *
                                          (c.first_weight * bottom[c.first] + c.second_weight * bottom[c.second]);
            }
        }
    });
}

/// The transpose of upsample_bilinear_forward: each output gradient is shared among the four
/// source pixels it was interpolated from, with the same weights.
template <class T>
void upsample_bilinear_backward(index_t factor, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx) {
    const Shape &in = dx.shape(), &out = dy.shape();
    thread_local std::vector<cpu_detail::bilinear_tap<T>> row_taps, column_taps;
    const auto& rows = cpu_detail::bilinear_taps<T>(row_taps, in.h, out.h, factor);
    const auto& cols = cpu_detail::bilinear_taps<T>(column_taps, in.w, out.w, factor);
    cpu_detail::parallel_for(in.n * in.c, 4 * out.plane(), [&](index_t p) {
        const T* grad_out = dy.data() + p * out.plane();
        T* grad_in = dx.data() + p * in.plane();
        std::fill_n(grad_in, in.plane(), T(0));
        for (index_t oh = 0; oh < out.h; ++oh) {
            const auto& r = rows[static_cast<std::size_t>(oh)];
            T* top = grad_in + r.first * in.w;
            T* bottom = grad_in + r.second * in.w;
            for (index_t ow = 0; ow < out.w; ++ow) {
                const auto& c = cols[static_cast<std::size_t>(ow)];
                const T g = grad_out[oh * out.w + ow];
                top[c.first] += r.first_weight * c.first_weight * g;
                top[c.second] += r.first_weight * c.second_weight * g;
                bottom[c.first] += r.second_weight * c.first_weight * g;
                bottom[c.second] += r.second_weight * c.second_weight * g;
            }
        }
    });
}

}  // namespace chroma::kernels
