#pragma once
// The adversarial objectives of seed 004, as losses of the discriminator's outputs.
//
// A (conditional) discriminator D scores real pairs (x, y) and generated pairs (x, G(x)); these
// objectives see only those scores, so they work with any discriminator: one score per image
// ([N, 1, 1, 1]) or one per patch ([N, 1, h, w]). Each expectation of the seed is the mean over
// every element of a score tensor. Every objective offers
//     double discriminator_value(real_scores, fake_scores) const;
//     double discriminator_forward_backward(real_scores, fake_scores, grad_real, grad_fake) const;
//     double generator_value(fake_scores) const;
//     double generator_forward_backward(fake_scores, grad_fake) const;
// All are losses to minimise; the gradients are w.r.t. the scores, to be passed back through D
// (and, for the generator, on into G). Real and fake scores must have the same shape.
//
//   MinimaxGan        D: -E log s(D(x,y)) - E log(1 - s(D(x,G(x))))   (BCE with logits, labels 1 / 0)
//                     G:  E log(1 - s(D(x,G(x))))                       (the minimax game as written)
//   NonSaturatingGan  D as MinimaxGan;  G: -E log s(D(x,G(x)))           (Goodfellow's practical form)
//   LeastSquaresGan   D: 1/2 E (D(x,y) - b)^2 + 1/2 E (D(x,G(x)) - a)^2;  G: 1/2 E (D(x,G(x)) - c)^2
//                     with a = 0, b = 1, c = 1 by default
//   WassersteinGan    critic: E f(x,G(x)) - E f(x,y)  (the negated critic objective);  G: -E f(x,G(x))
//                     the critic's Lipschitz constraint is clip_weights() (clip_weights.hpp)
//   EnergyBasedGan    D: E D(x,y) + E max(0, m - D(x,G(x)));  G: E D(x,G(x)), with D an energy
//                     such as a reconstruction error (reconstruction_energy.hpp) and margin m
// s is the logistic sigmoid; DCGAN's discriminator outputs logits, and the losses take the sigmoid
// inside, in a form that cannot overflow.
#include <string>

#include "../core/tensor.hpp"
#include "loss_support.hpp"
#include "pointwise.hpp"

namespace chroma::loss {

namespace terms {
/// -term(x): turns a loss term into its negation (the minimax generator maximises D's loss).
template <class Term>
struct negated {
    Term term;
    CHROMA_HOST_DEVICE double value(double x) const { return -term.value(x); }
    CHROMA_HOST_DEVICE double derivative(double x) const { return -term.derivative(x); }
};
}  // namespace terms

namespace detail {

/// The shared body of every adversarial objective: Derived names its three per-score terms.
template <class Derived>
class adversarial_objective {
public:
    template <class T, Backend B>
    double discriminator_value(const Tensor<T, B>& real_scores, const Tensor<T, B>& fake_scores) const {
        return discriminator<T, B>(real_scores, fake_scores, nullptr, nullptr);
    }
    template <class T, Backend B>
    double discriminator_forward_backward(const Tensor<T, B>& real_scores, const Tensor<T, B>& fake_scores,
                                          Tensor<T, B>& grad_real, Tensor<T, B>& grad_fake) const {
        if (&grad_real == &grad_fake || grad_real.shares_storage_with(grad_fake))
            throw usage_error(Derived::describe() + ": grad_real and grad_fake must be separate tensors");
        prepare_gradient(Derived::describe(), grad_real, real_scores, &fake_scores);
        prepare_gradient(Derived::describe(), grad_fake, fake_scores, &real_scores);
        return discriminator(real_scores, fake_scores, &grad_real, &grad_fake);
    }
    template <class T, Backend B>
    double generator_value(const Tensor<T, B>& fake_scores) const {
        return generator<T, B>(fake_scores, nullptr);
    }
    template <class T, Backend B>
    double generator_forward_backward(const Tensor<T, B>& fake_scores, Tensor<T, B>& grad_fake) const {
        require_nonempty(Derived::describe(), "fake score tensor", fake_scores.shape());
        prepare_gradient(Derived::describe(), grad_fake, fake_scores);
        return generator(fake_scores, &grad_fake);
    }

private:
    const Derived& self() const { return static_cast<const Derived&>(*this); }

