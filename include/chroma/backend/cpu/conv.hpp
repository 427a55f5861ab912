#pragma once
// Convolution and transposed convolution on the CPU. Four ways, chosen per layer and pass:
//  * 3x3 stride-1 convolutions with many channels: Winograd F(2x2, 3x3) over the whole batch
//    (winograd.hpp), 16 GEMMs with 2.25x fewer multiply-adds;
//  * stride-1 convolutions on AVX-512: the direct kernel (direct_conv.hpp), which reads its
//    inputs from a zero-padded copy of each image;
//  * small planes (under 192 output pixels) of a batch: one packed-GEMM product over every
//    image's columns (conv_batched.hpp);
//  * otherwise GEMMs one image at a time (gemm.hpp: Chroma's packed AVX-512/AVX2 kernels, or
//    Eigen). On Chroma's kernels the patches are gathered while packing (conv_packing.hpp);
//    on Eigen, and for the data-gradient scatter (col2im), they go through a stored patch
//    matrix (im2col.hpp).
// With several images and several threads, images run in parallel (each thread its own scratch
// and gradient partials, summed at the end); with one image the product or the tiles use the
// threads.
#include <algorithm>
#include <type_traits>

#include "../../core/conv_geometry.hpp"
#include "../../core/tensor.hpp"
#include "cpu.hpp"
#include "conv_batched.hpp"
#include "conv_packing.hpp"
#include "direct_conv.hpp"
#include "gemm.hpp"
#include "im2col.hpp"
#include "winograd.hpp"

namespace chroma::kernels {
namespace cpu_detail {

/// Runs body(n, slot) for every image n; slot in [0, slots) names the thread's scratch space.
template <class F>
void for_each_image(index_t images, int slots, F&& body) {
#if defined(_OPENMP)
    if (slots > 1) {
#pragma omp parallel num_threads(slots)
        {
            const int slot = omp_get_thread_num();
#pragma omp for schedule(static)
            for (index_t n = 0; n < images; ++n) body(n, slot);
        }
        return;
    }
#endif
    for (index_t n = 0; n < images; ++n) body(n, 0);
}

/// Below this many multiply-adds a convolution stays on one thread: waking threads would cost
/// more than they save.
inline constexpr index_t parallel_conv_work = index_t(1) << 20;

inline int image_slots(index_t images, const ConvGeometry& g) {
    if (images * g.out_channels * g.patch() * g.out_plane() < parallel_conv_work) return 1;
    return static_cast<int>(std::min<index_t>(images, std::max(1, cpu::threads())));
}

template <class T>
using column = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

/// Runs body(first, last) over [0, units) split between up to `threads` threads (one where the
/// convolution is too small to be worth waking a second).
template <class F>
void split_between_threads(const ConvGeometry& g, index_t units, int threads, F&& body) {
    if (g.out_channels * g.patch() * g.out_plane() < parallel_conv_work) threads = 1;
    threads = static_cast<int>(std::min<index_t>(threads, units));
#if defined(_OPENMP)
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            const index_t t = omp_get_thread_num(), count = omp_get_num_threads();
            body(units * t / count, units * (t + 1) / count);
        }
        return;
    }
#endif
    body(index_t(0), units);
}

/// out = conv(image) + bias on the direct kernel (direct_conv.hpp), the tiles split between
/// `threads` threads; `padded` holds cpu_direct::padded_size(g) floats.
inline void direct_convolve_image(const ConvGeometry& g, const float* packed_weight, const float* image,
                                  const float* bias, float* out, float* padded, int threads) {
    cpu_direct::pad_image(g, image, padded);
    split_between_threads(g, cpu_direct::tile_count(g), threads, [&](index_t first, index_t last) {
        cpu_direct::convolve_tiles(g, packed_weight, padded, bias, out, first, last);
    });
}

/// Floats direct_weight_gradient needs as scratch.
inline index_t direct_weight_gradient_scratch(const ConvGeometry& g) {
    return cpu_direct::padded_size(g) + cpu_direct::weight_gradient_scratch(g);
}

