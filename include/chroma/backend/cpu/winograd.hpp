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
// in the hundreds, which is where it is used (the deep levels of the U-Nets and classifiers).
//
// The backward pass is the exact adjoint of the same algebra:
//   * the input gradient is the convolution of dy with the flipped weight (conv.hpp's
//     input_gradient_geometry), itself a 3x3 stride-1 convolution, so it runs here too;
//   * the weight gradient: dM = A dY A^T per tile, dU[xi] (K x C) = dM[xi] (K x T) * V[xi]^T,
//     and dw = G^T dU G.
// F(2x2, 3x3)'s transforms have entries 0, +-1 and +-1/2 only, so its rounding stays at the
// level of the direct sum (checked against it in tests/nn/test_conv.cpp); F(4x4, 3x3) would save
// more multiplies but its larger transform constants cost accuracy in float.
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

/// Whether the algorithm computes convolution `g`: 3x3, stride 1, no dilation, any padding.
inline bool applies(const ConvGeometry& g) {
    return g.kernel == 3 && g.stride == 1 && g.dilation == 1 && g.out_h >= 1 && g.out_w >= 1 &&
           g.out_h == g.in_h + 2 * g.padding - 2 && g.out_w == g.in_w + 2 * g.padding - 2;
}

/// Whether convolution `g` runs here (see mode). Measured (benchmarks/RESULTS.md): the deep
/// layers, 128 or more channels in and out; below that the transforms' memory traffic is a
/// larger share and the direct kernel wins.
inline bool chosen(const ConvGeometry& g) {
    switch (winograd_mode()) {
    case mode::never: return false;
    case mode::always: return applies(g);
    case mode::measured: break;
    }
    const auto& forced = cpu_gemm::forced_kernels();
    const auto kernels = forced ? *forced : cpu_gemm::active_instruction_set();
    return applies(g) && kernels != cpu_gemm::instruction_set::eigen && g.in_channels >= 128 && g.out_channels >= 128;
}

/// The 2x2 output tiles of one image, and of the batch.
struct Tiling {
    index_t rows = 0, cols = 0, per_image = 0, all = 0;
};
inline Tiling tiling(const ConvGeometry& g, index_t images) {
    Tiling t;
    t.rows = (g.out_h + 1) / 2;
    t.cols = (g.out_w + 1) / 2;
    t.per_image = t.rows * t.cols;
    t.all = images * t.per_image;
    return t;
}

/// Floats the forward pass needs as workspace: U, V and M.
inline index_t forward_workspace(const ConvGeometry& g, index_t images) {
    const index_t tiles = tiling(g, images).all;
    return points * (g.out_channels * g.in_channels + g.in_channels * tiles + g.out_channels * tiles);
}
/// Floats the weight gradient needs as workspace: V, dM and dU.
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

