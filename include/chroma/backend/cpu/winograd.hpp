#pragma once
// Winograd F(2x2, 3x3) convolution on the CPU (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016), for 3x3 stride-1 layers with many channels.
//
// The output is cut into 2x2 tiles; each reads a 4x4 window of the input. In the transform
// domain a tile's convolution is an element-wise product of 16 values, so over all channels and
// all tiles of the batch it becomes 16 independent GEMMs
//     M[xi] (K x T) = U[xi] (K x C) * V[xi] (C x T),   xi = 0..15,
// with U = G w G^T (the weights), V = B^T d B (the input windows) and y = A^T M A (the output):
// 16 x K x C x T multiply-adds against the direct convolution's 36 x K x C x T, 2.25x fewer. The
// transforms are additions over C x T and K x T values, small beside the GEMMs once C and K are
// 128 or more, which is where it is used (the deep levels of the U-Nets and classifiers).
//
// The backward pass is the exact adjoint of the same algebra:
//   * the input gradient is the convolution of dy with the flipped weight (conv.hpp's
//     input_gradient_geometry), itself a 3x3 stride-1 convolution, so it runs here too;
//   * the weight gradient: dM = A dY A^T per tile, dU[xi] (K x C) = dM[xi] (K x T) * V[xi]^T,
//     and dw = G^T dU G.
// F(2x2, 3x3)'s transforms have entries 0, +-1 and +-1/2 only, so its rounding stays at the
// level of the direct sum (checked against it in tests/nn/test_conv.cpp); F(4x4, 3x3) would save
// more multiplies but its larger transform constants cost accuracy in float.
//
// A dilated 3x3 convolution (dilation d, padding a multiple of d) runs here too: output pixel
// (d i + a, d j + b) reads input pixels of the same residues (a, b) only, so each of the d^2
// residue classes is an undilated convolution of the input's sub-grid (SubGrids). The sub-grids
// are read and written in place, as extra images of the batch.
#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "../../core/conv_geometry.hpp"
#include "../../core/error.hpp"
#include "cpu.hpp"
#include "gemm.hpp"
#include "packed_gemm.hpp"
#include "parallel.hpp"

namespace chroma::kernels::cpu_winograd {

/// Values of one tile in the transform domain (4 x 4).
inline constexpr index_t points = 16;

/// When convolutions use it. CHROMA_WINOGRAD=0: never; =1: wherever it applies; unset: on
/// Chroma's own GEMM kernels, for the shapes where it measured faster (chosen()).
enum class mode { never, always, measured };

inline mode& winograd_mode() {
    static mode chosen_mode = [] {
        const char* setting = std::getenv("CHROMA_WINOGRAD");
        if (!setting) return mode::measured;
        const std::string_view s(setting);
        if (s == "0") return mode::never;
        if (s == "1") return mode::always;
        throw usage_error("CHROMA_WINOGRAD is '" + std::string(s) + "': use 0 (never) or 1 (wherever it applies)");
    }();
    return chosen_mode;
}

/// Sets the mode for its lifetime (single-threaded test code only).
class WithWinograd {
public:
    explicit WithWinograd(mode m) : before_(winograd_mode()) { winograd_mode() = m; }
    ~WithWinograd() { winograd_mode() = before_; }
    WithWinograd(const WithWinograd&) = delete;
    WithWinograd& operator=(const WithWinograd&) = delete;

private:
    mode before_;
};

/// The kernels of the transform-domain GEMMs: Chroma's whatever their size (a band's products
/// are all alike, and Eigen's small-product path would allocate its blocking on every call),
/// or Eigen's where they are forced.
inline cpu_gemm::instruction_set gemm_kernels() {
    const auto& forced = cpu_gemm::forced_kernels();
    return forced ? *forced : cpu_gemm::active_instruction_set();
}

/// Whether the algorithm computes convolution `g`: 3x3, stride 1, any padding; dilated where
/// the plane's sides and the padding are multiples of the dilation (so the sub-grids are alike).
inline bool applies(const ConvGeometry& g) {
    const index_t d = g.dilation;
    return g.kernel == 3 && g.stride == 1 && d >= 1 && g.out_h >= 1 && g.out_w >= 1 &&
           g.out_h == g.in_h + 2 * g.padding - 2 * d && g.out_w == g.in_w + 2 * g.padding - 2 * d &&
           g.in_h % d == 0 && g.in_w % d == 0 && g.padding % d == 0;
}

/// Convolution g (which applies()) as d^2 undilated convolutions of sub-grids: sub-image s is
/// the sub-grid of residues ((s % d^2) / d, s % d) of image s / d^2, read and written in place
/// in the NCHW tensors. For d = 1 it is the convolution itself, one sub-image an image.
struct SubGrids {
    ConvGeometry whole;  // the convolution itself
    ConvGeometry sub;    // the undilated convolution of one sub-grid
    index_t d = 1;