/// dw += dY * patches^T for one image on the direct kernel, the patch's tiles split between
/// `threads` threads; `scratch` holds direct_weight_gradient_scratch(g) floats.
inline void direct_weight_gradient(const ConvGeometry& g, const float* dy, const float* image, float* dw,
                                   float* scratch, int threads) {
    float* padded = scratch;
    float* dy_t = padded + cpu_direct::padded_size(g);
    const index_t ldo = cpu_direct::padded_out_channels(g);
    float* dw_t = dy_t + g.out_plane() * ldo;
    cpu_direct::pad_image(g, image, padded);
    cpu_direct::transpose_gradient(g, dy, dy_t);
    std::fill_n(dw_t, g.patch() * ldo, 0.0f);
    split_between_threads(g, cpu_direct::weight_gradient_units(g), threads, [&](index_t first, index_t last) {
        cpu_direct::weight_gradient(g, dy_t, padded, dw_t, first, last);
    });
    for (index_t o = 0; o < g.out_channels; ++o)
        for (index_t k = 0; k < g.patch(); ++k) dw[o * g.patch() + k] += dw_t[k * ldo + o];
}

/// y = conv(x) + bias for every image on the direct kernel: images in parallel when there are
/// several, else the tiles of the one image. `workspace` holds the packed weight and the padded
/// images.
template <class Workspace>
void direct_convolve(const ConvGeometry& g, const float* weight, const float* x, const float* bias, float* y,
                     index_t images, int slots, Workspace& workspace) {
    const index_t packed = cpu_direct::packed_weight_size(g), padded = cpu_direct::padded_size(g);
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = packed + slots * padded});
    cpu_direct::pack_weight(g, weight, workspace.data());
    const int tile_threads = slots > 1 ? 1 : cpu::threads();
    for_each_image(images, slots, [&](index_t n, int slot) {
        direct_convolve_image(g, workspace.data(), x + n * g.in_channels * g.in_plane(), bias,
                              y + n * g.out_channels * g.out_plane(), workspace.data() + packed + slot * padded,
                              tile_threads);
    });
}

}  // namespace cpu_detail

/// y = conv(x, weight) + bias. y must already have the output shape; bias may be null.
template <class T>
void conv2d_forward(const ConvGeometry& g, const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                    const Tensor<T, cpu>* bias, Tensor<T, cpu>& y, Tensor<T, cpu>& workspace) {
    using namespace cpu_detail;
    const index_t images = x.shape().n;
    const int slots = image_slots(images, g);
    const int gemm_threads = slots > 1 ? 1 : cpu::threads();
    if constexpr (std::is_same_v<T, float>) {
        if (cpu_winograd::chosen(g)) {
            workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = cpu_winograd::forward_workspace(g, images)});
            cpu_winograd::convolve(g, weight.data(), x.data(), bias ? bias->data() : nullptr, y.data(), images,
                                   workspace.data());
            return;
        }
        if (cpu_direct::applies(g)) {
            direct_convolve(g, weight.data(), x.data(), bias ? bias->data() : nullptr, y.data(), images, slots,
                            workspace);
            return;
        }
        if (batch_wide(g, images)) {
            const auto kernel = cpu_gemm::kernel_for_product(g.out_channels, images * g.out_plane(), g.patch());
            if (kernel.tile) {
                workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = g.out_channels * images * g.out_plane()});
                convolve_batch_wide(kernel, g, weight.data(), x.data(), bias ? bias->data() : nullptr, y.data(), images,
                                    workspace.data());
                return;
            }
        }
        // Chroma's kernels gather the patches while packing: no patch matrix at all.
        const auto kernel = cpu_gemm::kernel_for_product(g.out_channels, g.out_plane(), g.patch());
        if (kernel.tile && !g.is_pointwise()) {
            workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = 0});
            for_each_image(images, slots, [&](index_t n, int) {
                float* out = y.data() + n * g.out_channels * g.out_plane();
                cpu_gemm::gemm(kernel, g.out_channels, g.out_plane(), g.patch(),
                               cpu_gemm::pack_rows_of{weight.data(), g.patch()},
                               cpu_gemm::pack_patches_of{&g, x.data() + n * g.in_channels * g.in_plane()}, out,
                               g.out_plane(), false, gemm_threads);
                if (bias) view(out, g.out_channels, g.out_plane()).colwise() += column<T>(bias->data(), g.out_channels);
            });
            return;
        }
    }
    const index_t col_size = g.is_pointwise() ? 0 : g.patch() * g.out_plane();
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = slots * col_size});

    for_each_image(images, slots, [&](index_t n, int slot) {
        const T* image = x.data() + n * g.in_channels * g.in_plane();
        const T* patches = image;
        if (!g.is_pointwise()) {
            T* col = workspace.data() + slot * col_size;
            im2col(g, image, col);
            patches = col;
        }
        T* out = y.data() + n * g.out_channels * g.out_plane();
        multiply(as_is(weight.data(), g.out_channels, g.patch()), as_is(patches, g.patch(), g.out_plane()), out,
                 false, gemm_threads);
        if (bias) view(out, g.out_channels, g.out_plane()).colwise() += column<T>(bias->data(), g.out_channels);
    });
}

