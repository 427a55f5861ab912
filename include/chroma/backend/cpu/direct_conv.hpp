#pragma once
// Direct convolution for stride-1 layers on AVX-512: no patch matrix, packed or stored. A tile is
// 8 output channels by 3 segments of 16 output pixels (a segment lies within one output row; a
// tile's segments may span rows, so a 16-pixel-wide plane still fills whole tiles). For tap
// (ki, kj) of input channel c, a segment's 16 inputs are 16 consecutive values of one row of a
// zero-padded copy of the image, so the kernel loads them straight from it: the im2col gather,
// K*K times the image per product, becomes one padded copy of the image.
//
// Why: im2col-plus-GEMM (conv_packing.hpp) gathers K*K*C values per output pixel for every
// product, and with 64 output channels each gathered value feeds only 64 multiply-adds, so the
// gather costs as much as the arithmetic. Here the arithmetic streams from L1/L2 instead.
//
// The input gradient of a stride-1 convolution is a stride-1 convolution of dy with the flipped
// weight (conv.hpp), so it runs on the same kernel.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "../../core/conv_geometry.hpp"
#include "packed_gemm.hpp"

namespace chroma::kernels::cpu_direct {

inline constexpr index_t rows_per_tile = 8;       // output channels
inline constexpr index_t segment_width = 16;      // output pixels per vector
inline constexpr index_t segments_per_tile = 3;   // vectors per row of the tile
// Values read past the end of a padded image by the last segment of a row (its lanes beyond
// the row are computed and never stored).
inline constexpr index_t padded_slack = segment_width + 16;

/// When false, every convolution takes the GEMM path (tests compare the two; CHROMA_DIRECT_CONV=0
/// in the environment starts it false, for benchmarks of the GEMM path).
inline bool& direct_convolution_enabled() {
    static bool enabled = [] {
        const char* setting = std::getenv("CHROMA_DIRECT_CONV");
        return !(setting && std::string_view(setting) == "0");
    }();
    return enabled;
}

/// Disables the direct kernel for its lifetime (single-threaded test code only).
class WithoutDirectConvolution {
public:
    WithoutDirectConvolution() : before_(direct_convolution_enabled()) { direct_convolution_enabled() = false; }
    ~WithoutDirectConvolution() { direct_convolution_enabled() = before_; }
    WithoutDirectConvolution(const WithoutDirectConvolution&) = delete;
    WithoutDirectConvolution& operator=(const WithoutDirectConvolution&) = delete;

private:
    bool before_;
};

/// Whether convolution `g` runs on the direct kernel on this CPU (float only; the caller checks).
inline bool applies(const ConvGeometry& g) {
#if defined(CHROMA_OWN_KERNELS)
    if (!direct_convolution_enabled() || g.stride != 1 || g.kernel < 2) return false;
    using cpu_gemm::instruction_set;
    if (const auto& forced = cpu_gemm::forced_kernels()) return *forced == instruction_set::avx512;
    // Narrow rows leave most of each 16-lane segment empty, and a handful of output channels
    // most of each 8-row tile; the GEMM's size rule says when packing pays for the rest.
    return cpu_gemm::active_instruction_set() == instruction_set::avx512 && g.out_w >= 12 && g.out_channels >= 8 &&
           g.out_channels * g.patch() * g.out_plane() >= (index_t(1) << 16);
#else
    (void)g;
    return false;
#endif
}

/// The padded image's geometry: each row out_w + (K-1)d wide, out_h + (K-1)d rows per channel.
struct padded_layout {
    index_t width = 0, height = 0;
    index_t plane() const { return width * height; }
};
inline padded_layout layout_of(const ConvGeometry& g) {
    const index_t reach = (g.kernel - 1) * g.dilation;
    return {.width = g.out_w + reach, .height = g.out_h + reach};
}
/// Floats one padded image takes, slack included.
inline index_t padded_size(const ConvGeometry& g) { return g.in_channels * layout_of(g).plane() + padded_slack; }
/// Floats the packed weight takes: whole 8-row tiles, patch() values per row.
inline index_t packed_weight_size(const ConvGeometry& g) {
    return (g.out_channels + rows_per_tile - 1) / rows_per_tile * rows_per_tile * g.patch();
}

/// packed[tile][k][r] = weight[tile * 8 + r][k], zero for rows beyond the last channel.
inline void pack_weight(const ConvGeometry& g, const float* weight, float* packed) {
    const index_t depth = g.patch();
    for (index_t o0 = 0; o0 < g.out_channels; o0 += rows_per_tile) {
        for (index_t k = 0; k < depth; ++k)
            for (index_t r = 0; r < rows_per_tile; ++r)
                packed[k * rows_per_tile + r] = o0 + r < g.out_channels ? weight[(o0 + r) * depth + k] : 0.0f;
        packed += depth * rows_per_tile;
    }
}

/// Copies one image into its zero-padded layout (input pixel (y, x) at padded (y + p, x + p)).
inline void pad_image(const ConvGeometry& g, const float* image, float* padded) {
    const padded_layout lay = layout_of(g);
    // Rows and columns of the input that a padded layout keeps (padding beyond the kernel's
    // reach cuts some off: no output reads them). Only the border around them is zeroed.
    const index_t p = g.padding;
    const index_t rows = std::min(g.in_h, lay.height - p), cols = std::min(g.in_w, lay.width - p);
    for (index_t c = 0; c < g.in_channels; ++c) {
        float* plane = padded + c * lay.plane();
        std::fill_n(plane, p * lay.width, 0.0f);
        for (index_t y = 0; y < rows; ++y) {
            float* line = plane + (y + p) * lay.width;
            std::fill_n(line, p, 0.0f);
            std::memcpy(line + p, image + c * g.in_plane() + y * g.in_w, static_cast<std::size_t>(cols) * sizeof(float));
            std::fill(line + p + cols, line + lay.width, 0.0f);
        }
        std::fill(plane + (rows + p) * lay.width, plane + lay.plane(), 0.0f);
    }
    std::fill_n(padded + g.in_channels * lay.plane(), padded_slack, 0.0f);
}

/// Where a tile's segments start: in the padded image and in the output plane, with lane masks.
struct segment {
    index_t padded_offset = 0, output_offset = 0;
    unsigned mask = 0;  // lanes inside the output row (0: an empty segment past the plane's end)
};

inline index_t segments_per_row(const ConvGeometry& g) { return (g.out_w + segment_width - 1) / segment_width; }
inline index_t segment_count(const ConvGeometry& g) { return g.out_h * segments_per_row(g); }
inline index_t tile_count(const ConvGeometry& g) {
    return (segment_count(g) + segments_per_tile - 1) / segments_per_tile;
}

inline segment segment_at(const ConvGeometry& g, index_t s) {
    if (s >= segment_count(g)) return {};
    const index_t per_row = segments_per_row(g), oh = s / per_row, ow = (s % per_row) * segment_width;
    const index_t valid = std::min(segment_width, g.out_w - ow);
    return {.padded_offset = oh * layout_of(g).width + ow, .output_offset = oh * g.out_w + ow,
            .mask = (1u << valid) - 1u};
}

#if defined(CHROMA_OWN_KERNELS)
/// One tile: out[r][segment pixels] = bias[r] + sum over channels and taps of
/// weight[r][c, ki, kj] * padded[c][segment row + ki d][segment column + kj d], for the `rows`
/// valid channels. `strip` is the tile's packed weight (patch() x 8).
__attribute__((target("avx512f"))) inline void tile_avx512(const ConvGeometry& g, const float* strip,
                                                            const float* padded, const segment* seg, index_t rows,
                                                            const float* bias, float* out) {
    constexpr int mr = static_cast<int>(rows_per_tile), nv = static_cast<int>(segments_per_tile);
    const padded_layout lay = layout_of(g);
    __m512 acc[mr][nv];
#pragma GCC unroll 8
    for (int r = 0; r < mr; ++r) {
        const __m512 start = _mm512_set1_ps(bias && r < rows ? bias[r] : 0.0f);
        acc[r][0] = acc[r][1] = acc[r][2] = start;
    }
    const float* s0 = padded + seg[0].padded_offset;
    const float* s1 = padded + seg[1].padded_offset;
    const float* s2 = padded + seg[2].padded_offset;
    const index_t K = g.kernel, d = g.dilation;
    for (index_t c = 0; c < g.in_channels; ++c) {
        const index_t channel = c * lay.plane();
        for (index_t ki = 0; ki < K; ++ki) {
            const index_t row = channel + ki * d * lay.width;
            for (index_t kj = 0; kj < K; ++kj) {
                const index_t at = row + kj * d;
                const __m512 b0 = _mm512_loadu_ps(s0 + at), b1 = _mm512_loadu_ps(s1 + at), b2 = _mm512_loadu_ps(s2 + at);
#pragma GCC unroll 8
                for (int r = 0; r < mr; ++r) {
                    const __m512 a = _mm512_set1_ps(strip[r]);
                    acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
                    acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
                    acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);
                }
                strip += mr;
            }
        }
    }
    const index_t plane = g.out_plane();
    for (int r = 0; r < rows; ++r) {
        float* channel_out = out + r * plane;
#pragma GCC unroll 3
        for (int v = 0; v < nv; ++v)
            if (seg[v].mask) _mm512_mask_storeu_ps(channel_out + seg[v].output_offset, seg[v].mask, acc[r][v]);
    }
}
#endif

