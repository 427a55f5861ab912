#pragma once
// Upsampling by an integer factor on the GPU, as backend/cpu/upsample.hpp (nearest, and
// bilinear with align_corners=False). Backward gathers: each input pixel sums the output
// gradients it contributed to, so every pixel is written by one thread and no atomics are needed.
#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T>
struct upsample_nearest_forward_op {
    const T* x;
    T* y;
    index_t factor, in_h, in_w;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t out_w = in_w * factor, out_plane = in_h * factor * out_w;
        const index_t p = i / out_plane, o = i % out_plane;
        y[i] = x[p * in_h * in_w + (o / out_w / factor) * in_w + (o % out_w) / factor];
    }
};

template <class T>
struct upsample_nearest_backward_op {
    const T* dy;
    T* dx;
    index_t factor, in_h, in_w;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t in_plane = in_h * in_w, out_w = in_w * factor;
        const index_t p = i / in_plane, ih = (i % in_plane) / in_w, iw = i % in_w;
        const T* block = dy + p * in_plane * factor * factor + (ih * factor) * out_w + iw * factor;
        T sum = 0;
        for (index_t dh = 0; dh < factor; ++dh)
            for (index_t dw = 0; dw < factor; ++dw) sum += block[dh * out_w + dw];
        dx[i] = sum;
    }
};

/// Where output row (or column) o reads: PyTorch's area_pixel_compute_source_index with
/// align_corners=False, computed as the CPU's bilinear_taps does.
template <class T>
struct bilinear_tap {
    index_t first, second;
    T first_weight, second_weight;

    CHROMA_HOST_DEVICE static bilinear_tap at(index_t o, index_t in_size, index_t factor) {
        const T scale = T(1) / static_cast<T>(factor);
        T source = scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
        if (source < T(0)) source = T(0);
        bilinear_tap tap;
        tap.first = static_cast<index_t>(source);
        tap.second = tap.first + (tap.first < in_size - 1 ? 1 : 0);
        tap.second_weight = source - static_cast<T>(tap.first);
        tap.first_weight = T(1) - tap.second_weight;
        return tap;
    }
    /// The weight with which this tap reads source index s, and whether it reads it at all.
    CHROMA_HOST_DEVICE bool reads(index_t s, T& weight) const {
        weight = T(0);
        if (first == s) weight += first_weight;
        if (second == s) weight += second_weight;
        return first == s || second == s;
    }
};

template <class T>
struct upsample_bilinear_forward_op {
    const T* x;
    T* y;
    index_t factor, in_h, in_w;
    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t out_w = in_w * factor, out_plane = in_h * factor * out_w;
        const index_t p = i / out_plane, o = i % out_plane;
        const auto r = bilinear_tap<T>::at(o / out_w, in_h, factor);
        const auto c = bilinear_tap<T>::at(o % out_w, in_w, factor);
        const T* top = x + p * in_h * in_w + r.first * in_w;
        const T* bottom = x + p * in_h * in_w + r.second * in_w;
        y[i] = r.first_weight * (c.first_weight * top[c.first] + c.second_weight * top[c.second]) +
               r.second_weight * (c.first_weight * bottom[c.first] + c.second_weight * bottom[c.second]);
    }
};

template <class T>
struct upsample_bilinear_backward_op {
    const T* dy;
    T* dx;
    index_t factor, in_h, in_w;

    /// Output indices that may read source index s: first or second tap within one pixel of s.
    CHROMA_HOST_DEVICE void candidates(index_t s, index_t out_size, index_t& lo, index_t& hi) const {
        lo = (s - 2) * factor;
        if (lo < 0) lo = 0;
        hi = (s + 3) * factor;
        if (hi > out_size) hi = out_size;
    }

    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t in_plane = in_h * in_w, out_h = in_h * factor, out_w = in_w * factor;
        const index_t p = i / in_plane, ih = (i % in_plane) / in_w, iw = i % in_w;
        const T* grad_out = dy + p * out_h * out_w;
        index_t oh_lo, oh_hi, ow_lo, ow_hi;
        candidates(ih, out_h, oh_lo, oh_hi);
        candidates(iw, out_w, ow_lo, ow_hi);
        T sum = 0;
        for (index_t oh = oh_lo; oh < oh_hi; ++oh) {
            T row_weight;
            if (!bilinear_tap<T>::at(oh, in_h, factor).reads(ih, row_weight)) continue;
            for (index_t ow = ow_lo; ow < ow_hi; ++ow) {
                T column_weight;
                if (!bilinear_tap<T>::at(ow, in_w, factor).reads(iw, column_weight)) continue;
                sum += row_weight * column_weight * grad_out[oh * out_w + ow];
            }
        }
        dx[i] = sum;
    }
};

}  // namespace cuda_detail

/// y[h, w] = x[h / factor, w / factor]; y must already be factor times x's height and width.
template <class T>
void upsample_nearest_forward(index_t factor, const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cuda_detail::for_each_index("upsample_nearest_forward", y.size(),
                                cuda_detail::upsample_nearest_forward_op<T>{x.data(), y.data(), factor, x.shape().h,
                                                                            x.shape().w});
}

/// dx[h, w] = the sum of dy over the factor x factor block that copied x[h, w].
template <class T>
void upsample_nearest_backward(index_t factor, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx) {
    cuda_detail::for_each_index("upsample_nearest_backward", dx.size(),
                                cuda_detail::upsample_nearest_backward_op<T>{dy.data(), dx.data(), factor,
                                                                             dx.shape().h, dx.shape().w});
}

/// Bilinear interpolation (align_corners=False); y must already be factor times x's size.
template <class T>
void upsample_bilinear_forward(index_t factor, const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cuda_detail::for_each_index("upsample_bilinear_forward", y.size(),
                                cuda_detail::upsample_bilinear_forward_op<T>{x.data(), y.data(), factor, x.shape().h,
                                                                             x.shape().w});
}

/// The transpose of upsample_bilinear_forward.
template <class T>
void upsample_bilinear_backward(index_t factor, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx) {
    cuda_detail::for_each_index("upsample_bilinear_backward", dx.size(),
                                cuda_detail::upsample_bilinear_backward_op<T>{dy.data(), dx.data(), factor,
                                                                              dx.shape().h, dx.shape().w});
}

}  // namespace chroma::kernels