namespace cpu_detail {

/// The input gradient of a stride-1 convolution `g` as a convolution of dy: the same kernel
/// size and dilation, channels swapped, padding (K - 1) d - p, and the weight flipped (see
/// flip_weight). Valid when p <= (K - 1) d, which every "same" convolution meets.
inline bool input_gradient_is_convolution(const ConvGeometry& g) {
    return g.stride == 1 && g.padding <= (g.kernel - 1) * g.dilation;
}
inline ConvGeometry input_gradient_geometry(const ConvGeometry& g) {
    return ConvGeometry{.in_channels = g.out_channels, .out_channels = g.in_channels, .kernel = g.kernel, .stride = 1,
                        .padding = (g.kernel - 1) * g.dilation - g.padding, .dilation = g.dilation,
                        .in_h = g.out_h, .in_w = g.out_w, .out_h = g.in_h, .out_w = g.in_w};
}
/// W'[c][o][a][b] = W[o][c][K-1-a][K-1-b]: the weight of input_gradient_geometry's convolution.
template <class T>
void flip_weight(const ConvGeometry& g, const T* weight, T* flipped) {
    const index_t K = g.kernel, taps = K * K;
    for (index_t o = 0; o < g.out_channels; ++o)
        for (index_t c = 0; c < g.in_channels; ++c)
            for (index_t t = 0; t < taps; ++t)
                flipped[(c * g.out_channels + o) * taps + (taps - 1 - t)] = weight[(o * g.in_channels + c) * taps + t];
}

/// Which backward products of a convolution run on Chroma's kernels with the patches gathered
/// while packing (float only, where the product is large enough); the rest store patches.
struct implicit_backward {
    cpu_gemm::micro_kernel weight{}, input{};
    bool direct_input = false;   // the input gradient on the direct kernel (then input has no tile)
    bool direct_weight = false;  // the weight gradient on the direct kernel (then weight has no tile)
    ConvGeometry input_geometry{};
};
template <class T>
implicit_backward plan_implicit_backward(const ConvGeometry& g, bool input_gradient) {
    implicit_backward plan;
    if constexpr (std::is_same_v<T, float>) {
        if (g.is_pointwise()) return plan;
        // The direct weight gradient's tiles read all of dy^T once per 6 patch entries: past 128
        // output channels that streaming costs what the GEMM's patch gathering does.
        plan.direct_weight = cpu_direct::applies(g) && g.out_channels <= 128;
        if (!plan.direct_weight) plan.weight = cpu_gemm::kernel_for_product(g.out_channels, g.patch(), g.out_plane());
        if (input_gradient && input_gradient_is_convolution(g)) {
            plan.input_geometry = input_gradient_geometry(g);
            plan.direct_input = cpu_direct::applies(plan.input_geometry);
            if (!plan.direct_input)
                plan.input = cpu_gemm::kernel_for_product(g.in_channels, g.in_plane(), plan.input_geometry.patch());
        }
    }
    (void)input_gradient;
    return plan;
}

/// The backward pass on Winograd F(2x2, 3x3) (winograd.hpp): the weight gradient in its
/// transform domain and the input gradient as the convolution of dy with the flipped weight.
inline void backward_winograd(const ConvGeometry& g, const Tensor<float, cpu>& x, const Tensor<float, cpu>& weight,
                              const Tensor<float, cpu>& dy, Tensor<float, cpu>* dx, Tensor<float, cpu>& dweight,
                              Tensor<float, cpu>* dbias, Tensor<float, cpu>& workspace) {
    const index_t images = x.shape().n;
    const ConvGeometry input_geometry = input_gradient_geometry(g);
    const index_t w_size = g.out_channels * g.patch();
    const index_t scratch = std::max(cpu_winograd::weight_gradient_workspace(g, images),
                                     dx ? cpu_winograd::forward_workspace(input_geometry, images) : index_t(0));
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = w_size + scratch});
    if (dbias)
        for (index_t n = 0; n < images; ++n)
            Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, 1>>(dbias->data(), g.out_channels) +=
                view(dy.data() + n * g.out_channels * g.out_plane(), g.out_channels, g.out_plane()).rowwise().sum();
    cpu_winograd::weight_gradient(g, x.data(), dy.data(), dweight.data(), images, workspace.data() + w_size);
    if (dx) {
        flip_weight(g, weight.data(), workspace.data());
        cpu_winograd::convolve(input_geometry, workspace.data(), dy.data(), nullptr, dx->data(), images,
                               workspace.data() + w_size);
    }
}