// The weight gradient dW = dY * patches^T sums over pixels. Its tile is 6 patch entries (an
// input channel and a tap each) by 64 output channels (4 vectors): for each pixel, 6 input values
// are broadcast straight from the padded image and multiplied with that pixel's 64 output
// gradients, read from a transposed copy of dy (pixel-major, so they are contiguous). The
// accumulators hold dW transposed, [patch entry][output channel].
inline constexpr index_t gradient_entries = 6;    // patch entries per tile
inline constexpr index_t gradient_channels = 64;  // output channels per tile (4 vectors)
inline constexpr index_t gradient_chunk = 128;    // pixels per pass: a block of their dy^T stays in L1

/// Output channels rounded up to whole vectors: the row length of dy^T and dW^T.
inline index_t padded_out_channels(const ConvGeometry& g) {
    return (g.out_channels + segment_width - 1) / segment_width * segment_width;
}
/// Floats weight_gradient needs beside the padded image: dy^T and dW^T.
inline index_t weight_gradient_scratch(const ConvGeometry& g) {
    return (g.out_plane() + g.patch()) * padded_out_channels(g);
}

/// dy^T[pixel][o] = dy[o][pixel], zero for o beyond the last channel.
inline void transpose_gradient(const ConvGeometry& g, const float* dy, float* dy_t) {
    const index_t ldo = padded_out_channels(g), plane = g.out_plane();
    constexpr index_t block = 32;  // a square of the transpose that stays in L1
    for (index_t p0 = 0; p0 < plane; p0 += block)
        for (index_t o0 = 0; o0 < ldo; o0 += block)
            for (index_t p = p0; p < std::min(plane, p0 + block); ++p)
                for (index_t o = o0; o < std::min(ldo, o0 + block); ++o)
                    dy_t[p * ldo + o] = o < g.out_channels ? dy[o * plane + p] : 0.0f;
}