    template <class T, Backend B>
    double discriminator(const Tensor<T, B>& real, const Tensor<T, B>& fake, Tensor<T, B>* grad_real,
                         Tensor<T, B>* grad_fake) const {
        require_same_shape(Derived::describe(), "real score tensor", real.shape(), "fake score tensor", fake.shape());
        require_nonempty(Derived::describe(), "real score tensor", real.shape());
        const double mean = 1.0 / static_cast<double>(real.size());
        return kernels::pointwise_loss(real, self().real_term(), mean, grad_real) +
               kernels::pointwise_loss(fake, self().fake_term(), mean, grad_fake);
    }
    template <class T, Backend B>
    double generator(const Tensor<T, B>& fake, Tensor<T, B>* grad_fake) const {
        require_nonempty(Derived::describe(), "fake score tensor", fake.shape());
        return kernels::pointwise_loss(fake, self().generator_term(), 1.0 / static_cast<double>(fake.size()),
                                       grad_fake);
    }
};

}  // namespace detail

/// DCGAN's game as the seed writes it: the generator minimises E log(1 - D(G)). Its gradient
/// vanishes where D confidently rejects the fakes; NonSaturatingGan is the usual remedy.
struct MinimaxGan : detail::adversarial_objective<MinimaxGan> {
    static std::string describe() { return "MinimaxGan"; }
    terms::bce_with_logits real_term() const { return {1.0}; }
    terms::bce_with_logits fake_term() const { return {0.0}; }
    terms::negated<terms::bce_with_logits> generator_term() const { return {{0.0}}; }
};

/// DCGAN with the non-saturating generator loss -E log D(G) (BCE of the fakes against label 1).
struct NonSaturatingGan : detail::adversarial_objective<NonSaturatingGan> {
    static std::string describe() { return "NonSaturatingGan"; }
    terms::bce_with_logits real_term() const { return {1.0}; }
    terms::bce_with_logits fake_term() const { return {0.0}; }
    terms::bce_with_logits generator_term() const { return {1.0}; }
};

/// LSGAN with targets a (fake, for D), b (real, for D) and c (what G wants D to say).
class LeastSquaresGan : public detail::adversarial_objective<LeastSquaresGan> {
public:
    explicit LeastSquaresGan(double a = 0.0, double b = 1.0, double c = 1.0) : a_(a), b_(b), c_(c) {}
    static std::string describe() { return "LeastSquaresGan"; }
    terms::half_squared_to real_term() const { return {b_}; }
    terms::half_squared_to fake_term() const { return {a_}; }
    terms::half_squared_to generator_term() const { return {c_}; }

private:
    double a_, b_, c_;
};

/// WGAN: the critic minimises E f(fake) - E f(real); the generator minimises -E f(fake).
struct WassersteinGan : detail::adversarial_objective<WassersteinGan> {
    static std::string describe() { return "WassersteinGan"; }
    terms::linear real_term() const { return {-1.0}; }
    terms::linear fake_term() const { return {1.0}; }
    terms::linear generator_term() const { return {-1.0}; }
};

/// EBGAN with margin m: D's scores are energies (low on real data).
class EnergyBasedGan : public detail::adversarial_objective<EnergyBasedGan> {
public:
    explicit EnergyBasedGan(double margin) : margin_(margin) {
        if (!(margin > 0.0)) throw usage_error("EnergyBasedGan needs a positive margin, got " + std::to_string(margin));
    }
    static std::string describe() { return "EnergyBasedGan"; }
    double margin() const noexcept { return margin_; }
    terms::linear real_term() const { return {1.0}; }
    terms::hinge_below fake_term() const { return {margin_}; }
    terms::linear generator_term() const { return {1.0}; }

private:
    double margin_;
};

}  // namespace chroma::loss