/// V[xi][c][t] = (B^T d B)[xi] for the 4x4 window d of tile t of channel c (zeros outside the
/// image), B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]. Each plane is
/// zero-padded once; the row combinations are whole-row vector operations; the column
/// combinations read the even and odd columns, gathered once per plane into tile order, so the
/// 16 outputs are vector loops over all the plane's tiles.
inline void transform_input(const ConvGeometry& g, const float* x, index_t images, float* v) {
    const Tiling t = tiling(g, images);
    const index_t stride = g.in_channels * t.all;  // between transform points
    const index_t padded_h = 2 * t.rows + 2, padded_w = 2 * t.cols + 2, tiles = t.per_image;
    parallel_for(images * g.in_channels, tiles * 64, [&](index_t plane_index) {
        const index_t n = plane_index / g.in_channels, c = plane_index % g.in_channels;
        float* padded = plane_scratch(padded_h * padded_w + 4 * padded_w * t.rows + 16 * tiles);
        float* rows = padded + padded_h * padded_w;  // [i][tile row][padded column]: B^T d's rows
        float* split = rows + 4 * padded_w * t.rows;  // [i][e0, e1, o0, o1][tile]: columns 2tj, 2tj + 2, 2tj + 1, 2tj + 3
        std::fill_n(padded, padded_h * padded_w, 0.0f);
        const float* plane = x + plane_index * g.in_plane();
        for (index_t r = 0; r < g.in_h && r + g.padding < padded_h; ++r)
            std::copy_n(plane + r * g.in_w, std::min(g.in_w, padded_w - g.padding),
                        padded + (r + g.padding) * padded_w + g.padding);
        const index_t row_block = padded_w * t.rows;
        for (index_t ti = 0; ti < t.rows; ++ti) {
            const float* d0 = padded + 2 * ti * padded_w;
            const float* d1 = d0 + padded_w;
            const float* d2 = d1 + padded_w;
            const float* d3 = d2 + padded_w;
            float* r0 = rows + ti * padded_w;
            for (index_t j = 0; j < padded_w; ++j) {
                r0[j] = d0[j] - d2[j];
                r0[row_block + j] = d1[j] + d2[j];
                r0[2 * row_block + j] = d2[j] - d1[j];
                r0[3 * row_block + j] = d1[j] - d3[j];
            }
        }
        for (int i = 0; i < 4; ++i) {
            float* e0 = split + 4 * i * tiles;
            float* e1 = e0 + tiles;
            float* o0 = e1 + tiles;
            float* o1 = o0 + tiles;
            for (index_t ti = 0; ti < t.rows; ++ti) {
                const float* row = rows + i * row_block + ti * padded_w;
                for (index_t tj = 0; tj < t.cols; ++tj) {
                    const index_t at = ti * t.cols + tj;
                    e0[at] = row[2 * tj];
                    o0[at] = row[2 * tj + 1];
                    e1[at] = row[2 * tj + 2];
                    o1[at] = row[2 * tj + 3];
                }
            }
            float* v0 = v + (4 * i) * stride + c * t.all + n * tiles;
            float* v1 = v0 + stride;
            float* v2 = v1 + stride;
            float* v3 = v2 + stride;
            for (index_t at = 0; at < tiles; ++at) {
                v0[at] = e0[at] - e1[at];
                v1[at] = o0[at] + e1[at];
                v2[at] = e1[at] - o0[at];
                v3[at] = o0[at] - o1[at];
            }
        }
    });
}

/// y[n][k] = (A^T M A) per tile, cropped to the output, plus bias[k];
/// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]. Vector loops over all the plane's tiles, then one pass
/// that places each tile's 2x2 outputs.
inline void transform_output(const ConvGeometry& g, const float* m, const float* bias, index_t images, float* y) {
    const Tiling t = tiling(g, images);
    const index_t stride = g.out_channels * t.all, tiles = t.per_image;
    parallel_for(images * g.out_channels, tiles * 32, [&](index_t plane_index) {
        const index_t n = plane_index / g.out_channels, k = plane_index % g.out_channels;
        const float b = bias ? bias[k] : 0.0f;
        float* am = plane_scratch(12 * tiles);  // A^T M: [row 0..1][column 0..3][tile], then the 4 outputs
        float* out = am + 8 * tiles;            // [row][even, odd][tile]
        const float* in = m + k * t.all + n * tiles;
        for (int j = 0; j < 4; ++j) {
            const float* m0 = in + j * stride;
            const float* m1 = m0 + 4 * stride;
            const float* m2 = m1 + 4 * stride;
            const float* m3 = m2 + 4 * stride;
            float* a0 = am + j * tiles;
            float* a1 = am + (4 + j) * tiles;
            for (index_t at = 0; at < tiles; ++at) {
                a0[at] = m0[at] + m1[at] + m2[at];
                a1[at] = m1[at] - m2[at] - m3[at];
            }
        }
        for (int i = 0; i < 2; ++i) {
            const float* a = am + 4 * i * tiles;
            float* even = out + 2 * i * tiles;
            float* odd = even + tiles;
            for (index_t at = 0; at < tiles; ++at) {
                even[at] = a[at] + a[tiles + at] + a[2 * tiles + at] + b;
                odd[at] = a[tiles + at] - a[2 * tiles + at] - a[3 * tiles + at] + b;
            }
        }
        float* plane = y + plane_index * g.out_plane();
        const index_t whole = g.out_w / 2;  // tiles whose two columns are both in the output
        for (index_t r = 0; r < g.out_h; ++r) {
            const float* even = out + 2 * (r % 2) * tiles + (r / 2) * t.cols;
            const float* odd = even + tiles;
            float* row = plane + r * g.out_w;
            for (index_t tj = 0; tj < whole; ++tj) {
                row[2 * tj] = even[tj];
                row[2 * tj + 1] = odd[tj];
            }
            if (whole < t.cols) row[2 * whole] = even[whole];
        }
    });
}

