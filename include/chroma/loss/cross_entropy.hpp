#pragma once
// Zhang et al.'s multinomial cross-entropy with class rebalancing (seeds 001 and 003), from
// logits: the softmax is fused in, so large logits neither overflow nor lose precision.
//
// For logits z and a soft target Z, both [N, Q, H, W] (Q colour bins as channels),
//     L = 1 / (N H W) * sum over pixels n, h, w of  v(Z_nhw) * ( -sum_q Z_nhwq log softmax(z_nhw)_q )
// with the rebalancing weight v(Z_nhw) = w[argmax_q Z_nhwq] (seed 003, Eq. 2 and 3; ties go to
// the lower bin) for a vector w of Q class weights, or v = 1 without weights (seed 001's L_cl).
// The seeds write the sum over pixels; Chroma divides it by the pixel count N*H*W (a mean over
// pixels), so the learning rate does not depend on image or batch size. The weights are used as
// given, not renormalised per batch (so this is not PyTorch's weighted mean, which divides by the
// sum of the weights): Zhang's w already has expectation 1 under the colour prior.
// The gradient is v * (softmax(z) * sum_q Z_q - Z) / (N H W), i.e. v * (softmax(z) - Z) / (N H W)
// for targets that sum to 1 per pixel.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "loss_support.hpp"
#include "softmax_kernels.hpp"

namespace chroma::loss {

class RebalancedCrossEntropy {
public:
    /// Plain multinomial cross-entropy (every pixel weighs 1).
    RebalancedCrossEntropy() = default;
    /// Rebalanced by one non-negative weight per class (bin), e.g. Zhang's w from the prior.
    explicit RebalancedCrossEntropy(std::vector<double> class_weights) : weights_(std::move(class_weights)) {
        for (const double w : weights_)
            if (!(w >= 0.0) || !std::isfinite(w))
                throw usage_error("RebalancedCrossEntropy needs finite, non-negative class weights, got " +
                                  std::to_string(w));
    }
    static std::string describe() { return "RebalancedCrossEntropy"; }
    const std::vector<double>& class_weights() const noexcept { return weights_; }

    /// The loss for logits and a soft target of the same [N, Q, H, W] shape.
    template <class T, Backend B>
    double value(const Tensor<T, B>& logits, const Tensor<T, B>& target) const {
        return compute(logits, target, static_cast<Tensor<T, B>*>(nullptr));
    }
    /// The loss, and its gradient w.r.t. the logits written into `grad`.
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& logits, const Tensor<T, B>& target, Tensor<T, B>& grad) const {
        return compute(logits, target, &grad);
    }

private:
    template <class T, Backend B>
    double compute(const Tensor<T, B>& logits, const Tensor<T, B>& target, Tensor<T, B>* grad) const {
        detail::require_same_shape(describe(), "logits", logits.shape(), "target", target.shape());
        detail::require_nonempty(describe(), "logits", logits.shape());
        if (!weights_.empty())
            detail::require_one_per_class(describe(), "class weights", weights_.size(), logits.shape());
        if (grad) detail::prepare_gradient(describe(), *grad, logits, &target);
        const double pixels = static_cast<double>(logits.shape().n * logits.shape().plane());
        return kernels::softmax_cross_entropy(logits, target, weights_.empty() ? nullptr : weights_.data(),
                                              1.0 / pixels, grad);
    }

    std::vector<double> weights_;
};

}  // namespace chroma::loss
