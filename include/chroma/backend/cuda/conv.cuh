#pragma once
// Convolution and transposed convolution on the GPU: im2col + cuBLAS GEMM, mirroring
// backend/cpu/conv.hpp matrix for matrix. Where the CPU loops over images, the GPU runs one
// batched GEMM over a chunk of images whose patch matrices fit a bounded workspace; weight
// gradients are summed image by image into the gradient itself (GEMM with beta = 1), in order.
//
// The orchestration (which GEMM on which pointers) is written once over raw pointers and an
// `Ops` type providing im2col, col2im, gemm, add_bias and add_channel_sums: device_ops here,
// host versions in the tests, which so check every offset and stride without a GPU.
#include <algorithm>

#include "../../core/conv_geometry.hpp"
#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "gemm.cuh"
#include "im2col.cuh"
#include "reduce.cuh"

namespace chroma::kernels {
namespace cuda_detail {

/// Largest patch-matrix workspace, in bytes, before images are processed in several chunks.
inline constexpr index_t conv_workspace_bytes = index_t(256) << 20;

/// How many images' patch matrices (of `per_image` values each, times `copies`) fit the workspace.
template <class T>
index_t images_per_chunk(index_t images, index_t per_image, index_t copies, index_t budget_bytes) {
    const index_t fit = budget_bytes / static_cast<index_t>(sizeof(T)) / std::max<index_t>(1, per_image * copies);
    return std::clamp<index_t>(fit, 1, std::max<index_t>(images, 1));
}

template <class T>
struct add_bias_op {
    T* y;
    const T* bias;
    index_t channels, plane;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { y[i] += bias[(i / plane) % channels]; }
};

/// The GPU versions of the steps the convolutions are made of.
struct device_ops {
    template <class T>
    static void im2col(const ConvGeometry& g, const T* image, index_t image_stride, index_t images, T* col) {
        cuda_detail::im2col(g, image, image_stride, images, col);
    }
    template <class T>
    static void col2im(const ConvGeometry& g, const T* col, index_t images, T* image, const T* bias = nullptr) {
        cuda_detail::col2im(g, col, images, image, bias);
    }
    template <class T>
    static void gemm(bool transpose_a, bool transpose_b, index_t m, index_t n, index_t k, T alpha, const T* a,
                     index_t a_stride, const T* b, index_t b_stride, T beta, T* c, index_t c_stride, index_t batch) {
        cuda_detail::gemm(transpose_a, transpose_b, m, n, k, alpha, a, a_stride, b, b_stride, beta, c, c_stride, batch);
    }
    /// y[n, c, :] += bias[c]
    template <class T>
    static void add_bias(T* y, const T* bias, index_t images, index_t channels, index_t plane) {
        for_each_index("add_bias", images * channels * plane, add_bias_op<T>{y, bias, channels, plane});
    }
    template <class T>
    static void add_channel_sums(const T* data, index_t images, index_t channels, index_t plane, T* sums) {
        cuda_detail::add_channel_sums(data, images, channels, plane, sums);
    }
};

/// Returns a workspace of at least `count` values; Tensor workspaces keep their storage between calls.
template <class T>
auto tensor_workspace(Tensor<T, cuda>& workspace) {
    return [&workspace](index_t count) {
        workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = count});
        return workspace.data();
    };
}

template <class Ops, class T, class Workspace>
void conv2d_forward(const ConvGeometry& g, index_t images, const T* x, const T* weight, const T* bias, T* y,
                    Workspace&& workspace, index_t budget_bytes = conv_workspace_bytes) {
    const index_t patch = g.patch(), out_plane = g.out_plane();
    const index_t in_image = g.in_channels * g.in_plane(), out_image = g.out_channels * out_plane;
    if (g.is_pointwise()) {
        // Y_n [out x P] = W [out x in] * X_n [in x P]: the input already is the patch matrix.
        Ops::gemm(false, false, g.out_channels, out_plane, patch, T(1), weight, 0, x, in_image, T(0), y, out_image,
                  images);
    } else {
        const index_t col_size = patch * out_plane, chunk = images_per_chunk<T>(images, col_size, 1, budget_bytes);
        T* col = workspace(chunk * col_size);
        for (index_t first = 0; first < images; first += chunk) {
            const index_t count = std::min(chunk, images - first);
            Ops::im2col(g, x + first * in_image, in_image, count, col);
            // Y_n [out x P] = W [out x patch] * Cols_n [patch x P]
            Ops::gemm(false, false, g.out_channels, out_plane, patch, T(1), weight, 0, col, col_size, T(0),
                      y + first * out_image, out_image, count);
        }
    }
    if (bias) Ops::add_bias(y, bias, images, g.out_channels, out_plane);
}

