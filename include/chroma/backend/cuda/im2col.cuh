#pragma once
// im2col / col2im on the GPU for a run of images at once, with the CPU's layout
// (backend/cpu/im2col.hpp): for each image a patch matrix whose row r = (c * K + ki) * K + kj and
// column p = oh * out_w + ow; taps outside the image read as zero.
#include "../../core/conv_geometry.hpp"
#include "launch.cuh"

namespace chroma::kernels::cuda_detail {

/// One element of the patch matrices of `images` consecutive images (image b at image + b * image_stride).
template <class T>
struct im2col_op {
    ConvGeometry g;
    const T* image;
    index_t image_stride;
    T* col;

    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t patch = g.in_channels * g.kernel * g.kernel, out_plane = g.out_h * g.out_w;
        const index_t b = i / (patch * out_plane), rest = i % (patch * out_plane);
        const index_t r = rest / out_plane, p = rest % out_plane;
        const index_t c = r / (g.kernel * g.kernel), ki = (r / g.kernel) % g.kernel, kj = r % g.kernel;
        const index_t ih = (p / g.out_w) * g.stride - g.padding + ki * g.dilation;
        const index_t iw = (p % g.out_w) * g.stride - g.padding + kj * g.dilation;
        const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
        col[i] = inside ? image[b * image_stride + (c * g.in_h + ih) * g.in_w + iw] : T(0);
    }
};

/// One pixel of the images whose patch matrices are `col`: the sum of every column entry read
/// from it, in the CPU's order (ki, then kj), plus bias[c] when a bias is given. Gathering per
/// pixel writes each pixel once, so no atomics and no zeroing are needed.
template <class T>
struct col2im_op {
    ConvGeometry g;
    const T* col;
    T* image;
    const T* bias;  // may be null

    CHROMA_HOST_DEVICE void operator()(index_t i) const {
        const index_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
        const index_t image_size = g.in_channels * in_plane;
        const index_t b = i / image_size, c = (i % image_size) / in_plane;
        const index_t ih = (i % in_plane) / g.in_w, iw = i % g.in_w;
        const T* patches = col + b * g.in_channels * g.kernel * g.kernel * out_plane;
        T sum = 0;
        for (index_t ki = 0; ki < g.kernel; ++ki) {
            const index_t h_span = ih + g.padding - ki * g.dilation;  // = oh * stride when this tap read (ih, .)
            if (h_span < 0 || h_span % g.stride != 0 || h_span / g.stride >= g.out_h) continue;
            const index_t oh = h_span / g.stride;
            for (index_t kj = 0; kj < g.kernel; ++kj) {
                const index_t w_span = iw + g.padding - kj * g.dilation;
                if (w_span < 0 || w_span % g.stride != 0 || w_span / g.stride >= g.out_w) continue;
                const index_t row = (c * g.kernel + ki) * g.kernel + kj;
                sum += patches[row * out_plane + oh * g.out_w + w_span / g.stride];
            }
        }
        image[i] = bias ? sum + bias[c] : sum;
    }
};

/// Writes the patch matrices of `images` images (image b at image + b * image_stride) to col,
/// one after another, each patch() x out_plane().
template <class T>
void im2col(const ConvGeometry& g, const T* image, index_t image_stride, index_t images, T* col) {
    for_each_index("im2col", images * g.patch() * g.out_plane(), im2col_op<T>{g, image, image_stride, col});
}

/// Writes `images` consecutive images (in_channels x in_h x in_w each) from their patch
/// matrices, adding bias per channel when it is not null.
template <class T>
void col2im(const ConvGeometry& g, const T* col, index_t images, T* image, const T* bias = nullptr) {
    for_each_index("col2im", images * g.in_channels * g.in_plane(), col2im_op<T>{g, col, image, bias});
}

}  // namespace chroma::kernels::cuda_detail
