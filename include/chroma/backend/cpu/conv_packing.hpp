#pragma once
// A convolution's patch matrix packed for the GEMM straight from the image: the values im2col
// would write (row k = (c * K + ki) * K + kj, column j = oh * out_w + ow, zero outside the image)
// go directly into the GEMM's packed panels, so the patch matrix, patch x plane floats per image,
// is never stored or read back. The forward product reads it as is (W * patches), the weight
// gradient transposed (dY * patches^T).
#include <algorithm>

#include "../../core/conv_geometry.hpp"
#include "packed_gemm.hpp"

namespace chroma::kernels::cpu_gemm {

/// Writes `count` values of patch row `row` (a channel and a tap), in pixel order, to `out`,
/// from output pixel (oh, ow) on (the callers divide once per strip, not once per row).
inline void gather_patch_row(const ConvGeometry& geo, const float* image, index_t row, index_t oh, index_t ow,
                             index_t count, float* out) {
    const index_t taps = geo.kernel * geo.kernel, c = row / taps, tap = row % taps;
    const index_t dy = (tap / geo.kernel) * geo.dilation - geo.padding;
    const index_t dx = (tap % geo.kernel) * geo.dilation - geo.padding;
    const float* plane = image + c * geo.in_plane();
    index_t q = 0;
    while (q < count) {
        // One run along an output row: the taps read one input row, contiguous at stride 1.
        const index_t run = std::min(count - q, geo.out_w - ow);
        const index_t iy = oh * geo.stride + dy;
        if (iy < 0 || iy >= geo.in_h) {
            std::fill_n(out + q, run, 0.0f);
        } else {
            const float* input_row = plane + iy * geo.in_w;
            if (geo.stride == 1) {
                // Taps t read input_row[ow + t + dx]: zeros, a copy, zeros.
                const index_t lo = std::clamp<index_t>(-dx - ow, 0, run);
                const index_t hi = std::clamp<index_t>(geo.in_w - dx - ow, lo, run);
                std::fill(out + q, out + q + lo, 0.0f);
                std::copy(input_row + ow + lo + dx, input_row + ow + hi + dx, out + q + lo);
                std::fill(out + q + hi, out + q + run, 0.0f);
            } else {
                for (index_t t = 0; t < run; ++t) {
                    const index_t ix = (ow + t) * geo.stride + dx;
                    out[q + t] = ix >= 0 && ix < geo.in_w ? input_row[ix] : 0.0f;
                }
            }
        }
        q += run;
        ow += run;
        if (ow == geo.out_w) {
            ow = 0;
            ++oh;
        }
    }
}

/// Writes `count` values of patch row `row` for the output pixels from `pixel` on, where pixels
/// run on from one image to the next (pixel = image * out_plane + position): the runs within
/// each image go to gather_patch_row.
inline void gather_patch_row_across_images(const ConvGeometry& geo, const float* images, index_t row, index_t pixel,
                                           index_t count, float* out) {
    const index_t plane = geo.out_plane(), image_size = geo.in_channels * geo.in_plane();
    while (count > 0) {
        const index_t image = pixel / plane, position = pixel % plane, run = std::min(count, plane - position);
        gather_patch_row(geo, images + image * image_size, row, position / geo.out_w, position % geo.out_w, run, out);
        out += run;
        pixel += run;
        count -= run;
    }
}

/// B(k, j) = patch value k of output pixel j, for the forward product W * patches. The columns
/// may run over several consecutive images (one product for a batch of small planes).
struct pack_patches_of {
    const ConvGeometry* g;
    const float* image;

    void operator()(float* dst, index_t k0, index_t depth, index_t j0, index_t cols, index_t nr) const {
        for (index_t s = 0; s < cols; s += nr) {
            const index_t valid = std::min(nr, cols - s);
            for (index_t k = 0; k < depth; ++k) {
                float* out = dst + k * nr;
                gather_patch_row_across_images(*g, image, k0 + k, j0 + s, valid, out);
                std::fill(out + valid, out + nr, 0.0f);
            }
            dst += depth * nr;
        }
    }
};

/// B(k, j) = patch value j of output pixel k: the patches transposed, for the weight gradient
/// dY * patches^T (depth runs over the pixels, of one image or several, columns over the patch rows).
struct pack_patches_transposed_of {
    const ConvGeometry* g;
    const float* image;

    void operator()(float* dst, index_t k0, index_t depth, index_t j0, index_t cols, index_t nr) const {
        float gathered[block_k];  // one patch row over a k block (gemm_range's are at most block_k deep)
        for (index_t s = 0; s < cols; s += nr) {
            const index_t valid = std::min(nr, cols - s);
            for (index_t r = 0; r < nr; ++r) {
                for (index_t k = 0; k < depth; k += block_k) {
                    const index_t count = std::min(block_k, depth - k);
                    if (r < valid)
                        gather_patch_row_across_images(*g, image, j0 + s + r, k0 + k, count, gathered);
                    else
                        std::fill_n(gathered, count, 0.0f);
                    for (index_t q = 0; q < count; ++q) dst[(k + q) * nr + r] = gathered[q];
                }
            }
            dst += depth * nr;
        }
    }
};

/// A(i, k) = data[(k / plane) * rows * plane + i * plane + k % plane]: the rows of a batch of
/// [rows][plane] images laid side by side (dy of every image, for the weight gradient).
struct pack_rows_across_images_of {
    const float* data;
    index_t rows, plane;

    void operator()(float* dst, index_t i0, index_t count, index_t k0, index_t depth, index_t mr) const {
        for (index_t s = 0; s < count; s += mr) {
            const index_t valid = std::min(mr, count - s);
            // Each image's run of pixels is a block of stored rows, transposed into the strip.
            for (index_t k = 0; k < depth;) {
                const index_t pixel = k0 + k, image = pixel / plane, position = pixel % plane;
                const index_t run = std::min(depth - k, plane - position);
                transpose_rows_into_strip(data + (image * rows + i0 + s) * plane + position, plane, valid, run,
                                          dst + k * mr, mr);
                k += run;
            }
            for (index_t r = valid; r < mr; ++r)
                for (index_t k = 0; k < depth; ++k) dst[k * mr + r] = 0.0f;
            dst += depth * mr;
        }
    }
};

}  // namespace chroma::kernels::cpu_gemm