/// The backward pass of a small-plane convolution batch-wide (conv_batched.hpp), where both its
/// products are worth Chroma's kernels: then it returns true, else false having done nothing.
/// dx, when asked for, must be a convolution of dy (input_gradient_is_convolution).
inline bool backward_batch_wide(const ConvGeometry& g, const Tensor<float, cpu>& x, const Tensor<float, cpu>& weight,
                                const Tensor<float, cpu>& dy, Tensor<float, cpu>* dx, Tensor<float, cpu>& dweight,
                                Tensor<float, cpu>* dbias, Tensor<float, cpu>& workspace) {
    const index_t images = x.shape().n;
    const auto weight_kernel = cpu_gemm::kernel_for_product(g.out_channels, g.patch(), images * g.out_plane());
    const ConvGeometry input_geometry = dx ? input_gradient_geometry(g) : ConvGeometry{};
    const auto input_kernel =
        dx ? cpu_gemm::kernel_for_product(g.in_channels, images * g.in_plane(), input_geometry.patch())
           : cpu_gemm::micro_kernel{};
    if (!weight_kernel.tile || (dx && !input_kernel.tile)) return false;
    if (dbias)
        for (index_t n = 0; n < images; ++n)
            Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, 1>>(dbias->data(), g.out_channels) +=
                view(dy.data() + n * g.out_channels * g.out_plane(), g.out_channels, g.out_plane()).rowwise().sum();
    weight_gradient_batch_wide(weight_kernel, g, x.data(), dy.data(), dweight.data(), images);
    if (dx) {
        const index_t w_size = g.out_channels * g.patch();
        workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = w_size + g.in_channels * images * g.in_plane()});
        flip_weight(g, weight.data(), workspace.data());
        convolve_batch_wide(input_kernel, input_geometry, workspace.data(), dy.data(), nullptr, dx->data(), images,
                            workspace.data() + w_size);
    }
    return true;
}

}  // namespace cpu_detail

