#pragma once
// Seed 003's training objective: the rebalanced cross-entropy and the distribution loss together,
//     L_obj = alpha * L_dt + (1 - alpha) * L_cl,   alpha = 0.4 by default.
// The seed prints Eq. 6 as "alpha L_dt * (1 - alpha) L_cl"; Chroma reads the '*' as a '+': with a
// product, alpha would only scale the whole objective by alpha (1 - alpha) instead of weighing
// the two terms, and the text describes the distribution loss as a penalty added to L_cl.
// See cross_entropy.hpp and distribution.hpp for the two terms.
#include <string>
#include <utility>
#include <vector>

#include "../backend/cpu/elementwise.hpp"
#include "cross_entropy.hpp"
#include "distribution.hpp"
#include "pointwise.hpp"

namespace chroma::loss {

/// The value of each term, for logging.
struct ClassificationTerms {
    double cross_entropy = 0.0;  // L_cl
    double distribution = 0.0;   // L_dt
    double total = 0.0;          // alpha * L_dt + (1 - alpha) * L_cl
};

class ClassificationObjective {
public:
    /// `class_weights`: Zhang's rebalancing weights (empty for none); `prior`: the bin prior.
    ClassificationObjective(std::vector<double> class_weights, std::vector<double> prior, double alpha = 0.4)
        : cross_entropy_(std::move(class_weights)), distribution_(std::move(prior)), alpha_(alpha) {
        if (!(alpha >= 0.0 && alpha <= 1.0))
            throw usage_error("ClassificationObjective needs alpha in [0, 1], got " + std::to_string(alpha));
    }
    static std::string describe() { return "ClassificationObjective"; }
    double alpha() const noexcept { return alpha_; }
    const RebalancedCrossEntropy& cross_entropy() const noexcept { return cross_entropy_; }
    const DistributionLoss& distribution() const noexcept { return distribution_; }

    /// Both terms and the total, for logits and a soft target of the same [N, Q, H, W] shape.
    template <class T, Backend B>
    ClassificationTerms breakdown(const Tensor<T, B>& logits, const Tensor<T, B>& target) const {
        ClassificationTerms t;
        t.cross_entropy = cross_entropy_.value(logits, target);
        t.distribution = distribution_.value(logits);
        t.total = combine(t.distribution, t.cross_entropy);
        return t;
    }
    template <class T, Backend B>
    double value(const Tensor<T, B>& logits, const Tensor<T, B>& target) const {
        return breakdown(logits, target).total;
    }
    /// The objective, and its gradient w.r.t. the logits written into `grad`.
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& logits, const Tensor<T, B>& target, Tensor<T, B>& grad) const {
        const double cross_entropy = cross_entropy_.forward_backward(logits, target, grad);
        kernels::unary_forward(grad, grad, terms::times{1.0 - alpha_});
        const double distribution = distribution_.forward_backward_add(logits, grad, alpha_);
        return combine(distribution, cross_entropy);
    }

private:
    double combine(double distribution, double cross_entropy) const {
        return alpha_ * distribution + (1.0 - alpha_) * cross_entropy;
    }

    RebalancedCrossEntropy cross_entropy_;
    DistributionLoss distribution_;
    double alpha_;
};

}  // namespace chroma::loss
