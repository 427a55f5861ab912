// The rebalanced L1 regression task: each pixel's |error| weighted by its true colour's bin
// weight. Checked by hand, against L1Loss when lambda = 1, against finite differences, and for
// its errors.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>

#include <cmath>
#include <vector>

using namespace chroma;

namespace {

train::Batch batch_of(index_t n, index_t size, std::uint64_t seed) {
    Rng rng(seed);
    train::Batch b{Tensor<float>(Shape{.n = n, .c = 1, .h = size, .w = size}),
                   Tensor<float>(Shape{.n = n, .c = 2, .h = size, .w = size})};
    for (index_t i = 0; i < b.lightness.size(); ++i) b.lightness.data()[i] = static_cast<float>(rng.uniform(0, 100));
    for (index_t i = 0; i < b.ab.size(); ++i) b.ab.data()[i] = static_cast<float>(rng.uniform(-60, 60));
    return b;
}

// A prediction at least 0.05 away from every target (in ab / 110), so no finite difference of
// step 1e-3 crosses the kink of |d|.
Tensor<float> prediction_for(const train::Batch& b, std::uint64_t seed) {
    Rng rng(seed);
    Tensor<float> p(b.ab.shape());
    for (index_t i = 0; i < p.size(); ++i) {
        const double offset = rng.uniform(0.05, 0.3) * (rng.uniform(0, 1) < 0.5 ? -1 : 1);
        p.data()[i] = static_cast<float>(b.ab.data()[i] / 110.0 + offset);
    }
    return p;
}

}  // namespace

TEST_CASE("each pixel's |error| counts with its true colour's rebalancing weight", "[rebalanced]") {
    const std::vector<double> prior = color::zhang_prior_vector();
    train::RebalancedRegressionTask task(prior, 0.5);
    const std::vector<double> weights = color::rebalancing_weights(prior, 0.5);
    const color::BinLookup lookup(color::AbBins::zhang());

    // Two pixels: a neutral grey and a saturated blue, predicted 0.1 and 0.2 (in ab / 110) off.
    train::Batch b{Tensor<float>(Shape{.n = 1, .c = 1, .h = 1, .w = 2}), Tensor<float>(Shape{.n = 1, .c = 2, .h = 1, .w = 2})};
    b.ab(0, 0, 0, 0) = 0;
    b.ab(0, 1, 0, 0) = 0;
    b.ab(0, 0, 0, 1) = 10;
    b.ab(0, 1, 0, 1) = -60;
    Tensor<float> p(b.ab.shape());
    p(0, 0, 0, 0) = 0.1f;
    p(0, 1, 0, 0) = -0.1f;
    p(0, 0, 0, 1) = 10 / 110.f + 0.2f;
    p(0, 1, 0, 1) = -60 / 110.f - 0.2f;
    const auto bins = color::hard_encode_indices(b.ab, lookup);
    const double grey = weights[static_cast<std::size_t>(bins[0])], blue = weights[static_cast<std::size_t>(bins[1])];
    REQUIRE(blue > 3 * grey);  // the rare colour weighs more

    Tensor<float> grad;
    const double value = task.loss(p, b, grad);
    CHECK(value == Approx((grey * 0.1 * 2 + blue * 0.2 * 2) / 4).epsilon(1e-5));
    CHECK(grad(0, 0, 0, 0) == Approx(grey / 4).epsilon(1e-6));
    CHECK(grad(0, 1, 0, 0) == Approx(-grey / 4).epsilon(1e-6));
    CHECK(grad(0, 0, 0, 1) == Approx(blue / 4).epsilon(1e-6));
    CHECK(grad(0, 1, 0, 1) == Approx(-blue / 4).epsilon(1e-6));
    CHECK(task.min_weight() <= grey);
    CHECK(task.max_weight() >= blue);
}

TEST_CASE("lambda 1 is plain L1 on ab / 110, value and gradient", "[rebalanced]") {
    const train::Batch b = batch_of(2, 5, 1);
    const Tensor<float> p = prediction_for(b, 2);
    train::RebalancedRegressionTask rebalanced(color::zhang_prior_vector(), 1.0);
    train::RegressionTask<loss::L1Loss> plain;
    Tensor<float> g1, g2;
    const double v1 = rebalanced.loss(p, b, g1);
    const double v2 = plain.loss(p, b, g2);
    CHECK(v1 == Approx(v2).epsilon(1e-6));
    REQUIRE(g1.shape() == g2.shape());
    for (index_t i = 0; i < g1.size(); ++i) REQUIRE(g1.data()[i] == Approx(g2.data()[i]).margin(1e-9));
    // Input and read-back are the regression task's.
    CHECK(rebalanced.input(b)(1, 0, 2, 3) == plain.input(b)(1, 0, 2, 3));
    CHECK(rebalanced.predicted_ab(p)(0, 1, 4, 4) == Approx(p(0, 1, 4, 4) * 110.0f));
}

TEST_CASE("the gradient matches finite differences", "[rebalanced]") {
    const train::Batch b = batch_of(2, 4, 3);
    Tensor<float> p = prediction_for(b, 4);
    train::RebalancedRegressionTask task(color::zhang_prior_vector(), 0.5);
    Tensor<float> grad, scratch;
    task.loss(p, b, grad);
    const Tensor<float> analytic = grad.clone();
    const double step = 1e-3;
    double worst = 0, largest = 0;
    for (index_t i = 0; i < p.size(); ++i) {
        largest = std::max(largest, std::abs(double(analytic.data()[i])));
        const float saved = p.data()[i];
        p.data()[i] = static_cast<float>(saved + step);
        const double up = task.loss(p, b, scratch);
        p.data()[i] = static_cast<float>(saved - step);
        const double down = task.loss(p, b, scratch);
        p.data()[i] = saved;
        worst = std::max(worst, std::abs((up - down) / (2 * step) - analytic.data()[i]));
    }
    CHECK(worst < 2e-3 * largest);
}

TEST_CASE("errors name the task and the shapes", "[rebalanced]") {
    CHECK_THROWS_WITH(train::RebalancedRegressionTask(std::vector<double>(10, 0.1)),
                      Catch::Contains("RebalancedRegressionTask") && Catch::Contains("10 values"));
    CHECK_THROWS_WITH(train::RebalancedRegressionTask(color::zhang_prior_vector(), 1.5), Catch::Contains("lambda"));
    train::RebalancedRegressionTask task(color::zhang_prior_vector());
    const train::Batch b = batch_of(1, 4, 5);
    Tensor<float> wrong(Shape{.n = 1, .c = 2, .h = 3, .w = 4}), grad;
    CHECK_THROWS_AS(task.loss(wrong, b, grad), shape_error);
    CHECK_THROWS_WITH(task.loss(wrong, b, grad), Catch::Contains("[N=1, C=2, H=3, W=4]"));
}