/// Accumulates dweight (and dbias) and, when dx is not null, writes dx = conv^T(dy). On Chroma's
/// kernels no patch matrix is stored: the weight gradient dY * patches^T gathers the patches
/// while packing, and a stride-1 input gradient is the convolution of dy with the flipped weight.
template <class T>
void conv2d_backward(const ConvGeometry& g, const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                     const Tensor<T, cpu>& dy, Tensor<T, cpu>* dx, Tensor<T, cpu>& dweight, Tensor<T, cpu>* dbias,
                     Tensor<T, cpu>& workspace) {
    using namespace cpu_detail;
    const index_t images = x.shape().n;
    if constexpr (std::is_same_v<T, float>) {
        // The input gradient's convolution (padding 2 - p) is Winograd's too wherever p <= 2.
        if (cpu_winograd::chosen(g) && (!dx || input_gradient_is_convolution(g))) {
            backward_winograd(g, x, weight, dy, dx, dweight, dbias, workspace);
            return;
        }
        if (batch_wide(g, images) && !cpu_direct::applies(g) && (!dx || input_gradient_is_convolution(g)) &&
            backward_batch_wide(g, x, weight, dy, dx, dweight, dbias, workspace))
            return;
    }
    const int slots = image_slots(images, g);
    const implicit_backward plan = plan_implicit_backward<T>(g, dx != nullptr);
    const bool store_patches = !g.is_pointwise() && !plan.weight.tile && !plan.direct_weight;
    const bool store_patch_gradients = dx && !g.is_pointwise() && !plan.input.tile && !plan.direct_input;
    const index_t col_size = g.patch() * g.out_plane();
    const index_t w_size = g.out_channels * g.patch();
    // Shared: the flipped weight (and its packing for the direct kernel). Per slot: patches and
    // patch gradients where stored, a weight-gradient partial, a bias-gradient partial, and the
    // padded x and dy of the direct kernels.
    const index_t packed_flipped_size =
        plan.direct_input ? cpu_direct::packed_weight_size(plan.input_geometry) : 0;
    const index_t flipped_size = plan.input.tile || plan.direct_input ? w_size + packed_flipped_size : 0;
    const index_t patches_size = store_patches ? col_size : 0, patch_gradients_size = store_patch_gradients ? col_size : 0;
    const index_t padded_x_size = plan.direct_weight ? direct_weight_gradient_scratch(g) : 0;
    const index_t padded_size = padded_x_size + (plan.direct_input ? cpu_direct::padded_size(plan.input_geometry) : 0);
    const index_t slot_size = patches_size + patch_gradients_size + w_size + g.out_channels + padded_size;
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = flipped_size + slots * slot_size});
    // Only the gradient partials need zeros; the rest is written before it is read.
    for (int slot = 0; slot < slots; ++slot)
        std::fill_n(workspace.data() + flipped_size + slot * slot_size + patches_size + patch_gradients_size,
                    w_size + g.out_channels, T(0));
    if (plan.input.tile || plan.direct_input) flip_weight(g, weight.data(), workspace.data());
    if constexpr (std::is_same_v<T, float>)
        if (plan.direct_input) cpu_direct::pack_weight(plan.input_geometry, workspace.data(), workspace.data() + w_size);
    const int gemm_threads = slots > 1 ? 1 : cpu::threads();

    for_each_image(images, slots, [&](index_t n, int slot) {
        T* scratch = workspace.data() + flipped_size + slot * slot_size;
        T* col = scratch;
        T* dcol = col + patches_size;
        T* dw_part = dcol + patch_gradients_size;
        T* db_part = dw_part + w_size;
        const T* image = x.data() + n * g.in_channels * g.in_plane();
        const T* dout = dy.data() + n * g.out_channels * g.out_plane();
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(db_part, g.out_channels) +=
            view(dout, g.out_channels, g.out_plane()).rowwise().sum();
        T* dimage = dx ? dx->data() + n * g.in_channels * g.in_plane() : nullptr;
        if constexpr (std::is_same_v<T, float>) {
            if (plan.weight.tile)
                cpu_gemm::gemm(plan.weight, g.out_channels, g.patch(), g.out_plane(),
                               cpu_gemm::pack_rows_of{dout, g.out_plane()}, cpu_gemm::pack_patches_transposed_of{&g, image},
                               dw_part, g.patch(), true, gemm_threads);
            if (plan.direct_weight) direct_weight_gradient(g, dout, image, dw_part, db_part + g.out_channels, gemm_threads);
            if (dimage && plan.direct_input)
                direct_convolve_image(plan.input_geometry, workspace.data() + w_size, dout, nullptr, dimage,
                                      db_part + g.out_channels + padded_x_size, gemm_threads);
            if (dimage && plan.input.tile)
                cpu_gemm::gemm(plan.input, g.in_channels, g.in_plane(), plan.input_geometry.patch(),
                               cpu_gemm::pack_rows_of{workspace.data(), plan.input_geometry.patch()},
                               cpu_gemm::pack_patches_of{&plan.input_geometry, dout}, dimage, g.in_plane(), false,
                               gemm_threads);
        }
        if (!plan.weight.tile && !plan.direct_weight) {
            const T* patches = image;
            if (store_patches) {
                im2col(g, image, col);
                patches = col;
            }
            multiply(as_is(dout, g.out_channels, g.out_plane()), transposed(patches, g.patch(), g.out_plane()), dw_part,
                     true, gemm_threads);
        }
        if (!dimage || plan.input.tile || plan.direct_input) return;
        const auto Wt = transposed(weight.data(), g.out_channels, g.patch());
        if (g.is_pointwise()) {
            multiply(Wt, as_is(dout, g.out_channels, g.out_plane()), dimage, false, gemm_threads);
        } else {
            multiply(Wt, as_is(dout, g.out_channels, g.out_plane()), dcol, false, gemm_threads);
            std::fill_n(dimage, g.in_channels * g.in_plane(), T(0));
            col2im(g, dcol, dimage);
        }
    });
    for (int slot = 0; slot < slots; ++slot) {
        const T* dw_part = workspace.data() + flipped_size + slot * slot_size + patches_size + patch_gradients_size;
        for (index_t i = 0; i < w_size; ++i) dweight.data()[i] += dw_part[i];
        if (dbias)
            for (index_t i = 0; i < g.out_channels; ++i) dbias->data()[i] += dw_part[w_size + i];
    }
}