/// dM[xi][k][t] = (A dY A^T)[xi] for the 2x2 tile of dy (zeros past the output's edge), the
/// adjoint of transform_output; A = [[1, 0], [1, 1], [1, -1], [0, -1]].
inline void transform_output_gradient(const ConvGeometry& g, const float* dy, index_t images, float* dm) {
    const Tiling t = tiling(g, images);
    const index_t stride = g.out_channels * t.all;
    parallel_for(images * g.out_channels, t.per_image * 32, [&](index_t plane_index) {
        const index_t n = plane_index / g.out_channels, k = plane_index % g.out_channels;
        const float* plane = dy + plane_index * g.out_plane();
        float* split = plane_scratch(4 * t.cols);  // the tile row's two dy rows, even and odd columns
        float* out = dm + k * t.all + n * t.per_image;
        const index_t whole = g.out_w / 2;
        for (index_t ti = 0; ti < t.rows; ++ti) {
            for (int i = 0; i < 2; ++i) {
                float* e = split + 2 * i * t.cols;
                float* o = e + t.cols;
                const index_t r = 2 * ti + i;
                if (r >= g.out_h) {
                    std::fill_n(e, 2 * t.cols, 0.0f);
                    continue;
                }
                const float* row = plane + r * g.out_w;
                for (index_t tj = 0; tj < whole; ++tj) {
                    e[tj] = row[2 * tj];
                    o[tj] = row[2 * tj + 1];
                }
                if (whole < t.cols) {
                    e[whole] = row[2 * whole];
                    o[whole] = 0.0f;
                }
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
                for (index_t tj = 0; tj < t.cols; ++tj) {
                    const float ev = se * e0[tj] + s1 * e1[tj], od = se * o0[tj] + s1 * o1[tj];
                    p0[tj] = ev;  // (A e) A^T: columns ev, ev + od, ev - od, -od
                    p1[tj] = ev + od;
                    p2[tj] = ev - od;
                    p3[tj] = -od;
                }
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
    const index_t K = g.out_channels, C = g.in_channels, T = tiling(g, images).all;
    float* u = workspace;
    float* v = u + points * K * C;
    float* m = v + points * C * T;
    detail::transform_weights(g, w, u);
    detail::transform_input(g, x, images, v);
    detail::for_each_point([&](index_t xi, int threads) {
        multiply(as_is(u + xi * K * C, K, C), as_is(v + xi * C * T, C, T), m + xi * K * T, false, threads);
    });
    detail::transform_output(g, m, bias, images, y);
}

/// dw += the weight gradient of conv(x, w) for output gradient dy; `workspace` holds
/// weight_gradient_workspace(g, images) floats.
inline void weight_gradient(const ConvGeometry& g, const float* x, const float* dy, float* dw, index_t images,
                            float* workspace) {
    using namespace cpu_detail;
    const index_t K = g.out_channels, C = g.in_channels, T = tiling(g, images).all;
    float* du = workspace;
    float* v = du + points * K * C;
    float* dm = v + points * C * T;
    detail::transform_input(g, x, images, v);
    detail::transform_output_gradient(g, dy, images, dm);
    detail::for_each_point([&](index_t xi, int threads) {
        multiply(as_is(dm + xi * K * T, K, T), transposed(v + xi * C * T, C, T), du + xi * K * C, false, threads);
    });
    detail::accumulate_weight_gradient(g, du, dw);
}

}  // namespace chroma::kernels::cpu_winograd
