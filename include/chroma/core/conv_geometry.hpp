#pragma once
// The arithmetic of a 2-D convolution's sizes, shared by Conv2d, ConvTranspose2d and every
// backend's kernels.
#include <string>

#include "shape.hpp"

namespace chroma {

struct ConvGeometry {
    index_t in_channels = 0, out_channels = 0;
    index_t kernel = 1, stride = 1, padding = 0, dilation = 1;
    index_t in_h = 0, in_w = 0;    // the convolution's input (for a transposed conv: its output)
    index_t out_h = 0, out_w = 0;  // the convolution's output (for a transposed conv: its input)

    index_t patch() const { return in_channels * kernel * kernel; }  // rows of the im2col matrix
    index_t out_plane() const { return out_h * out_w; }              // columns of the im2col matrix
    index_t in_plane() const { return in_h * in_w; }
    /// 1x1, stride 1, no padding: the input already is the im2col matrix.
    bool is_pointwise() const { return kernel == 1 && stride == 1 && padding == 0; }

    /// PyTorch's formula: floor((size + 2p - d(k-1) - 1) / s) + 1; 0 or less means "too small".
    static index_t conv_output_size(index_t size, index_t kernel, index_t stride, index_t padding, index_t dilation) {
        const index_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }
    /// PyTorch's ConvTranspose2d size: (size - 1)s - 2p + d(k-1) + output_padding + 1.
    static index_t transposed_output_size(index_t size, index_t kernel, index_t stride, index_t padding,
                                          index_t dilation, index_t output_padding) {
        return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1;
    }
};

}  // namespace chroma
