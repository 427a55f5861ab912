// The classification task of the 313-bin classifiers: its targets, its loss gradient against
// finite differences, its decoding paths and its shape errors.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/train/classification_task.hpp>

#include <cmath>
#include <vector>

using namespace chroma;

namespace {

// A batch whose ab varies smoothly over the picture, so neighbouring pixels differ in colour.
train::Batch colourful_batch(index_t n, index_t size, std::uint64_t seed = 1) {
    Rng rng(seed);
    train::Batch b{Tensor<float>(Shape{.n = n, .c = 1, .h = size, .w = size}),
                   Tensor<float>(Shape{.n = n, .c = 2, .h = size, .w = size})};
    for (index_t i = 0; i < n; ++i) {
        const double phase = rng.uniform(0, 6);
        for (index_t y = 0; y < size; ++y)
            for (index_t x = 0; x < size; ++x) {
                b.lightness(i, 0, y, x) = static_cast<float>(50 + 30 * std::sin(0.4 * x + phase));
                b.ab(i, 0, y, x) = static_cast<float>(40 * std::sin(0.3 * x + 0.2 * y + phase));
                b.ab(i, 1, y, x) = static_cast<float>(35 * std::cos(0.25 * y + phase) - 10);
            }
    }
    return b;
}

Tensor<float> random_logits(Shape shape, std::uint64_t seed) {
    Rng rng(seed);
    Tensor<float> t(shape);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(rng.uniform(-2, 2));
    return t;
}

// Central differences of task.loss at 40 logits spread over the tensor against its gradient: the
// largest difference relative to the largest gradient element.
double worst_gradient_error(train::ClassificationTask& task, Tensor<float> logits, const train::Batch& batch) {
    Tensor<float> grad, scratch;
    task.loss(logits, batch, grad);
    const Tensor<float> analytic = grad.clone();
    double largest = 0.0;
    for (index_t i = 0; i < analytic.size(); ++i) largest = std::max(largest, std::abs(double(analytic.data()[i])));
    REQUIRE(largest > 0.0);
    // 40 elements spread over the tensor, and up to 20 of those with large gradients (target bins).
    std::vector<index_t> points;
    for (index_t k = 0; k < 40; ++k) points.push_back((k * 7919) % logits.size());
    for (index_t i = 0; i < analytic.size() && points.size() < 60; ++i)
        if (std::abs(double(analytic.data()[i])) > 0.3 * largest) points.push_back(i);
    double worst = 0.0;
    const double step = 1e-2;
    for (const index_t i : points) {
        const float saved = logits.data()[i];
        logits.data()[i] = static_cast<float>(saved + step);
        const double up = task.loss(logits, batch, scratch);
        logits.data()[i] = static_cast<float>(saved - step);
        const double down = task.loss(logits, batch, scratch);
        logits.data()[i] = saved;
        const double numeric = (up - down) / (2 * step);
        worst = std::max(worst, std::abs(numeric - analytic.data()[i]) / largest);
    }
    return worst;
}

}  // namespace

TEST_CASE("soft targets: 5 nearest bins with Gaussian weights, of area-averaged ab at the logits' size",
          "[classification]") {
    const train::Batch batch = colourful_batch(2, 16);
    train::ClassificationTask task({.architecture = "eccv16"});
    Tensor<float> grad;
    task.loss(random_logits(Shape{.n = 2, .c = 313, .h = 4, .w = 4}, 1), batch, grad);
    const Tensor<float>& target = task.target();
    REQUIRE(target.shape() == Shape{.n = 2, .c = 313, .h = 4, .w = 4});

    // The target of logit pixel (1, 2) is the soft encoding of the mean ab over its 4x4 block.
    Tensor<float> block_ab(Shape{.n = 1, .c = 2, .h = 1, .w = 1});
    for (int c = 0; c < 2; ++c) {
        double sum = 0;
        for (int y = 4; y < 8; ++y)
            for (int x = 8; x < 12; ++x) sum += batch.ab(1, c, y, x);
        block_ab(0, c, 0, 0) = static_cast<float>(sum / 16);
    }
    const Tensor<float> expected = color::soft_encode(block_ab, color::BinLookup(color::AbBins::zhang(), 5), 5.0);
    int nonzero = 0;
    double total = 0;
    for (int q = 0; q < 313; ++q) {
        CHECK(target(1, q, 1, 2) == Approx(expected(0, q, 0, 0)).margin(1e-6));
        nonzero += target(1, q, 1, 2) > 0;
        total += target(1, q, 1, 2);
    }
    CHECK(nonzero == 5);
    CHECK(total == Approx(1.0).epsilon(1e-5));

    // Hard targets (seed 003) are one-hot at the nearest bin.
    train::ClassificationTask hard({.encoding = train::BinEncoding::hard});
    hard.loss(random_logits(Shape{.n = 2, .c = 313, .h = 16, .w = 16}, 2), batch, grad);
    const auto nearest = color::hard_encode_indices(batch.ab, color::BinLookup(color::AbBins::zhang()));
    for (index_t p : {0, 17, 255}) {
        CHECK(hard.target()(0, nearest[static_cast<std::size_t>(p)], p / 16, p % 16) == 1.0f);
    }
}

