// Classification losses over Q colour bins: the rebalanced cross-entropy, seed 003's distribution
// loss and their weighted sum, against PyTorch, finite differences and hand-computed values.
#include <catch2/catch.hpp>

#include <chroma/loss/classification_objective.hpp>
#include <chroma/loss/cross_entropy.hpp>
#include <chroma/loss/distribution.hpp>
#include <chroma/testing/gradient_check.hpp>

#include <cmath>
#include <limits>

#include "support/fixture.hpp"
#include "support/gradcheck.hpp"

using namespace chroma;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

namespace {

std::vector<double> as_vector(const chroma::testing::FixtureTensor& t) { return t.values; }

/// A soft target: per pixel, positive values summing to 1 (or to `total`).
Tensor<double> soft_target(Shape shape, Rng& rng, double total = 1.0) {
    Tensor<double> t = chroma::testing::random_tensor(shape, rng, 0.01, 1.0);
    for (index_t n = 0; n < shape.n; ++n)
        for (index_t h = 0; h < shape.h; ++h)
            for (index_t w = 0; w < shape.w; ++w) {
                double sum = 0.0;
                for (index_t q = 0; q < shape.c; ++q) sum += t(n, q, h, w);
                for (index_t q = 0; q < shape.c; ++q) t(n, q, h, w) *= total / sum;
            }
    return t;
}

void require_small(const testing::GradcheckResult& check, const std::string& what) {
    INFO(what << ": " << check.describe());
    CHECK(check.points > 0);
    CHECK(check.max_error < 1e-8);
}

}  // namespace

