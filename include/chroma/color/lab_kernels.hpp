#pragma once
// CPU kernels for whole-image sRGB <-> L*a*b* conversions: rows spread over every thread, each
// pixel converted by the per-pixel functions of lab.hpp. Callers (conversion.hpp) check shapes.
// Planar tensors: rgb [N,3,H,W], lightness [N,1,H,W], ab [N,2,H,W]; 8-bit images are interleaved
// N x H x W x 3.
//
// The row loops vectorise: every per-pixel call is inlined into them (flatten), their pointers
// are declared unaliased, and the per-pixel maths is branch-free (fast_math.hpp).
#include <cstdint>

#include "../backend/cpu/parallel.hpp"
#include "../core/tensor.hpp"
#include "lab.hpp"
#include "srgb8.hpp"

#if defined(__GNUC__)
#define CHROMA_COLOR_FLATTEN [[gnu::flatten]]
#else
#define CHROMA_COLOR_FLATTEN
#endif

namespace chroma::kernels {

namespace color_detail {
// Work of one pixel, in the units parallel_for weighs work in.
inline constexpr index_t lab_pixel_cost = 64;

// Calls body(n, first pixel of the row within its plane) for every row of an N x H x W batch,
// rows spread over threads.
template <class F>
void for_each_row(const Shape& shape, F&& body) {
    cpu_detail::parallel_for(shape.n * shape.h, shape.w * lab_pixel_cost,
                             [&](index_t row) { body(row / shape.h, (row % shape.h) * shape.w); });
}

template <class T>
CHROMA_COLOR_FLATTEN void srgb_to_lab_row(const T* __restrict r, const T* __restrict g, const T* __restrict b,
                                          T* __restrict l, T* __restrict a, T* __restrict bb, index_t count,
                                          const color::LabSpace<T> space) {
    for (index_t i = 0; i < count; ++i) {
        const color::Lab<T> lab = color::srgb_to_lab(color::Rgb<T>{r[i], g[i], b[i]}, space);
        l[i] = lab.l;
        a[i] = lab.a;
        bb[i] = lab.b;
    }
}

template <class T>
CHROMA_COLOR_FLATTEN void lab_to_srgb_row(const T* __restrict l, const T* __restrict a, const T* __restrict bb,
                                          T* __restrict r, T* __restrict g, T* __restrict b, index_t count,
                                          const color::LabSpace<T> space) {
    for (index_t i = 0; i < count; ++i) {
        const color::Rgb<T> c = color::lab_to_srgb(color::Lab<T>{l[i], a[i], bb[i]}, space);
        r[i] = c.r;
        g[i] = c.g;
        b[i] = c.b;
    }
}

template <class T>
CHROMA_COLOR_FLATTEN void rgb8_to_lab_row(const std::uint8_t* __restrict in, const T* __restrict linear,
                                          T* __restrict l, T* __restrict a, T* __restrict bb, index_t count,
                                          const color::LabSpace<T> space) {
    for (index_t i = 0; i < count; ++i) {
        const color::Rgb<T> c{linear[in[3 * i]], linear[in[3 * i + 1]], linear[in[3 * i + 2]]};
        const color::Lab<T> lab = color::linear_rgb_to_lab(c, space);
        l[i] = lab.l;
        a[i] = lab.a;
        bb[i] = lab.b;
    }
}

template <class T>
CHROMA_COLOR_FLATTEN void lab_to_rgb8_row(const T* __restrict l, const T* __restrict a, const T* __restrict bb,
                                          std::uint8_t* __restrict out, index_t count, const color::LabSpace<T> space) {
    for (index_t i = 0; i < count; ++i) {
        const color::Rgb<T> c = color::lab_to_srgb(color::Lab<T>{l[i], a[i], bb[i]}, space);
        out[3 * i] = color::to_srgb8(c.r);
        out[3 * i + 1] = color::to_srgb8(c.g);
        out[3 * i + 2] = color::to_srgb8(c.b);
    }
}
}  // namespace color_detail

template <class T>
void srgb_to_lab(const Tensor<T, cpu>& rgb, Tensor<T, cpu>& lightness, Tensor<T, cpu>& ab,
                 const color::LabSpace<T>& space) {
    const index_t plane = rgb.shape().plane(), width = rgb.shape().w;
    color_detail::for_each_row(rgb.shape(), [&](index_t n, index_t start) {
        const T* r = rgb.data() + n * 3 * plane + start;
        T* a = ab.data() + n * 2 * plane + start;
        color_detail::srgb_to_lab_row(r, r + plane, r + 2 * plane, lightness.data() + n * plane + start, a, a + plane,
                                      width, space);
    });
}

template <class T>
void lab_to_srgb(const Tensor<T, cpu>& lightness, const Tensor<T, cpu>& ab, Tensor<T, cpu>& rgb,
                 const color::LabSpace<T>& space) {
    const index_t plane = lightness.shape().plane(), width = lightness.shape().w;
    color_detail::for_each_row(lightness.shape(), [&](index_t n, index_t start) {
        const T* a = ab.data() + n * 2 * plane + start;
        T* r = rgb.data() + n * 3 * plane + start;
        color_detail::lab_to_srgb_row(lightness.data() + n * plane + start, a, a + plane, r, r + plane, r + 2 * plane,
                                      width, space);
    });
}

/// Interleaved 8-bit sRGB (N x H x W x 3, host memory) -> planar L and ab.
template <class T>
void rgb8_to_lab(const std::uint8_t* pixels, Tensor<T, cpu>& lightness, Tensor<T, cpu>& ab,
                 const color::LabSpace<T>& space) {
    const T* linear = color::srgb8_to_linear_table<T>().data();
    const index_t plane = lightness.shape().plane(), width = lightness.shape().w;
    color_detail::for_each_row(lightness.shape(), [&](index_t n, index_t start) {
        T* a = ab.data() + n * 2 * plane + start;
        color_detail::rgb8_to_lab_row(pixels + (n * plane + start) * 3, linear, lightness.data() + n * plane + start, a,
                                      a + plane, width, space);
    });
}

/// Planar L and ab -> interleaved 8-bit sRGB (N x H x W x 3, host memory), clipped and rounded.
template <class T>
void lab_to_rgb8(const Tensor<T, cpu>& lightness, const Tensor<T, cpu>& ab, std::uint8_t* pixels,
                 const color::LabSpace<T>& space) {
    const index_t plane = lightness.shape().plane(), width = lightness.shape().w;
    color_detail::for_each_row(lightness.shape(), [&](index_t n, index_t start) {
        const T* a = ab.data() + n * 2 * plane + start;
        color_detail::lab_to_rgb8_row(lightness.data() + n * plane + start, a, a + plane,
                                      pixels + (n * plane + start) * 3, width, space);
    });
}

}  // namespace chroma::kernels

#undef CHROMA_COLOR_FLATTEN
