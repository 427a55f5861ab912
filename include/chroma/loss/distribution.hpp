#pragma once
// Seed 003's distribution loss: how far the colours a batch predicts are, as a distribution over
// the Q bins, from the dataset's prior.
//
// For logits z of shape [N, Q, H, W] and a prior p~ of Q values,
//     B_q  = 1 / (N H W) * sum over pixels n, h, w of softmax(z_nhw)_q
//     L_dt = || B - p~ ||_2            (the Euclidean norm, not squared; seed 003, Eq. 5)
// The seed normalises the per-bin sums by their norm (Eq. 4); Chroma reads that norm as the sum
// over bins, which is N*H*W because each pixel's softmax sums to 1, so B is the batch's mean
// predicted distribution and compares like with like against the prior.
// The gradient w.r.t. z_nhwk is p_k (g_k - sum_q g_q p_q) / (N H W) with p = softmax(z_nhw) and
// g = (B - p~) / L_dt; where B equals the prior exactly the norm has no gradient and 0 is used.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "loss_support.hpp"
#include "softmax_kernels.hpp"

namespace chroma::loss {

class DistributionLoss {
public:
    /// `prior`: the dataset's probability of each bin, one value per logit channel.
    explicit DistributionLoss(std::vector<double> prior) : prior_(std::move(prior)) {
        if (prior_.empty()) throw usage_error("DistributionLoss needs a prior with one value per class, got none");
        for (const double p : prior_)
            if (!std::isfinite(p)) throw usage_error("DistributionLoss needs a finite prior, got " + std::to_string(p));
    }
    static std::string describe() { return "DistributionLoss"; }
    const std::vector<double>& prior() const noexcept { return prior_; }

    template <class T, Backend B>
    double value(const Tensor<T, B>& logits) const {
        return distance(difference_from_prior(logits));
    }
    /// The loss, and its gradient w.r.t. the logits written into `grad`.
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& logits, Tensor<T, B>& grad) const {
        detail::prepare_gradient(describe(), grad, logits);
        return backward_into(logits, grad, 1.0, false);
    }
    /// The loss, with `weight` times its gradient added into `grad` (which must already have the
    /// logits' shape): how a weighted sum of losses collects its gradient without a scratch buffer.
    template <class T, Backend B>
    double forward_backward_add(const Tensor<T, B>& logits, Tensor<T, B>& grad, double weight) const {
        detail::require_same_shape(describe(), "logits", logits.shape(), "gradient", grad.shape());
        detail::require_separate_output(describe(), grad, logits);
        return backward_into(logits, grad, weight, true);
    }
    /// The batch's mean predicted distribution B (Q values summing to 1).
    template <class T, Backend B>
    std::vector<double> predicted_distribution(const Tensor<T, B>& logits) const {
        detail::require_nonempty(describe(), "logits", logits.shape());
        return kernels::mean_softmax(logits);
    }

private:
    // B - prior, after checking the shape of the logits.
    template <class T, Backend B>
    std::vector<double> difference_from_prior(const Tensor<T, B>& logits) const {
        detail::require_nonempty(describe(), "logits", logits.shape());
        detail::require_one_per_class(describe(), "prior values", prior_.size(), logits.shape());
        std::vector<double> difference = kernels::mean_softmax(logits);
        for (std::size_t q = 0; q < difference.size(); ++q) difference[q] -= prior_[q];
        return difference;
    }
    template <class T, Backend B>
    double backward_into(const Tensor<T, B>& logits, Tensor<T, B>& grad, double weight, bool accumulate) const {
        std::vector<double> direction = difference_from_prior(logits);
        const double length = distance(direction);
        for (double& d : direction) d = length > 0.0 ? d / length : 0.0;
        kernels::mean_softmax_backward(logits, direction, weight, grad, accumulate);
        return length;
    }
    static double distance(const std::vector<double>& difference) {
        double sum = 0.0;
        for (const double d : difference) sum += d * d;
        return std::sqrt(sum);
    }

    std::vector<double> prior_;
};

}  // namespace chroma::loss