TEST_CASE("the loss gradient matches finite differences: cross-entropy, rebalanced, with the distribution loss",
          "[classification]") {
    const train::Batch batch = colourful_batch(2, 8);
    std::vector<double> prior = color::zhang_prior_vector();
    const Shape quarter{.n = 2, .c = 313, .h = 2, .w = 2}, full{.n = 2, .c = 313, .h = 8, .w = 8};

    train::ClassificationTask plain({.rebalance = false});
    CHECK(worst_gradient_error(plain, random_logits(quarter, 3), batch) < 2e-3);

    train::ClassificationTask rebalanced({.prior = prior, .prior_name = "ImageNet prior"});
    CHECK(worst_gradient_error(rebalanced, random_logits(quarter, 4), batch) < 2e-3);

    train::ClassificationTask seed003({.encoding = train::BinEncoding::hard, .prior = prior, .alpha = 0.4,
                                       .decoding = color::Decoding::top_k_mean(2)});
    CHECK(worst_gradient_error(seed003, random_logits(full, 5), batch) < 2e-3);

    // The value is (1 - alpha) L_cl + alpha L_dt, as ClassificationObjective computes it.
    Tensor<float> grad;
    const Tensor<float> logits = random_logits(full, 6);
    const double value = seed003.loss(logits, batch, grad);
    const loss::ClassificationObjective objective(color::rebalancing_weights(prior, 0.5), prior, 0.4);
    CHECK(value == Approx(objective.value(logits, seed003.target())).epsilon(1e-9));
}

TEST_CASE("decoding: annealed mean, top-k, mean and mode, then bilinear upsampling to the input size",
          "[classification]") {
    const train::Batch batch = colourful_batch(1, 16);
    // Logits that put nearly all the mass on two bins of every pixel.
    const color::AbBins bins = color::AbBins::zhang();
    const int first = 150, second = 151;
    Tensor<float> logits(Shape{.n = 1, .c = 313, .h = 4, .w = 4});
    for (index_t p = 0; p < 16; ++p) {
        for (int q = 0; q < 313; ++q) logits(0, q, p / 4, p % 4) = -20.0f;
        logits(0, first, p / 4, p % 4) = 3.0f;
        logits(0, second, p / 4, p % 4) = 2.0f;
    }
    const double p1 = 1.0 / (1.0 + std::exp(-1.0)), p2 = 1.0 - p1;
    const auto& c = bins.centres();
    auto decoded_a = [&](color::Decoding how) {
        train::ClassificationTask task({.decoding = how});
        task.input(batch);
        const Tensor<float>& ab = task.predicted_ab(logits);
        REQUIRE(ab.shape() == Shape{.n = 1, .c = 2, .h = 16, .w = 16});
        // Constant over the picture, so the bilinear upsampling keeps the value everywhere.
        CHECK(ab(0, 0, 0, 0) == Approx(ab(0, 0, 15, 7)).margin(1e-4));
        return static_cast<double>(ab(0, 0, 5, 9));
    };
    CHECK(decoded_a(color::Decoding::mode()) == Approx(c[first].a).margin(1e-4));
    CHECK(decoded_a(color::Decoding::top_k_mean(2)) == Approx(p1 * c[first].a + p2 * c[second].a).margin(1e-3));
    CHECK(decoded_a(color::Decoding::mean()) == Approx(p1 * c[first].a + p2 * c[second].a).margin(1e-2));
    const double w1 = std::pow(p1, 1 / 0.38), w2 = std::pow(p2, 1 / 0.38);
    CHECK(decoded_a(color::Decoding::annealed_mean(0.38)) ==
          Approx((w1 * c[first].a + w2 * c[second].a) / (w1 + w2)).margin(1e-2));

    // At the logits' own size (the light classifier) there is no upsampling.
    train::ClassificationTask light({.decoding = color::Decoding::top_k_mean(2)});
    const train::Batch small = colourful_batch(1, 4);
    light.input(small);
    CHECK(light.predicted_ab(logits).shape() == Shape{.n = 1, .c = 2, .h = 4, .w = 4});
}

TEST_CASE("shape errors say what is expected", "[classification]") {
    const train::Batch batch = colourful_batch(2, 16);
    train::ClassificationTask task({.architecture = "eccv16"});
    Tensor<float> grad;
    CHECK_THROWS_WITH(task.loss(Tensor<float>(Shape{.n = 2, .c = 2, .h = 4, .w = 4}), batch, grad),
                      Catch::Contains("expects logits [N,313,h,w]"));
    CHECK_THROWS_WITH(task.loss(Tensor<float>(Shape{.n = 2, .c = 313, .h = 5, .w = 4}), batch, grad),
                      Catch::Contains("one whole factor"));
    CHECK_THROWS_WITH(task.loss(Tensor<float>(Shape{.n = 2, .c = 313, .h = 4, .w = 8}), batch, grad),
                      Catch::Contains("one whole factor"));
    CHECK_THROWS_AS(task.loss(Tensor<float>(Shape{.n = 1, .c = 313, .h = 4, .w = 4}), batch, grad), shape_error);
    CHECK_THROWS_AS(task.predicted_ab(Tensor<float>(Shape{.n = 1, .c = 3, .h = 4, .w = 4})), shape_error);
    CHECK_THROWS_AS(task.input(train::Batch{batch.ab, batch.ab}), shape_error);
    CHECK_THROWS_AS(train::ClassificationTask({.prior = {0.5, 0.5}}), usage_error);

    CHECK(task.describe() ==
          "eccv16: 313-bin classification, soft targets (5 nearest bins, sigma 5) of area-averaged ab at the logits' "
          "size; rebalanced cross-entropy (lambda 0.5, uniform prior); decode: annealed mean (T = 0.38), bilinear "
          "upsampling to the input size");
}
