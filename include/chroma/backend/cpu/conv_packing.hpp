#pragma once
// A convolution's patch matrix packed for the GEMM straight from the image: the values im2col
// would write (row k = (c * K + ki) * K + kj, column j = oh * out_w + ow, zero outside the image)
// go directly into the GEMM's packed panels, so the patch matrix, patch x plane floats per image,
// is never stored or read back.
#include <algorithm>

#include "../../core/conv_geometry.hpp"

namespace chroma::kernels::cpu_gemm {

/// B(k, j) = patch value k of output pixel j, for the forward product W * patches.
struct pack_patches_of {
    const ConvGeometry* g;
    const float* image;

    void operator()(float* dst, index_t k0, index_t depth, index_t j0, index_t cols, index_t nr) const {
        const ConvGeometry& geo = *g;
        const index_t taps = geo.kernel * geo.kernel;
        for (index_t s = 0; s < cols; s += nr) {
            const index_t valid = std::min(nr, cols - s);
            const index_t first = j0 + s;
            const index_t oh0 = first / geo.out_w, ow0 = first % geo.out_w;
            for (index_t k = 0; k < depth; ++k) {
                const index_t row = k0 + k, c = row / taps, tap = row % taps;
                const index_t dy = (tap / geo.kernel) * geo.dilation - geo.padding;
                const index_t dx = (tap % geo.kernel) * geo.dilation - geo.padding;
                const float* plane = image + c * geo.in_plane();
                float* out = dst + k * nr;
                index_t oh = oh0, ow = ow0, q = 0;
                while (q < valid) {
                    // One run along an output row: the taps read one input row, contiguous at stride 1.
                    const index_t run = std::min(valid - q, geo.out_w - ow);
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
                std::fill(out + valid, out + nr, 0.0f);
            }
            dst += depth * nr;
        }
    }
};

}  // namespace chroma::kernels::cpu_gemm