#if defined(CHROMA_OWN_KERNELS)
/// dW^T[entry][o] += sum over the chunk's pixels of x(entry, pixel) * dy^T[pixel][o] for up to 6
/// entries (their offsets in the padded image) and NV vectors of output channels.
template <int NV>
__attribute__((target("avx512f"))) void weight_gradient_tile(const ConvGeometry& g, const float* padded,
                                                             const index_t* entry_offset, index_t entries,
                                                             const float* dy_t, index_t ldo, index_t first_row,
                                                             index_t rows, float* dw_t) {
    constexpr int mr = static_cast<int>(gradient_entries);
    const index_t width = layout_of(g).width;
    const float* x[mr];
    for (int n = 0; n < mr; ++n) x[n] = padded + entry_offset[n < entries ? n : 0];  // spare entries: unused
    __m512 acc[mr][NV];
#pragma GCC unroll 6
    for (int n = 0; n < mr; ++n)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[n][v] = _mm512_setzero_ps();
    const float* dy_row = dy_t;
    for (index_t oh = first_row; oh < first_row + rows; ++oh) {
        const index_t line = oh * width;
        for (index_t ow = 0; ow < g.out_w; ++ow, dy_row += ldo) {
            __m512 b[NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(dy_row + 16 * v);
#pragma GCC unroll 6
            for (int n = 0; n < mr; ++n) {
                const __m512 a = _mm512_set1_ps(x[n][line + ow]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; ++v) acc[n][v] = _mm512_fmadd_ps(a, b[v], acc[n][v]);
            }
        }
    }
    for (index_t n = 0; n < entries; ++n)
        for (int v = 0; v < NV; ++v) {
            float* out = dw_t + n * ldo + 16 * v;
            _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[n][v]));
        }
}
#endif