template <class Ops, class T, class Workspace>
void conv2d_backward(const ConvGeometry& g, index_t images, const T* x, const T* weight, const T* dy, T* dx,
                     T* dweight, T* dbias, Workspace&& workspace, index_t budget_bytes = conv_workspace_bytes) {
    const index_t patch = g.patch(), out_plane = g.out_plane();
    const index_t in_image = g.in_channels * g.in_plane(), out_image = g.out_channels * out_plane;
    const bool pointwise = g.is_pointwise();
    const index_t col_size = pointwise ? 0 : patch * out_plane;
    // Per image of a chunk: its patches and, when dx is wanted, their gradients.
    const index_t copies = dx ? 2 : 1;
    const index_t chunk = pointwise ? images : images_per_chunk<T>(images, col_size, copies, budget_bytes);
    T* col = workspace(chunk * col_size * copies);
    T* dcol = col + chunk * col_size;

    for (index_t first = 0; first < images; first += chunk) {
        const index_t count = std::min(chunk, images - first);
        const T* patches = x + first * in_image;
        index_t patch_stride = in_image;
        if (!pointwise) {
            Ops::im2col(g, patches, in_image, count, col);
            patches = col;
            patch_stride = col_size;
        }
        const T* grad_out = dy + first * out_image;
        // dW [out x patch] += dY_n [out x P] * Cols_n^T [P x patch], one image after another.
        for (index_t b = 0; b < count; ++b)
            Ops::gemm(false, true, g.out_channels, patch, out_plane, T(1), grad_out + b * out_image, 0,
                      patches + b * patch_stride, 0, T(1), dweight, 0, 1);
        if (!dx) continue;
        // dCols_n [patch x P] = W^T [patch x out] * dY_n [out x P], then back to pixels.
        T* grad_in = dx + first * in_image;
        if (pointwise) {
            Ops::gemm(true, false, patch, out_plane, g.out_channels, T(1), weight, 0, grad_out, out_image, T(0),
                      grad_in, in_image, count);
        } else {
            Ops::gemm(true, false, patch, out_plane, g.out_channels, T(1), weight, 0, grad_out, out_image, T(0), dcol,
                      col_size, count);
            Ops::col2im(g, dcol, count, grad_in);
        }
    }
    if (dbias) Ops::add_channel_sums(dy, images, g.out_channels, out_plane, dbias);
}

// A transposed convolution is the data-gradient of the convolution described by `g`:
// its input has g.out_channels channels of g.out_h x g.out_w and its output g.in_channels
// channels of g.in_h x g.in_w. The weight is PyTorch's [in, out, k, k] = [g.out_channels, patch].

template <class Ops, class T, class Workspace>
void conv_transpose2d_forward(const ConvGeometry& g, index_t images, const T* x, const T* weight, const T* bias, T* y,
                              Workspace&& workspace, index_t budget_bytes = conv_workspace_bytes) {
    const index_t patch = g.patch(), out_plane = g.out_plane();
    const index_t x_image = g.out_channels * out_plane, y_image = g.in_channels * g.in_plane();
    if (g.is_pointwise()) {
        // Y_n [patch x P] = W^T [patch x out] * X_n [out x P]
        Ops::gemm(true, false, patch, out_plane, g.out_channels, T(1), weight, 0, x, x_image, T(0), y, y_image,
                  images);
        if (bias) Ops::add_bias(y, bias, images, g.in_channels, g.in_plane());
        return;
    }
    const index_t col_size = patch * out_plane, chunk = images_per_chunk<T>(images, col_size, 1, budget_bytes);
    T* col = workspace(chunk * col_size);
    for (index_t first = 0; first < images; first += chunk) {
        const index_t count = std::min(chunk, images - first);
        Ops::gemm(true, false, patch, out_plane, g.out_channels, T(1), weight, 0, x + first * x_image, x_image, T(0),
                  col, col_size, count);
        Ops::col2im(g, col, count, y + first * y_image, bias);
    }
}

