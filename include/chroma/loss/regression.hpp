#pragma once
// Regression losses between a predicted and a target tensor of the same shape (usually the ab
// channels): seed 000's half sum of squares, and PyTorch's MSELoss, L1Loss and SmoothL1Loss.
//
// Every loss offers
//     double value(prediction, target) const;
//     double forward_backward(prediction, target, grad) const;
// forward_backward returns the same value and writes d(loss)/d(prediction) into `grad`, which is
// resized to the prediction's shape (its storage is reused when large enough) and must not share
// storage with the inputs. Mismatched shapes throw shape_error naming both.
#include <string>

#include "../core/tensor.hpp"
#include "loss_support.hpp"
#include "pointwise.hpp"

namespace chroma::loss {

/// How a per-image loss is combined over the batch.
enum class batch_reduction {
    mean,  // the average over the batch's images: independent of the batch size
    sum,   // the sum over the batch's images
};

namespace detail {

/// What a summed loss is divided by.
enum class divided_by { elements, images, one };

/// scale * the sum of term(prediction - target), divided by the element or the image count.
template <class T, Backend B, class Term>
double pointwise_regression(const std::string& loss, const Tensor<T, B>& prediction, const Tensor<T, B>& target,
                            Term term, double scale, divided_by divisor, Tensor<T, B>* grad) {
    require_same_shape(loss, "prediction", prediction.shape(), "target", target.shape());
    require_nonempty(loss, "prediction", prediction.shape());
    if (grad) prepare_gradient(loss, *grad, prediction, &target);
    if (divisor == divided_by::elements) scale /= static_cast<double>(prediction.size());
    if (divisor == divided_by::images) scale /= static_cast<double>(prediction.shape().n);
    return kernels::pointwise_loss(prediction, target, term, scale, grad);
}

/// The mean over every element of Derived::term(prediction - target), PyTorch's 'mean' reduction.
template <class Derived>
struct elementwise_mean_loss {
    template <class T, Backend B>
    double value(const Tensor<T, B>& prediction, const Tensor<T, B>& target) const {
        return pointwise_regression<T, B>(Derived::describe(), prediction, target, self().term(), 1.0,
                                          divided_by::elements, nullptr);
    }
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& prediction, const Tensor<T, B>& target, Tensor<T, B>& grad) const {
        return pointwise_regression<T, B>(Derived::describe(), prediction, target, self().term(), 1.0,
                                          divided_by::elements, &grad);
    }

private:
    const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail

/// Seed 000's L2 loss. For one image it is 1/2 * the sum over pixels (h, w) of the squared
/// Euclidean distance between the predicted and the true ab vector, i.e.
///     1/2 * sum over c, h, w of (prediction - target)^2.
/// Over a batch of N images the per-image values are averaged (batch_reduction::mean, the
/// default, so that the learning rate does not depend on the batch size) or summed
/// (batch_reduction::sum: 1/2 * the sum over n, c, h, w). The gradient is (prediction - target),
/// divided by N for the mean.
class HalfSumSquaredError {
public:
    explicit HalfSumSquaredError(batch_reduction over_batch = batch_reduction::mean) : over_batch_(over_batch) {}
    static std::string describe() { return "HalfSumSquaredError"; }
    batch_reduction over_batch() const noexcept { return over_batch_; }

    template <class T, Backend B>
    double value(const Tensor<T, B>& prediction, const Tensor<T, B>& target) const {
        return detail::pointwise_regression<T, B>(describe(), prediction, target, terms::squared{}, 0.5, divisor(),
                                                  nullptr);
    }
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& prediction, const Tensor<T, B>& target, Tensor<T, B>& grad) const {
        return detail::pointwise_regression<T, B>(describe(), prediction, target, terms::squared{}, 0.5, divisor(),
                                                  &grad);
    }

private:
    detail::divided_by divisor() const {
        return over_batch_ == batch_reduction::mean ? detail::divided_by::images : detail::divided_by::one;
    }
    batch_reduction over_batch_;
};

/// PyTorch's MSELoss (reduction 'mean'): the mean over every element of (prediction - target)^2.
struct MSELoss : detail::elementwise_mean_loss<MSELoss> {
    static std::string describe() { return "MSELoss"; }
    terms::squared term() const { return {}; }
};

/// PyTorch's L1Loss (reduction 'mean'): the mean over every element of |prediction - target|.
/// The gradient where the two are equal is 0, as in PyTorch.
struct L1Loss : detail::elementwise_mean_loss<L1Loss> {
    static std::string describe() { return "L1Loss"; }
    terms::absolute term() const { return {}; }
};

/// PyTorch's SmoothL1Loss (reduction 'mean'): per element 0.5 d^2 / beta where |d| < beta and
/// |d| - 0.5 beta elsewhere, with d = prediction - target, averaged. beta = 0 gives L1Loss,
/// gradient included (0 where d = 0; PyTorch 1.13's SmoothL1Loss backward says -1 there).
class SmoothL1Loss : public detail::elementwise_mean_loss<SmoothL1Loss> {
public:
    explicit SmoothL1Loss(double beta = 1.0) : beta_(beta) {
        if (!(beta >= 0.0)) throw usage_error("SmoothL1Loss needs beta >= 0, got " + std::to_string(beta));
    }
    static std::string describe() { return "SmoothL1Loss"; }
    double beta() const noexcept { return beta_; }
    terms::smooth_l1 term() const { return {beta_}; }

private:
    double beta_;
};

}  // namespace chroma::loss