    index_t images(index_t whole_images) const { return whole_images * d * d; }
    /// Where sub-image s's plane of input channel c starts.
    index_t in_offset(index_t s, index_t c) const {
        return offset(s, c, whole.in_channels, whole.in_w, whole.in_plane());
    }
    /// Where sub-image s's plane of output channel k starts.
    index_t out_offset(index_t s, index_t k) const {
        return offset(s, k, whole.out_channels, whole.out_w, whole.out_plane());
    }

private:
    index_t offset(index_t s, index_t channel, index_t channels, index_t w, index_t plane) const {
        const index_t image = s / (d * d), residue = s % (d * d);
        return (image * channels + channel) * plane + (residue / d) * w + residue % d;
    }
};
inline SubGrids sub_grids(const ConvGeometry& g) {
    const index_t d = g.dilation;
    SubGrids grids;
    grids.whole = g;
    grids.sub = g;
    grids.sub.dilation = 1;
    grids.sub.padding = g.padding / d;
    grids.sub.in_h = g.in_h / d;
    grids.sub.in_w = g.in_w / d;
    grids.sub.out_h = g.out_h / d;
    grids.sub.out_w = g.out_w / d;
    grids.d = d;
    return grids;
}

/// Whether convolution `g` runs here (see mode). Measured (benchmarks/README.md): 128 or more
/// channels in and out (PhotoUNet's training step 22% faster than with 256+ only). At 64 and 32
/// channels the transforms' memory traffic outweighs the saved multiply-adds, and the direct
/// kernel wins (a 64-channel 64x64 layer at 0.6x of its speed).
inline bool chosen(const ConvGeometry& g) {
    switch (winograd_mode()) {
    case mode::never: return false;
    case mode::always: return applies(g);
    case mode::measured: break;
    }
    return applies(g) && gemm_kernels() != cpu_gemm::instruction_set::eigen &&
           std::min(g.in_channels, g.out_channels) >= 128;
}

/// The 2x2 output tiles of one image.
struct Tiling {
    index_t rows = 0, cols = 0, per_image = 0;
};
inline Tiling tiling(const ConvGeometry& g) {
    Tiling t;
    t.rows = (g.out_h + 1) / 2;
    t.cols = (g.out_w + 1) / 2;
    t.per_image = t.rows * t.cols;
    return t;
}

/// The tiles one pass of the GEMMs covers: tile rows [first_row, first_row + rows) of images
/// [first_image, first_image + images), `all` tiles in all, stored image by image, row by row.
/// The batch goes through in bands so that the transformed input and output (16 (C + K) floats
/// a tile) stay near the caches and the workspace stays bounded whatever the batch and plane.
struct Band {
    index_t first_image = 0, images = 0, first_row = 0, rows = 0, all = 0;
};

/// Tiles per band: about band_floats of transformed input and output, and at least 192 tiles
/// where a layer is very wide, so that the GEMMs' columns fill the packed kernels' panels.
inline constexpr index_t band_floats = index_t(1) << 21;
inline index_t band_tiles(const ConvGeometry& g) {
    return std::max<index_t>(192, band_floats / (points * (g.in_channels + g.out_channels)));
}

/// Calls body(band) for consecutive bands covering every tile of the batch: whole images
/// together where an image has few tiles, else bands of tile rows of one image.
template <class F>
void for_each_band(const ConvGeometry& g, index_t images, F&& body) {
    const Tiling t = tiling(g);
    const index_t target = band_tiles(g);
    if (t.per_image <= target) {
        // As many bands as the target asks for, with the images shared evenly between them (a
        // last band of one image would leave its GEMMs few columns).
        const index_t most = std::max<index_t>(1, target / t.per_image);
        const index_t bands = (images + most - 1) / most, per_band = (images + bands - 1) / bands;
        for (index_t n = 0; n < images; n += per_band) {
            const index_t count = std::min(per_band, images - n);
            body(Band{n, count, 0, t.rows, count * t.per_image});
        }
        return;
    }
    const index_t rows_per_band = std::max<index_t>(1, target / t.cols);
    for (index_t n = 0; n < images; ++n)
        for (index_t r = 0; r < t.rows; r += rows_per_band) {
            const index_t rows = std::min(rows_per_band, t.rows - r);
            body(Band{n, 1, r, rows, rows * t.cols});
        }
}

/// The most tiles any band of this convolution holds.
inline index_t largest_band(const ConvGeometry& g, index_t images) {
    index_t largest = 0;
    for_each_band(g, images, [&](const Band& band) { largest = std::max(largest, band.all); });
    return largest;
}

/// Floats the forward pass needs as workspace: U, and V and M of a band.
inline index_t forward_workspace(const ConvGeometry& g, index_t images) {
    const SubGrids grids = sub_grids(g);
    const index_t tiles = largest_band(grids.sub, grids.images(images));
    return points * (g.out_channels * g.in_channels + g.in_channels * tiles + g.out_channels * tiles);
}
/// Floats the weight gradient needs as workspace: dU, and V and dM of a band.
inline index_t weight_gradient_workspace(const ConvGeometry& g, index_t images) {
    return forward_workspace(g, images);
}

namespace detail {
using cpu_detail::parallel_for;

/// Weights are transformed 16 (k, c) pairs at a time, laid out value-major so that each step is
/// one vector operation over the 16 pairs and each transform point is stored contiguously.
inline constexpr index_t pair_block = 16;

/// U[xi][k][c] = (G w[k][c] G^T)[xi], G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
inline void transform_weights(const ConvGeometry& g, const float* w, float* u) {
    const index_t pairs = g.out_channels * g.in_channels, stride = pairs;
    const index_t blocks = (pairs + pair_block - 1) / pair_block;
    parallel_for(blocks, pair_block * 64, [&](index_t block) {
        const index_t first = block * pair_block, count = std::min(pair_block, pairs - first);
        float f[9][pair_block] = {}, gf[4][3][pair_block], out[16][pair_block];
        for (index_t q = 0; q < count; ++q)
            for (int e = 0; e < 9; ++e) f[e][q] = w[(first + q) * 9 + e];
        for (int j = 0; j < 3; ++j)
            for (index_t q = 0; q < pair_block; ++q) {  // G f
                gf[0][j][q] = f[j][q];
                gf[1][j][q] = 0.5f * (f[j][q] + f[3 + j][q] + f[6 + j][q]);
                gf[2][j][q] = 0.5f * (f[j][q] - f[3 + j][q] + f[6 + j][q]);
                gf[3][j][q] = f[6 + j][q];
            }
        for (int i = 0; i < 4; ++i)
            for (index_t q = 0; q < pair_block; ++q) {  // (G f) G^T
                out[4 * i + 0][q] = gf[i][0][q];
                out[4 * i + 1][q] = 0.5f * (gf[i][0][q] + gf[i][1][q] + gf[i][2][q]);
                out[4 * i + 2][q] = 0.5f * (gf[i][0][q] - gf[i][1][q] + gf[i][2][q]);
                out[4 * i + 3][q] = gf[i][2][q];
            }
        for (index_t xi = 0; xi < points; ++xi) std::copy_n(out[xi], count, u + xi * stride + first);
    });
}

/// dw[k][c] += (G^T dU[k][c] G): the adjoint of transform_weights.
inline void accumulate_weight_gradient(const ConvGeometry& g, const float* du, float* dw) {
    const index_t pairs = g.out_channels * g.in_channels, stride = pairs;
    const index_t blocks = (pairs + pair_block - 1) / pair_block;
    parallel_for(blocks, pair_block * 64, [&](index_t block) {
        const index_t first = block * pair_block, count = std::min(pair_block, pairs - first);
        float u[16][pair_block] = {}, gu[3][4][pair_block], f[9][pair_block];
        for (index_t xi = 0; xi < points; ++xi) std::copy_n(du + xi * stride + first, count, u[xi]);
        for (int j = 0; j < 4; ++j)
            for (index_t q = 0; q < pair_block; ++q) {  // G^T u, G^T = [[1, 1/2, 1/2, 0], [0, 1/2, -1/2, 0], [0, 1/2, 1/2, 1]]
                gu[0][j][q] = u[j][q] + 0.5f * (u[4 + j][q] + u[8 + j][q]);
                gu[1][j][q] = 0.5f * (u[4 + j][q] - u[8 + j][q]);
                gu[2][j][q] = 0.5f * (u[4 + j][q] + u[8 + j][q]) + u[12 + j][q];
            }
        for (int i = 0; i < 3; ++i)
            for (index_t q = 0; q < pair_block; ++q) {  // (G^T u) G
                f[3 * i + 0][q] = gu[i][0][q] + 0.5f * (gu[i][1][q] + gu[i][2][q]);
                f[3 * i + 1][q] = 0.5f * (gu[i][1][q] - gu[i][2][q]);
                f[3 * i + 2][q] = 0.5f * (gu[i][1][q] + gu[i][2][q]) + gu[i][3][q];
            }
        for (index_t q = 0; q < count; ++q)
            for (int e = 0; e < 9; ++e) dw[(first + q) * 9 + e] += f[e][q];
    });
}

/// Scratch rows for one plane's transforms, per thread, kept between calls (no allocation in a
/// steady state).
inline float* plane_scratch(index_t floats) {
    thread_local std::vector<float> scratch;
    if (static_cast<index_t>(scratch.size()) < floats) scratch.resize(static_cast<std::size_t>(floats));
    return scratch.data();
}

// The transforms' inner loops, over a row of values. Their operands never overlap (the
// __restrict qualifiers say so, and the loops become vector code).

/// B^T applied down the columns: b0 = d0 - d2, b1 = d1 + d2, b2 = d2 - d1, b3 = d1 - d3.
inline void input_rows(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                       const float* __restrict d3, float* __restrict b0, float* __restrict b1,
                       float* __restrict b2, float* __restrict b3, index_t n) {
    for (index_t j = 0; j < n; ++j) {
        b0[j] = d0[j] - d2[j];
        b1[j] = d1[j] + d2[j];
        b2[j] = d2[j] - d1[j];
        b3[j] = d1[j] - d3[j];
    }
}
/// B applied along a row of tiles, from its even (e) and odd (o) window columns.
inline void input_columns(const float* __restrict e, const float* __restrict o, float* __restrict v0,
                          float* __restrict v1, float* __restrict v2, float* __restrict v3, index_t n) {
    for (index_t j = 0; j < n; ++j) {
        v0[j] = e[j] - e[j + 1];
        v1[j] = o[j] + e[j + 1];
        v2[j] = e[j + 1] - o[j];
        v3[j] = o[j] - o[j + 1];
    }
}
/// A^T applied to four transform rows: a0 = m0 + m1 + m2, a1 = m1 - m2 - m3 (plus `bias`).
inline void output_rows(const float* __restrict m0, const float* __restrict m1, const float* __restrict m2,
                        const float* __restrict m3, float* __restrict a0, float* __restrict a1, float bias,
                        index_t n) {
    for (index_t j = 0; j < n; ++j) {
        a0[j] = m0[j] + m1[j] + m2[j] + bias;
        a1[j] = m1[j] - m2[j] - m3[j] + bias;
    }
}
/// One row of A dY A^T from the even (e) and odd (o) columns of a tile row's two dy rows, row i
/// of A being (se, s1): ev = se e0 + s1 e1 (od likewise), then the columns ev, ev + od, ev - od, -od.
inline void output_gradient_columns(const float* __restrict e0, const float* __restrict o0,
                                    const float* __restrict e1, const float* __restrict o1, float se, float s1,
                                    float* __restrict p0, float* __restrict p1, float* __restrict p2,
                                    float* __restrict p3, index_t n) {
    for (index_t j = 0; j < n; ++j) {
        const float ev = se * e0[j] + s1 * e1[j], od = se * o0[j] + s1 * o1[j];
        p0[j] = ev;
        p1[j] = ev + od;
        p2[j] = ev - od;
        p3[j] = -od;
    }
}
/// to[j] = from[j * stride] for j < count.
inline void gather_every(const float* __restrict from, index_t stride, float* __restrict to, index_t count) {
    for (index_t j = 0; j < count; ++j) to[j] = from[j * stride];
}

/// V[xi][c][t] = (B^T d B)[xi] for the 4x4 window d of tile t of channel c (zeros outside the
/// image), B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]. Each plane is
/// copied once into zero-padded even and odd columns; then the row combinations are vector
/// operations over whole rows, and the column combinations over each tile row (window column
/// 2tj + j is even column tj or tj + 1, odd column tj or tj + 1), all contiguous.
inline void transform_input(const SubGrids& grids, const float* x, const Band& band, float* v) {
    const ConvGeometry& g = grids.sub;
    const index_t d = grids.d;
    const Tiling t = tiling(g);
    const index_t stride = g.in_channels * band.all;  // between transform points
    // The band's window rows: padded rows 2 first_row .. 2 (first_row + rows) + 1.
    const index_t padded_h = 2 * band.rows + 2, half = t.cols + 1, tiles = band.rows * t.cols;
    const index_t top = 2 * band.first_row - g.padding;  // the input row at the band's first padded row
    parallel_for(band.images * g.in_channels, tiles * 64, [&](index_t plane_index) {
        // A channel's images one after another: their tiles are adjacent in V, and a dilated
        // plane's sub-grids read the same cache lines.
        const index_t n = plane_index % band.images, c = plane_index / band.images;
        float* even = plane_scratch(2 * padded_h * half + 8 * half);  // [padded row][half]: padded columns 2j
        float* odd = even + padded_h * half;                          // and 2j + 1
        float* rows = odd + padded_h * half;                          // B^T d of one tile row: [i][even, odd][half]
        std::fill_n(even, 2 * padded_h * half, 0.0f);
        const float* plane = x + grids.in_offset(band.first_image + n, c);
        const index_t columns = std::min(g.in_w, 2 * half - g.padding);
        for (index_t r = std::max<index_t>(0, top); r < g.in_h && r - top < padded_h; ++r) {
            const float* from = plane + r * d * grids.whole.in_w;
            const index_t to = (r - top) * half;
            // Input column col is padded column col + p: even columns to `even`, odd to `odd`.
            const index_t first_even = g.padding % 2, first_odd = 1 - first_even;
            gather_every(from + first_even * d, 2 * d, even + to + (first_even + g.padding) / 2,
                         (columns - first_even + 1) / 2);
            gather_every(from + first_odd * d, 2 * d, odd + to + (first_odd + g.padding) / 2,
                         (columns - first_odd + 1) / 2);
        }
        for (index_t ti = 0; ti < band.rows; ++ti) {
            for (int parity = 0; parity < 2; ++parity) {
                const float* d0 = (parity == 0 ? even : odd) + 2 * ti * half;
                const float* d1 = d0 + half;
                const float* d2 = d1 + half;
                const float* d3 = d2 + half;
                float* b0 = rows + parity * half;
                float* b1 = b0 + 2 * half;
                float* b2 = b1 + 2 * half;
                float* b3 = b2 + 2 * half;
                input_rows(d0, d1, d2, d3, b0, b1, b2, b3, half);
            }
            for (int i = 0; i < 4; ++i) {
                const float* e = rows + 2 * i * half;
                const float* o = e + half;
                float* v0 = v + (4 * i) * stride + c * band.all + n * tiles + ti * t.cols;
                float* v1 = v0 + stride;
                float* v2 = v1 + stride;
                float* v3 = v2 + stride;
                input_columns(e, o, v0, v1, v2, v3, t.cols);
            }
        }
    });
}

/// y[n][k] = (A^T M A) per tile, cropped to the output, plus bias[k];
/// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]. Vector loops over all the plane's tiles, then one pass
/// that places each tile's 2x2 outputs.
inline void transform_output(const SubGrids& grids, const float* m, const float* bias, const Band& band,
                             float* y) {
    const ConvGeometry& g = grids.sub;
    const index_t d = grids.d;
    const Tiling t = tiling(g);
    const index_t stride = g.out_channels * band.all, tiles = band.rows * t.cols;
    parallel_for(band.images * g.out_channels, tiles * 32, [&](index_t plane_index) {
        const index_t n = plane_index % band.images, k = plane_index / band.images;  // as in transform_input
        const float b = bias ? bias[k] : 0.0f;
        float* am = plane_scratch(12 * tiles);  // A^T M: [row 0..1][column 0..3][tile], then the 4 outputs
        float* out = am + 8 * tiles;            // [row][even, odd][tile]
        const float* in = m + k * band.all + n * tiles;
        for (int j = 0; j < 4; ++j) {
            const float* m0 = in + j * stride;
            const float* m1 = m0 + 4 * stride;
            const float* m2 = m1 + 4 * stride;
            const float* m3 = m2 + 4 * stride;
            float* a0 = am + j * tiles;
            float* a1 = am + (4 + j) * tiles;
            output_rows(m0, m1, m2, m3, a0, a1, 0.0f, tiles);
        }
        for (int i = 0; i < 2; ++i) {
            const float* a = am + 4 * i * tiles;
            float* even = out + 2 * i * tiles;
            output_rows(a, a + tiles, a + 2 * tiles, a + 3 * tiles, even, even + tiles, b, tiles);
        }
        float* plane = y + grids.out_offset(band.first_image + n, k);
        const index_t whole = g.out_w / 2;  // tiles whose two columns are both in the output
        const index_t first = 2 * band.first_row, last = std::min(g.out_h, 2 * (band.first_row + band.rows));
        for (index_t r = first; r < last; ++r) {
            const float* even = out + 2 * (r % 2) * tiles + (r / 2 - band.first_row) * t.cols;
            const float* odd = even + tiles;
            float* row = plane + r * d * grids.whole.out_w;
            for (index_t tj = 0; tj < whole; ++tj) {
                row[2 * tj * d] = even[tj];
                row[(2 * tj + 1) * d] = odd[tj];
            }
            if (whole < t.cols) row[2 * whole * d] = even[whole];
        }
    });
}

/// dM[xi][k][t] = (A dY A^T)[xi] for the 2x2 tile of dy (zeros past the output's edge), the
/// adjoint of transform_output; A = [[1, 0], [1, 1], [1, -1], [0, -1]].
inline void transform_output_gradient(const SubGrids& grids, const float* dy, const Band& band, float* dm) {
    const ConvGeometry& g = grids.sub;
    const index_t d = grids.d;
    const Tiling t = tiling(g);
    const index_t stride = g.out_channels * band.all, tiles = band.rows * t.cols;
    parallel_for(band.images * g.out_channels, tiles * 32, [&](index_t plane_index) {
        const index_t n = plane_index % band.images, k = plane_index / band.images;  // as in transform_input
        const float* plane = dy + grids.out_offset(band.first_image + n, k);
        float* split = plane_scratch(4 * t.cols);  // the tile row's two dy rows, even and odd columns
        float* out = dm + k * band.all + n * tiles;
        const index_t whole = g.out_w / 2;
        for (index_t ti = 0; ti < band.rows; ++ti) {
            for (int i = 0; i < 2; ++i) {
                float* e = split + 2 * i * t.cols;
                float* o = e + t.cols;
                const index_t r = 2 * (band.first_row + ti) + i;
                if (r >= g.out_h) {
                    std::fill_n(e, 2 * t.cols, 0.0f);
                    continue;
                }
                const float* row = plane + r * d * grids.whole.out_w;
                gather_every(row, 2 * d, e, t.cols);  // the last even column may lie past a whole tile
                gather_every(row + d, 2 * d, o, whole);
                if (whole < t.cols) o[whole] = 0.0f;
            }
            const float* e0 = split;
            const float* o0 = e0 + t.cols;
            const float* e1 = o0 + t.cols;
            const float* o1 = e1 + t.cols;
            float* at = out + ti * t.cols;
            for (int i = 0; i < 4; ++i) {
                // Row i of A e: e0, e0 + e1, e0 - e1, -e1 (on the even and the odd columns).
                const float se = i == 3 ? 0.0f : 1.0f, s1 = i == 0 ? 0.0f : (i == 1 ? 1.0f : -1.0f);
                float* p0 = at + (4 * i) * stride;
                float* p1 = p0 + stride;
                float* p2 = p1 + stride;
                float* p3 = p2 + stride;
                output_gradient_columns(e0, o0, e1, o1, se, s1, p0, p1, p2, p3, t.cols);
            }
        }
    });
}

/// Runs the 16 transform-domain GEMMs, body(xi, threads): split between the threads (each GEMM
/// on one) where there are several, so there is one fork and join rather than sixteen.
template <class F>
void for_each_point(F&& body) {
    const int threads = cpu::threads();
#if defined(_OPENMP)
    if (threads > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (index_t xi = 0; xi < points; ++xi) body(xi, 1);
        return;
    }
#endif
    for (index_t xi = 0; xi < points; ++xi) body(xi, threads);
}

}  // namespace detail

/// y = conv(x, w) + bias for `images` images; `workspace` holds forward_workspace(g, images) floats.
inline void convolve(const ConvGeometry& g, const float* w, const float* x, const float* bias, float* y,
                     index_t images, float* workspace) {
    using namespace cpu_detail;
    const SubGrids grids = sub_grids(g);
    const index_t K = g.out_channels, C = g.in_channels, most = largest_band(grids.sub, grids.images(images));
    float* u = workspace;
    float* v = u + points * K * C;
    float* m = v + points * C * most;
    const auto kernels = gemm_kernels();
    detail::transform_weights(g, w, u);
    for_each_band(grids.sub, grids.images(images), [&](const Band& band) {
        const index_t T = band.all;
        detail::transform_input(grids, x, band, v);
        detail::for_each_point([&](index_t xi, int threads) {
            multiply(as_is(u + xi * K * C, K, C), as_is(v + xi * C * T, C, T), m + xi * K * T, false, threads,
                     kernels);
        });
        detail::transform_output(grids, m, bias, band, y);
    });
}

/// dw += the weight gradient of conv(x, w) for output gradient dy; `workspace` holds
/// weight_gradient_workspace(g, images) floats.
inline void weight_gradient(const ConvGeometry& g, const float* x, const float* dy, float* dw, index_t images,
                            float* workspace) {
    using namespace cpu_detail;
    const SubGrids grids = sub_grids(g);
    const index_t K = g.out_channels, C = g.in_channels, most = largest_band(grids.sub, grids.images(images));
    float* du = workspace;
    float* v = du + points * K * C;
    float* dm = v + points * C * most;
    const auto kernels = gemm_kernels();
    bool first = true;
    for_each_band(grids.sub, grids.images(images), [&](const Band& band) {
        const index_t T = band.all;
        detail::transform_input(grids, x, band, v);
        detail::transform_output_gradient(grids, dy, band, dm);
        detail::for_each_point([&](index_t xi, int threads) {
            multiply(as_is(dm + xi * K * T, K, T), transposed(v + xi * C * T, C, T), du + xi * K * C, !first, threads,
                     kernels);
        });
        first = false;
    });
    detail::accumulate_weight_gradient(g, du, dw);
}

}  // namespace chroma::kernels::cpu_winograd