TEST_CASE("cross-entropy from logits matches PyTorch") {
    const Fixture f("loss_cross_entropy");
    const Tensor<double> logits = f["logits"].tensor(), target = f["target"].tensor();
    const std::vector<double> weights = as_vector(f["weights"]);
    Tensor<double> grad;

    // Without weights it is F.cross_entropy with probability targets.
    CHECK(loss::RebalancedCrossEntropy{}.forward_backward(logits, target, grad) ==
          Approx(f["ce.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["ce.grad"].tensor()) < 1e-12);

    // Zhang's rebalancing: v = w[argmax target].
    const loss::RebalancedCrossEntropy rebalanced(weights);
    CHECK(rebalanced.forward_backward(logits, target, grad) == Approx(f["rebalanced.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["rebalanced.grad"].tensor()) < 1e-12);
    CHECK(rebalanced.value(logits, target) == Approx(f["rebalanced.value"].scalar()).epsilon(1e-12));

    // One-hot targets: PyTorch's class-weighted sum over pixels divided by N*H*W.
    const Tensor<double> hard = f["hard_target"].tensor();
    CHECK(rebalanced.forward_backward(logits, hard, grad) == Approx(f["hard.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["hard.grad"].tensor()) < 1e-12);

    // Logits in the hundreds: the fused softmax stays exact.
    const Tensor<double> large = f["large_logits"].tensor();
    CHECK(loss::RebalancedCrossEntropy{}.forward_backward(large, target, grad) ==
          Approx(f["large.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["large.grad"].tensor()) < 1e-12);
}

TEST_CASE("distribution loss and seed 003's objective match PyTorch") {
    const Fixture f("loss_distribution");
    const Tensor<double> logits = f["logits"].tensor(), target = f["target"].tensor();
    const std::vector<double> weights = as_vector(f["weights"]), prior = as_vector(f["prior"]);
    Tensor<double> grad;

    const loss::DistributionLoss distribution(prior);
    CHECK(distribution.forward_backward(logits, grad) == Approx(f["dt.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["dt.grad"].tensor()) < 1e-12);
    CHECK(distribution.value(logits) == Approx(f["dt.value"].scalar()).epsilon(1e-12));

    const loss::ClassificationObjective objective(weights, prior);
    CHECK(objective.alpha() == 0.4);
    CHECK(objective.forward_backward(logits, target, grad) == Approx(f["objective.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad, f["objective.grad"].tensor()) < 1e-12);
    const auto terms = objective.breakdown(logits, target);
    CHECK(terms.distribution == Approx(f["dt.value"].scalar()).epsilon(1e-12));
    CHECK(terms.total == Approx(0.4 * terms.distribution + 0.6 * terms.cross_entropy).epsilon(1e-14));
    CHECK(objective.value(logits, target) == Approx(terms.total).epsilon(1e-14));
}

TEST_CASE("classification gradients match finite differences") {
    Rng rng(5);
    const Shape shape{.n = 2, .c = 7, .h = 3, .w = 4};
    Tensor<double> logits = chroma::testing::random_tensor(shape, rng, -3, 3);
    const Tensor<double> target = soft_target(shape, rng);
    const std::vector<double> weights{0.5, 1.0, 2.0, 0.7, 3.0, 1.2, 0.9};
    std::vector<double> prior{0.3, 0.05, 0.1, 0.2, 0.15, 0.1, 0.1};
    Tensor<double> grad;

    const loss::RebalancedCrossEntropy rebalanced(weights);
    rebalanced.forward_backward(logits, target, grad);
    require_small(testing::check_gradient(logits, grad, [&] { return rebalanced.value(logits, target); }),
                  "rebalanced cross-entropy");

    // Targets that do not sum to 1: the gradient is softmax * sum(target) - target, exactly.
    const Tensor<double> unnormalised = soft_target(shape, rng, 2.5);
    loss::RebalancedCrossEntropy{}.forward_backward(logits, unnormalised, grad);
    require_small(
        testing::check_gradient(logits, grad, [&] { return loss::RebalancedCrossEntropy{}.value(logits, unnormalised); }),
        "cross-entropy with unnormalised targets");

    const loss::DistributionLoss distribution(prior);
    distribution.forward_backward(logits, grad);
    require_small(testing::check_gradient(logits, grad, [&] { return distribution.value(logits); }), "distribution loss");

    const loss::ClassificationObjective objective(weights, prior, 0.3);
    objective.forward_backward(logits, target, grad);
    require_small(testing::check_gradient(logits, grad, [&] { return objective.value(logits, target); }),
                  "classification objective");
}

TEST_CASE("classification losses by hand") {
    // Two bins, two pixels with equal logits (softmax 1/2, 1/2); targets one-hot on bin 0 and 1.
    Tensor<double> logits(Shape{.n = 1, .c = 2, .h = 1, .w = 2}), target(logits.shape());
    target.at(0, 0, 0, 0) = 1.0;
    target.at(0, 1, 0, 1) = 1.0;
    Tensor<double> grad;
    // Each pixel's CE is log 2; weights 2 and 3 by the target's bin; mean over the 2 pixels.
    const double value = loss::RebalancedCrossEntropy({2.0, 3.0}).forward_backward(logits, target, grad);
    CHECK(value == Approx((2.0 + 3.0) * std::log(2.0) / 2));
    CHECK(grad.at(0, 0, 0, 0) == Approx(2.0 * (0.5 - 1.0) / 2));
    CHECK(grad.at(0, 0, 0, 1) == Approx(3.0 * 0.5 / 2));
    // A tie in the target goes to the lower bin's weight.
    Tensor<double> tie(logits.shape());
    tie.fill(0.5);
    CHECK(loss::RebalancedCrossEntropy({2.0, 3.0}).value(logits, tie) == Approx(2.0 * std::log(2.0)));

    // The predicted distribution is (1/2, 1/2); against the prior (1, 0) it is sqrt(1/2) away.
    const loss::DistributionLoss distribution({1.0, 0.0});
    CHECK(distribution.value(logits) == Approx(std::sqrt(0.5)));
    const auto predicted = distribution.predicted_distribution(logits);
    CHECK(predicted[0] == Approx(0.5));
    CHECK(predicted[1] == Approx(0.5));
    // At the prior itself the loss is 0 and so is its (sub)gradient, not NaN.
    const loss::DistributionLoss exact({0.5, 0.5});
    CHECK(exact.forward_backward(logits, grad) == 0.0);
    for (index_t i = 0; i < grad.size(); ++i) CHECK(grad[i] == 0.0);
}

TEST_CASE("cross-entropy stays finite for huge float logits") {
    Tensor<float> logits(Shape{.n = 1, .c = 3, .h = 1, .w = 1}), target(logits.shape()), grad;
    logits[0] = 1e4f, logits[1] = -1e4f, logits[2] = 0.0f;
    target[1] = 1.0f;
    const double value = loss::RebalancedCrossEntropy{}.forward_backward(logits, target, grad);
    CHECK(value == Approx(2e4));
    CHECK(grad[0] == Approx(1.0f));
    CHECK(grad[1] == Approx(-1.0f));
    CHECK(std::isfinite(loss::DistributionLoss({0.2, 0.3, 0.5}).forward_backward(logits, grad)));
}

TEST_CASE("classification losses report wrong shapes and arguments") {
    Tensor<double> logits(Shape{.n = 2, .c = 4, .h = 3, .w = 3}), grad;
    Tensor<double> target(Shape{.n = 2, .c = 3, .h = 3, .w = 3});
    CHECK_THROWS_WITH(loss::RebalancedCrossEntropy{}.value(logits, target),
                      Catch::Contains("[N=2, C=4, H=3, W=3]") && Catch::Contains("[N=2, C=3, H=3, W=3]"));
    CHECK_THROWS_AS(loss::RebalancedCrossEntropy({1.0, 2.0, 3.0}).value(logits, logits.clone()), shape_error);
    CHECK_THROWS_WITH(loss::RebalancedCrossEntropy({1.0, 2.0, 3.0}).value(logits, logits.clone()),
                      Catch::Contains("3 class weights") && Catch::Contains("4 channels"));
    CHECK_THROWS_WITH(loss::DistributionLoss({0.5, 0.5}).forward_backward(logits, grad),
                      Catch::Contains("2 prior values") && Catch::Contains("[N=2, C=4, H=3, W=3]"));
    CHECK_THROWS_AS(loss::RebalancedCrossEntropy({1.0, -2.0}), usage_error);
    CHECK_THROWS_AS(loss::DistributionLoss({}), usage_error);
    CHECK_THROWS_AS(loss::DistributionLoss({0.5, std::numeric_limits<double>::quiet_NaN()}), usage_error);
    CHECK_THROWS_AS(loss::ClassificationObjective({}, {0.5, 0.5}, 1.5), usage_error);
    Tensor<double> wrong_grad(Shape{.n = 1, .c = 1, .h = 1, .w = 1});
    CHECK_THROWS_AS(loss::DistributionLoss({0.25, 0.25, 0.25, 0.25}).forward_backward_add(logits, wrong_grad, 1.0),
                    shape_error);
}
