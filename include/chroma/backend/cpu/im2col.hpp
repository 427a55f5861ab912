#pragma once
// im2col / col2im for one image: the patch matrix whose GEMM with the weights is a convolution.
// Row r = (c * K + ki) * K + kj, column p = oh * out_w + ow; out-of-image taps read as zero.
#include <algorithm>

#include "../../core/conv_geometry.hpp"

namespace chroma::kernels::cpu_detail {

// The output columns [lo, hi) whose tap at kernel offset `k_offset` lands inside [0, size).
inline void valid_output_range(index_t size, index_t out_size, index_t stride, index_t padding, index_t k_offset,
                               index_t& lo, index_t& hi) {
    const index_t shift = padding - k_offset;  // input = out * stride - shift
    lo = shift <= 0 ? 0 : (shift + stride - 1) / stride;
    hi = (size - 1 + shift) < 0 ? 0 : (size - 1 + shift) / stride + 1;
    lo = std::min(lo, out_size);
    hi = std::clamp(hi, lo, out_size);
}

template <class T>
void im2col(const ConvGeometry& g, const T* image, T* col) {
    const index_t K = g.kernel, S = g.stride, P = g.padding, D = g.dilation;
    for (index_t c = 0; c < g.in_channels; ++c) {
        const T* plane = image + c * g.in_plane();
        for (index_t ki = 0; ki < K; ++ki) {
            index_t oh_lo, oh_hi;
            valid_output_range(g.in_h, g.out_h, S, P, ki * D, oh_lo, oh_hi);
            for (index_t kj = 0; kj < K; ++kj) {
                T* row = col + ((c * K + ki) * K + kj) * g.out_plane();
                index_t ow_lo, ow_hi;
                valid_output_range(g.in_w, g.out_w, S, P, kj * D, ow_lo, ow_hi);
                std::fill(row, row + oh_lo * g.out_w, T(0));
                for (index_t oh = oh_lo; oh < oh_hi; ++oh) {
                    T* out = row + oh * g.out_w;
                    // Index arithmetic (not pointer offsets) so no out-of-range pointer is ever formed.
                    const index_t base = (oh * S - P + ki * D) * g.in_w + kj * D - P;
                    std::fill(out, out + ow_lo, T(0));
                    if (S == 1) {
                        std::copy(plane + base + ow_lo, plane + base + ow_hi, out + ow_lo);
                    } else {
                        for (index_t ow = ow_lo; ow < ow_hi; ++ow) out[ow] = plane[base + ow * S];
                    }
                    std::fill(out + ow_hi, out + g.out_w, T(0));
                }
                std::fill(row + oh_hi * g.out_w, row + g.out_plane(), T(0));
            }
        }
    }
}

/// Adds each column entry back to the pixel it was read from; `image` must start zeroed.
template <class T>
void col2im(const ConvGeometry& g, const T* col, T* image) {
    const index_t K = g.kernel, S = g.stride, P = g.padding, D = g.dilation;
    for (index_t c = 0; c < g.in_channels; ++c) {
        T* plane = image + c * g.in_plane();
        for (index_t ki = 0; ki < K; ++ki) {
            index_t oh_lo, oh_hi;
            valid_output_range(g.in_h, g.out_h, S, P, ki * D, oh_lo, oh_hi);
            for (index_t kj = 0; kj < K; ++kj) {
                const T* row = col + ((c * K + ki) * K + kj) * g.out_plane();
                index_t ow_lo, ow_hi;
                valid_output_range(g.in_w, g.out_w, S, P, kj * D, ow_lo, ow_hi);
                for (index_t oh = oh_lo; oh < oh_hi; ++oh) {
                    const T* from = row + oh * g.out_w;
                    const index_t base = (oh * S - P + ki * D) * g.in_w + kj * D - P;
                    for (index_t ow = ow_lo; ow < ow_hi; ++ow) plane[base + ow * S] += from[ow];
                }
            }
        }
    }
}

}  // namespace chroma::kernels::cpu_detail