/// Number of 6-entry tiles weight_gradient splits the patch into.
inline index_t weight_gradient_units(const ConvGeometry& g) {
    return (g.patch() + gradient_entries - 1) / gradient_entries;
}

/// dW^T[entry][o] += the entries of tiles [first, last) of one image's dY * patches^T: dy_t is the
/// image's transposed output gradient (transpose_gradient), padded its input (pad_image).
inline void weight_gradient(const ConvGeometry& g, const float* dy_t, const float* padded, float* dw_t, index_t first,
                            index_t last) {
#if defined(CHROMA_OWN_KERNELS)
    const padded_layout lay = layout_of(g);
    const index_t K = g.kernel, taps = K * K, ldo = padded_out_channels(g);
    const index_t chunk_rows = std::max<index_t>(1, gradient_chunk / g.out_w);
    for (index_t oh = 0; oh < g.out_h; oh += chunk_rows) {
        const index_t rows = std::min(chunk_rows, g.out_h - oh);
        const float* dy_chunk = dy_t + oh * g.out_w * ldo;
        // The chunk's gradients for one block of output channels stay in L1 while every
        // patch entry passes over them.
        for (index_t o0 = 0; o0 < ldo; o0 += gradient_channels) {
            const index_t vectors = std::min(gradient_channels, ldo - o0) / segment_width;
            const float* dy = dy_chunk + o0;
            for (index_t unit = first; unit < last; ++unit) {
                const index_t n0 = unit * gradient_entries, entries = std::min(gradient_entries, g.patch() - n0);
                index_t offset[gradient_entries];
                for (index_t n = 0; n < entries; ++n) {
                    const index_t k = n0 + n, c = k / taps, tap = k % taps;
                    offset[n] = c * lay.plane() + (tap / K) * g.dilation * lay.width + (tap % K) * g.dilation;
                }
                float* out = dw_t + n0 * ldo + o0;
                if (vectors == 4) weight_gradient_tile<4>(g, padded, offset, entries, dy, ldo, oh, rows, out);
                else if (vectors == 3) weight_gradient_tile<3>(g, padded, offset, entries, dy, ldo, oh, rows, out);
                else if (vectors == 2) weight_gradient_tile<2>(g, padded, offset, entries, dy, ldo, oh, rows, out);
                else weight_gradient_tile<1>(g, padded, offset, entries, dy, ldo, oh, rows, out);
            }
        }
    }
#else
    (void)g, (void)dy_t, (void)padded, (void)dw_t, (void)first, (void)last;
#endif
}

/// y = conv(image) + bias for tiles [first, last) of one image, from its padded copy and the
/// packed weight. `out` is the image's output (out_channels x out_plane).
inline void convolve_tiles(const ConvGeometry& g, const float* packed_weight, const float* padded, const float* bias,
                           float* out, index_t first, index_t last) {
#if defined(CHROMA_OWN_KERNELS)
    const index_t depth = g.patch();
    for (index_t t = first; t < last; ++t) {
        segment seg[segments_per_tile];
        for (index_t v = 0; v < segments_per_tile; ++v) {
            seg[v] = segment_at(g, t * segments_per_tile + v);
            // An empty segment computes from the plane's start and stores nothing.
        }
        for (index_t o0 = 0; o0 < g.out_channels; o0 += rows_per_tile)
            tile_avx512(g, packed_weight + o0 * depth, padded, seg, std::min(rows_per_tile, g.out_channels - o0),
                        bias ? bias + o0 : nullptr, out + o0 * g.out_plane());
    }
#else
    (void)g, (void)packed_weight, (void)padded, (void)bias, (void)out, (void)first, (void)last;
#endif
}

}  // namespace chroma::kernels::cpu_direct
