#pragma once
// Convolutions of small planes as one product over the whole batch. A 4x4 plane is 16 output
// pixels: one image's product would fill a third of one 48-wide strip and leave the rest to
// Eigen's small-matrix path. Laid side by side, 16 images make 256 columns, and the weight
// gradient's depth grows from 16 to 256, so Chroma's packed kernels run at full strips. The
// packers read every image where it lies (conv_packing.hpp); only the output goes through a
// [channel][image, pixel] buffer, reordered to [image][channel][pixel] at the end.
#include <algorithm>

#include "../../core/conv_geometry.hpp"
#include "conv_packing.hpp"
#include "cpu.hpp"
#include "packed_gemm.hpp"

namespace chroma::kernels::cpu_detail {

/// Output planes below this many pixels are convolved batch-wide (packed_gemm.hpp's size rule
/// would give one image's product to Eigen).
inline constexpr index_t small_plane = 192;

/// Whether convolution `g` of `images` images is convolved batch-wide (where its products are
/// worth Chroma's kernels: the callers ask kernel_for_product).
inline bool batch_wide(const ConvGeometry& g, index_t images) {
    return !g.is_pointwise() && images >= 2 && g.out_plane() < small_plane;
}

/// y = conv(x) + bias for all `images` at once; `temp` holds out_channels x images x out_plane floats.
inline void convolve_batch_wide(const cpu_gemm::micro_kernel& kernel, const ConvGeometry& g, const float* weight,
                                const float* x, const float* bias, float* y, index_t images, float* temp) {
    const index_t plane = g.out_plane(), columns = images * plane;
    cpu_gemm::gemm(kernel, g.out_channels, columns, g.patch(), cpu_gemm::pack_rows_of{weight, g.patch()},
                   cpu_gemm::pack_patches_of{&g, x}, temp, columns, false, cpu::threads());
    for (index_t n = 0; n < images; ++n)
        for (index_t o = 0; o < g.out_channels; ++o) {
            const float* from = temp + o * columns + n * plane;
            float* to = y + (n * g.out_channels + o) * plane;
            const float b = bias ? bias[o] : 0.0f;
            for (index_t p = 0; p < plane; ++p) to[p] = from[p] + b;
        }
}

/// dweight += dY * patches^T over the whole batch in one product (depth images x out_plane).
inline void weight_gradient_batch_wide(const cpu_gemm::micro_kernel& kernel, const ConvGeometry& g, const float* x,
                                       const float* dy, float* dweight, index_t images) {
    cpu_gemm::gemm(kernel, g.out_channels, g.patch(), images * g.out_plane(),
                   cpu_gemm::pack_rows_across_images_of{dy, g.out_channels, g.out_plane()},
                   cpu_gemm::pack_patches_transposed_of{&g, x}, dweight, g.patch(), true, cpu::threads());
}

}  // namespace chroma::kernels::cpu_detail
