#pragma once
// Seed 004's generator objective: an adversarial term plus L1 and L2 terms to the ground truth,
//     G* = lambda_1 L_adv + lambda_2 L_L1 + lambda_3 L_L2
// where the seed's lambda_1 weighs the GAN term, lambda_2 the L1 term and lambda_3 the L2 term;
// in Chroma they are GeneratorWeights::adversarial, ::l1 and ::l2. L_adv is the adversarial
// objective's generator loss (the part of the seed's L_GAN(G, D) that G minimises). The seed writes
// L_L1 = E ||y - G(x)||_1 and L_L2 = E (y - G(x))^2; Chroma takes both as means over every
// element of the ab prediction (PyTorch's l1_loss and mse_loss), so the weights do not depend on
// the image size (the seed leaves the normalisation to the lambdas).
// The discriminator's objective is unchanged by the L1 and L2 terms.
#include <cmath>
#include <concepts>
#include <string>
#include <utility>

#include "../backend/cpu/elementwise.hpp"
#include "../core/tensor.hpp"
#include "adversarial.hpp"
#include "loss_support.hpp"
#include "pointwise.hpp"

namespace chroma::loss {

/// The seed's lambda_1 (adversarial), lambda_2 (L1) and lambda_3 (L2).
struct GeneratorWeights {
    double adversarial = 1.0;
    double l1 = 0.0;
    double l2 = 0.0;
};

/// The value of each (unweighted) term and the weighted total, for logging.
struct GeneratorTerms {
    double adversarial = 0.0;  // L_adv
    double l1 = 0.0;           // L_L1
    double l2 = 0.0;           // L_L2
    double total = 0.0;        // the weighted sum
};

/// What GeneratorObjective needs of an adversarial objective (see adversarial.hpp).
template <class A>
concept AdversarialObjective = requires(const A& objective, const Tensor<float>& scores, Tensor<float>& grad) {
    { objective.generator_value(scores) } -> std::convertible_to<double>;
    { objective.generator_forward_backward(scores, grad) } -> std::convertible_to<double>;
    { objective.discriminator_value(scores, scores) } -> std::convertible_to<double>;
    { A::describe() } -> std::convertible_to<std::string>;
};

template <AdversarialObjective Adversarial>
class GeneratorObjective {
public:
    GeneratorObjective(Adversarial adversarial, GeneratorWeights weights)
        : adversarial_(std::move(adversarial)), weights_(weights) {
        for (const double w : {weights.adversarial, weights.l1, weights.l2})
            if (!(w >= 0.0) || !std::isfinite(w))
                throw usage_error("GeneratorObjective needs finite, non-negative weights, got " + std::to_string(w));
    }
    static std::string describe() { return "GeneratorObjective<" + Adversarial::describe() + ">"; }
    const Adversarial& adversarial() const noexcept { return adversarial_; }
    const GeneratorWeights& weights() const noexcept { return weights_; }

    /// Each term for the discriminator's scores of the generated pairs and the generated and
    /// true ab channels.
    template <class T, Backend B>
    GeneratorTerms breakdown(const Tensor<T, B>& fake_scores, const Tensor<T, B>& prediction,
                             const Tensor<T, B>& target) const {
        check(prediction, target);
        GeneratorTerms t;
        t.adversarial = adversarial_.generator_value(fake_scores);
        const double mean = 1.0 / static_cast<double>(prediction.size());
        Tensor<T, B>* no_gradient = nullptr;
        t.l1 = kernels::pointwise_loss(prediction, target, terms::absolute{}, mean, no_gradient);
        t.l2 = kernels::pointwise_loss(prediction, target, terms::squared{}, mean, no_gradient);
        t.total = weights_.adversarial * t.adversarial + weights_.l1 * t.l1 + weights_.l2 * t.l2;
        return t;
    }
    template <class T, Backend B>
    double value(const Tensor<T, B>& fake_scores, const Tensor<T, B>& prediction, const Tensor<T, B>& target) const {
        return breakdown(fake_scores, prediction, target).total;
    }
    /// The objective; writes its gradient w.r.t. the scores (to pass back through D into G) into
    /// grad_scores and that of the L1 and L2 terms w.r.t. the prediction into grad_prediction.
    /// G's total gradient is grad_prediction plus what D's backward returns for its ab input.
    template <class T, Backend B>
    double forward_backward(const Tensor<T, B>& fake_scores, const Tensor<T, B>& prediction,
                            const Tensor<T, B>& target, Tensor<T, B>& grad_scores,
                            Tensor<T, B>& grad_prediction) const {
        check(prediction, target);
        if (&grad_scores == &grad_prediction || grad_scores.shares_storage_with(grad_prediction))
            throw usage_error(describe() + ": grad_scores and grad_prediction must be separate tensors");
        detail::prepare_gradient(describe(), grad_prediction, prediction, &target);
        const double adversarial = adversarial_.generator_forward_backward(fake_scores, grad_scores);
        kernels::unary_forward(grad_scores, grad_scores, terms::times{weights_.adversarial});
        const double mean = 1.0 / static_cast<double>(prediction.size());
        const terms::l1_plus_l2 reconstruction_term{weights_.l1, weights_.l2};
        const double reconstruction =
            kernels::pointwise_loss(prediction, target, reconstruction_term, mean, &grad_prediction);
        return weights_.adversarial * adversarial + reconstruction;
    }

private:
    template <class T, Backend B>
    void check(const Tensor<T, B>& prediction, const Tensor<T, B>& target) const {
        detail::require_same_shape(describe(), "prediction", prediction.shape(), "target", target.shape());
        detail::require_nonempty(describe(), "prediction", prediction.shape());
    }

    Adversarial adversarial_;
    GeneratorWeights weights_;
};

}  // namespace chroma::loss
