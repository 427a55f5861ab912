#pragma once
// The energy an EBGAN discriminator assigns to a sample (Zhao et al. 2017): how badly its
// auto-encoder reconstructs it. Zhao et al. write D(x) = ||Dec(Enc(x)) - x||; Chroma uses the
// per-image mean squared error, which does not grow with the image size:
//     energy[n] = mean over c, h, w of (reconstruction - input)^2
// The result has shape [N, 1, 1, 1] and feeds EnergyBasedGan (adversarial.hpp) as the scores.
// For a generated input the gradient flows into G both through the reconstruction and directly
// through the input, so the backward gives both.
#include <string>

#include "../backend/cpu/parallel.hpp"
#include "../core/tensor.hpp"
#include "loss_support.hpp"
#include "../backend/cpu/ordered_sum.hpp"

namespace chroma::kernels {

/// energy[n] = sum over image n of (reconstruction - input)^2 / (elements per image).
template <class T>
void reconstruction_energy(const Tensor<T, cpu>& input, const Tensor<T, cpu>& reconstruction, Tensor<T, cpu>& energy) {
    const index_t per_image = input.shape().per_sample();
    for (index_t n = 0; n < input.shape().n; ++n) {
        const T* x = input.data() + n * per_image;
        const T* r = reconstruction.data() + n * per_image;
        const double sum = cpu_detail::ordered_sum(per_image, 3, [&](index_t i) {
            const double d = static_cast<double>(r[i]) - static_cast<double>(x[i]);
            return d * d;
        });
        energy.data()[n] = static_cast<T>(sum / static_cast<double>(per_image));
    }
}

/// grad_reconstruction = grad_energy[n] * 2 (reconstruction - input) / (elements per image);
/// grad_input, when given, is its negation.
template <class T>
void reconstruction_energy_backward(const Tensor<T, cpu>& input, const Tensor<T, cpu>& reconstruction,
                                    const Tensor<T, cpu>& grad_energy, Tensor<T, cpu>& grad_reconstruction,
                                    Tensor<T, cpu>* grad_input) {
    const index_t per_image = input.shape().per_sample();
    const double scale = 2.0 / static_cast<double>(per_image);
    const T *x = input.data(), *r = reconstruction.data(), *g = grad_energy.data();
    T* gr = grad_reconstruction.data();
    T* gx = grad_input ? grad_input->data() : nullptr;
    cpu_detail::parallel_for(input.size(), 2, [&](index_t i) {
        const double d = static_cast<double>(g[i / per_image]) * scale *
                         (static_cast<double>(r[i]) - static_cast<double>(x[i]));
        gr[i] = static_cast<T>(d);
        if (gx) gx[i] = static_cast<T>(-d);
    });
}

}  // namespace chroma::kernels

namespace chroma::loss {

/// Writes the per-image reconstruction energy, shape [N, 1, 1, 1], into `energy`.
template <class T, Backend B>
void reconstruction_energy(const Tensor<T, B>& input, const Tensor<T, B>& reconstruction, Tensor<T, B>& energy) {
    const std::string what = "reconstruction_energy";
    detail::require_same_shape(what, "input", input.shape(), "reconstruction", reconstruction.shape());
    detail::require_nonempty(what, "input", input.shape());
    detail::require_separate_output(what, energy, input, &reconstruction);
    energy.resize(Shape{.n = input.shape().n, .c = 1, .h = 1, .w = 1});
    kernels::reconstruction_energy(input, reconstruction, energy);
}

/// Given d(loss)/d(energy) of shape [N, 1, 1, 1], writes d(loss)/d(reconstruction) and, when
/// `grad_input` is given, d(loss)/d(input).
template <class T, Backend B>
void reconstruction_energy_backward(const Tensor<T, B>& input, const Tensor<T, B>& reconstruction,
                                    const Tensor<T, B>& grad_energy, Tensor<T, B>& grad_reconstruction,
                                    Tensor<T, B>* grad_input = nullptr) {
    const std::string what = "reconstruction_energy_backward";
    detail::require_same_shape(what, "input", input.shape(), "reconstruction", reconstruction.shape());
    detail::require_same_shape(what, "energy gradient", grad_energy.shape(), "per-image energy",
                               Shape{.n = input.shape().n, .c = 1, .h = 1, .w = 1});
    detail::prepare_gradient(what, grad_reconstruction, reconstruction, &input);
    if (grad_input) detail::prepare_gradient(what, *grad_input, input, &reconstruction);
    kernels::reconstruction_energy_backward(input, reconstruction, grad_energy, grad_reconstruction, grad_input);
}

}  // namespace chroma::loss