// A transposed convolution is the data-gradient of the convolution described by `g`:
// its input has g.out_channels channels of g.out_h x g.out_w and its output g.in_channels
// channels of g.in_h x g.in_w. The weight is PyTorch's [in, out, k, k] = [g.out_channels, patch].

/// y = conv_transpose(x, weight) + bias; y must already have the output shape.
template <class T>
void conv_transpose2d_forward(const ConvGeometry& g, const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                              const Tensor<T, cpu>* bias, Tensor<T, cpu>& y, Tensor<T, cpu>& workspace) {
    using namespace cpu_detail;
    const index_t images = x.shape().n;
    const int slots = image_slots(images, g);
    const index_t col_size = g.patch() * g.out_plane();
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = slots * col_size});
    const int gemm_threads = slots > 1 ? 1 : cpu::threads();
    const auto Wt = transposed(weight.data(), g.out_channels, g.patch());

    for_each_image(images, slots, [&](index_t n, int slot) {
        const auto X = as_is(x.data() + n * g.out_channels * g.out_plane(), g.out_channels, g.out_plane());
        T* image = y.data() + n * g.in_channels * g.in_plane();
        if (g.is_pointwise()) {
            multiply(Wt, X, image, false, gemm_threads);
        } else {
            T* col = workspace.data() + slot * col_size;
            multiply(Wt, X, col, false, gemm_threads);
            std::fill_n(image, g.in_channels * g.in_plane(), T(0));
            col2im(g, col, image);
        }
        if (bias) view(image, g.in_channels, g.in_plane()).colwise() += column<T>(bias->data(), g.in_channels);
    });
}