template <class Ops, class T, class Workspace>
void conv_transpose2d_backward(const ConvGeometry& g, index_t images, const T* x, const T* weight, const T* dy, T* dx,
                               T* dweight, T* dbias, Workspace&& workspace,
                               index_t budget_bytes = conv_workspace_bytes) {
    const index_t patch = g.patch(), out_plane = g.out_plane();
    const index_t x_image = g.out_channels * out_plane, dy_image = g.in_channels * g.in_plane();
    const bool pointwise = g.is_pointwise();
    const index_t col_size = pointwise ? 0 : patch * out_plane;
    const index_t chunk = pointwise ? images : images_per_chunk<T>(images, col_size, 1, budget_bytes);
    T* col = workspace(chunk * col_size);

    for (index_t first = 0; first < images; first += chunk) {
        const index_t count = std::min(chunk, images - first);
        const T* patches = dy + first * dy_image;
        index_t patch_stride = dy_image;
        if (!pointwise) {
            Ops::im2col(g, patches, dy_image, count, col);
            patches = col;
            patch_stride = col_size;
        }
        const T* input = x + first * x_image;
        // dW [out x patch] += X_n [out x P] * P_n^T [P x patch], one image after another.
        for (index_t b = 0; b < count; ++b)
            Ops::gemm(false, true, g.out_channels, patch, out_plane, T(1), input + b * x_image, 0,
                      patches + b * patch_stride, 0, T(1), dweight, 0, 1);
        // dX_n [out x P] = W [out x patch] * P_n [patch x P]
        if (dx)
            Ops::gemm(false, false, g.out_channels, out_plane, patch, T(1), weight, 0, patches, patch_stride, T(0),
                      dx + first * x_image, x_image, count);
    }
    if (dbias) Ops::add_channel_sums(dy, images, g.in_channels, g.in_plane(), dbias);
}

}  // namespace cuda_detail

/// y = conv(x, weight) + bias. y must already have the output shape; bias may be null.
template <class T>
void conv2d_forward(const ConvGeometry& g, const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight,
                    const Tensor<T, cuda>* bias, Tensor<T, cuda>& y, Tensor<T, cuda>& workspace) {
    cuda_detail::conv2d_forward<cuda_detail::device_ops>(g, x.shape().n, x.data(), weight.data(),
                                                         bias ? bias->data() : nullptr, y.data(),
                                                         cuda_detail::tensor_workspace(workspace));
}

/// Accumulates dweight (and dbias) and, when dx is not null, writes dx = conv^T(dy).
template <class T>
void conv2d_backward(const ConvGeometry& g, const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight,
                     const Tensor<T, cuda>& dy, Tensor<T, cuda>* dx, Tensor<T, cuda>& dweight, Tensor<T, cuda>* dbias,
                     Tensor<T, cuda>& workspace) {
    cuda_detail::conv2d_backward<cuda_detail::device_ops>(g, x.shape().n, x.data(), weight.data(), dy.data(),
                                                          dx ? dx->data() : nullptr, dweight.data(),
                                                          dbias ? dbias->data() : nullptr,
                                                          cuda_detail::tensor_workspace(workspace));
}

/// y = conv_transpose(x, weight) + bias; y must already have the output shape.
template <class T>
void conv_transpose2d_forward(const ConvGeometry& g, const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight,
                              const Tensor<T, cuda>* bias, Tensor<T, cuda>& y, Tensor<T, cuda>& workspace) {
    cuda_detail::conv_transpose2d_forward<cuda_detail::device_ops>(g, x.shape().n, x.data(), weight.data(),
                                                                   bias ? bias->data() : nullptr, y.data(),
                                                                   cuda_detail::tensor_workspace(workspace));
}

/// Accumulates dweight (and dbias) and, when dx is not null, writes dx.
template <class T>
void conv_transpose2d_backward(const ConvGeometry& g, const Tensor<T, cuda>& x, const Tensor<T, cuda>& weight,
                               const Tensor<T, cuda>& dy, Tensor<T, cuda>* dx, Tensor<T, cuda>& dweight,
                               Tensor<T, cuda>* dbias, Tensor<T, cuda>& workspace) {
    cuda_detail::conv_transpose2d_backward<cuda_detail::device_ops>(
        g, x.shape().n, x.data(), weight.data(), dy.data(), dx ? dx->data() : nullptr, dweight.data(),
        dbias ? dbias->data() : nullptr, cuda_detail::tensor_workspace(workspace));
}

}  // namespace chroma::kernels