/// Accumulates dweight (and dbias) and, when dx is not null, writes dx. Both products read the
/// patches of dy; on Chroma's kernels they are gathered while packing, not stored.
template <class T>
void conv_transpose2d_backward(const ConvGeometry& g, const Tensor<T, cpu>& x, const Tensor<T, cpu>& weight,
                               const Tensor<T, cpu>& dy, Tensor<T, cpu>* dx, Tensor<T, cpu>& dweight,
                               Tensor<T, cpu>* dbias, Tensor<T, cpu>& workspace) {
    using namespace cpu_detail;
    const index_t images = x.shape().n;
    const int slots = image_slots(images, g);
    cpu_gemm::micro_kernel weight_kernel{}, input_kernel{};
    if constexpr (std::is_same_v<T, float>) {
        if (!g.is_pointwise()) {
            weight_kernel = cpu_gemm::kernel_for_product(g.out_channels, g.patch(), g.out_plane());
            if (dx) input_kernel = cpu_gemm::kernel_for_product(g.out_channels, g.out_plane(), g.patch());
        }
    }
    const bool store_patches = !g.is_pointwise() && (!weight_kernel.tile || (dx && !input_kernel.tile));
    const index_t col_size = store_patches ? g.patch() * g.out_plane() : 0;
    const index_t w_size = g.out_channels * g.patch();
    const index_t slot_size = col_size + w_size + g.in_channels;
    workspace.resize(Shape{.n = 1, .c = 1, .h = 1, .w = slots * slot_size});
    std::fill_n(workspace.data(), workspace.size(), T(0));
    const int gemm_threads = slots > 1 ? 1 : cpu::threads();

    for_each_image(images, slots, [&](index_t n, int slot) {
        T* scratch = workspace.data() + slot * slot_size;
        T* dw_part = scratch + col_size;
        T* db_part = dw_part + w_size;
        const T* dimage = dy.data() + n * g.in_channels * g.in_plane();
        const T* input = x.data() + n * g.out_channels * g.out_plane();
        T* dinput = dx ? dx->data() + n * g.out_channels * g.out_plane() : nullptr;
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(db_part, g.in_channels) +=
            view(dimage, g.in_channels, g.in_plane()).rowwise().sum();
        const T* patches = dimage;
        if (store_patches) {
            im2col(g, dimage, scratch);
            patches = scratch;
        }
        if constexpr (std::is_same_v<T, float>) {
            if (weight_kernel.tile)
                cpu_gemm::gemm(weight_kernel, g.out_channels, g.patch(), g.out_plane(),
                               cpu_gemm::pack_rows_of{input, g.out_plane()}, cpu_gemm::pack_patches_transposed_of{&g, dimage},
                               dw_part, g.patch(), true, gemm_threads);
            if (dinput && input_kernel.tile)
                cpu_gemm::gemm(input_kernel, g.out_channels, g.out_plane(), g.patch(),
                               cpu_gemm::pack_rows_of{weight.data(), g.patch()}, cpu_gemm::pack_patches_of{&g, dimage},
                               dinput, g.out_plane(), false, gemm_threads);
        }
        if (!weight_kernel.tile)
            multiply(as_is(input, g.out_channels, g.out_plane()), transposed(patches, g.patch(), g.out_plane()), dw_part,
                     true, gemm_threads);
        if (dinput && !input_kernel.tile)
            multiply(as_is(weight.data(), g.out_channels, g.patch()), as_is(patches, g.patch(), g.out_plane()), dinput,
                     false, gemm_threads);
    });
    for (int slot = 0; slot < slots; ++slot) {
        const T* dw_part = workspace.data() + slot * slot_size + col_size;
        for (index_t i = 0; i < w_size; ++i) dweight.data()[i] += dw_part[i];
        if (dbias)
            for (index_t i = 0; i < g.in_channels; ++i) dbias->data()[i] += dw_part[w_size + i];
    }
}

}  // namespace chroma::kernels
