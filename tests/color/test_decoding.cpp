// Decoding distributions over bins into ab: hand-computed cases for the annealed mean, the mean,
// the mode and the top-k mean, their limits, probabilities of zero and invalid values, and
// agreement with the formulas written out in numpy.
#include <catch2/catch.hpp>

#include <chroma/color/decoding.hpp>
#include <chroma/color/encoding.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/fixture.hpp"

using namespace chroma;
using namespace chroma::color;

namespace {

// Three bins and one pixel: (0, 0), (10, 0), (0, 20).
const AbBins three_bins({{0, 0}, {10, 0}, {0, 20}});

Tensor<double> one_pixel(std::vector<double> p) {
    Tensor<double> t(Shape{.n = 1, .c = static_cast<index_t>(p.size()), .h = 1, .w = 1});
    for (std::size_t q = 0; q < p.size(); ++q) t[static_cast<index_t>(q)] = p[q];
    return t;
}

void check_ab(const Tensor<double>& ab, double a, double b, double margin = 1e-12) {
    REQUIRE(ab.shape() == Shape{.n = 1, .c = 2, .h = 1, .w = 1});
    CHECK(ab[0] == Approx(a).margin(margin));
    CHECK(ab[1] == Approx(b).margin(margin));
}

}  // namespace

TEST_CASE("Each decoding of one hand-made distribution") {
    const Tensor<double> p = one_pixel({0.5, 0.3, 0.2});
    // Mean: 0.3 * (10, 0) + 0.2 * (0, 20).
    check_ab(decode(p, three_bins, Decoding::mean()), 3.0, 4.0);
    // Annealed at T = 0.5: weights p^2 = 0.25, 0.09, 0.04 over 0.38.
    check_ab(decode(p, three_bins, Decoding::annealed_mean(0.5)), 0.9 / 0.38, 0.8 / 0.38);
    check_ab(decode(p, three_bins, Decoding::mode()), 0.0, 0.0);
    // Top-2: bins 0 and 1 with weights 0.5 and 0.3 renormalised over 0.8.
    check_ab(decode(p, three_bins, Decoding::top_k_mean(2)), 3.0 / 0.8, 0.0);
    check_ab(decode(p, three_bins, Decoding::top_k_mean(3)), 3.0, 4.0);
    check_ab(decode(p, three_bins, Decoding::top_k_mean(1)), 0.0, 0.0);
}

TEST_CASE("The annealed mean runs from the mean at T = 1 to the mode as T -> 0") {
    const Tensor<double> p = one_pixel({0.2, 0.5, 0.3});
    const Tensor<double> mean = decode(p, three_bins, Decoding::mean());
    check_ab(decode(p, three_bins, Decoding::annealed_mean(1.0)), mean[0], mean[1]);
    check_ab(decode(p, three_bins, Decoding::annealed_mean(0.01)), 10.0, 0.0, 1e-9);
    // Large T flattens the distribution towards the plain average of the centres.
    check_ab(decode(p, three_bins, Decoding::annealed_mean(1e6)), 10.0 / 3.0, 20.0 / 3.0, 1e-3);
    // The default is the paper's T = 0.38, and lies between the mean and the mode.
    const Tensor<double> annealed = decode(p, three_bins);
    CHECK(annealed[0] > mean[0]);
    CHECK(annealed[0] < 10.0);
}

TEST_CASE("Bins of probability zero take no part, even at low temperature") {
    const Tensor<double> p = one_pixel({0.0, 1.0, 0.0});
    for (double t : {0.05, 0.38, 1.0, 3.0}) check_ab(decode(p, three_bins, Decoding::annealed_mean(t)), 10.0, 0.0);
    check_ab(decode(p, three_bins, Decoding::top_k_mean(2)), 10.0, 0.0);
    // Tiny but positive probabilities underflow to weight 0 without NaN.
    check_ab(decode(one_pixel({1e-300, 1.0, 0.0}), three_bins, Decoding::annealed_mean(0.01)), 10.0, 0.0);
}

TEST_CASE("Unnormalised probabilities decode as their normalised form") {
    const Tensor<double> p = one_pixel({0.5, 0.3, 0.2}), scaled = one_pixel({3.5, 2.1, 1.4});
    for (const Decoding how : {Decoding::mean(), Decoding::annealed_mean(), Decoding::mode(), Decoding::top_k_mean()}) {
        const Tensor<double> expected = decode(p, three_bins, how);
        check_ab(decode(scaled, three_bins, how), expected[0], expected[1], 1e-12);
    }
}

TEST_CASE("No positive probability decodes to neutral grey; invalid values count as zero") {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (const Decoding how : {Decoding::mean(), Decoding::annealed_mean(), Decoding::mode(), Decoding::top_k_mean()}) {
        INFO(how.describe());
        check_ab(decode(one_pixel({0.0, 0.0, 0.0}), three_bins, how), 0.0, 0.0);
        check_ab(decode(one_pixel({-1.0, nan, -inf}), three_bins, how), 0.0, 0.0);
        check_ab(decode(one_pixel({nan, inf, 0.25}), three_bins, how), 0.0, 20.0);
    }
}

TEST_CASE("Ties go to the lower bin index") {
    const Tensor<double> p = one_pixel({0.2, 0.4, 0.4});
    check_ab(decode(p, three_bins, Decoding::mode()), 10.0, 0.0);
    check_ab(decode(p, three_bins, Decoding::top_k_mean(1)), 10.0, 0.0);
}

TEST_CASE("Decodings agree with the formulas written out in numpy over Zhang's bins") {
    const chroma::testing::Fixture f("color_decoding");
    const auto& table = f["probabilities"];
    const index_t count = table.dims.at(0), bins = table.dims.at(1);
    // Pixels laid out as a [2, Q, 4, count / 8] batch, to exercise the strides.
    const index_t width = count / 8;
    Tensor<double> p(Shape{.n = 2, .c = bins, .h = 4, .w = width});
    const auto pixel = [&](index_t i) { return std::tuple{i / (4 * width), (i / width) % 4, i % width}; };
    for (index_t i = 0; i < count; ++i) {
        const auto [n, y, x] = pixel(i);
        for (index_t q = 0; q < bins; ++q) p(n, q, y, x) = table.values[static_cast<std::size_t>(i * bins + q)];
    }
    const AbBins zhang = AbBins::zhang();
    const std::pair<Decoding, const char*> cases[] = {{Decoding::annealed_mean(0.38), "annealed_0.38"},
                                                      {Decoding::mean(), "mean"},
                                                      {Decoding::mode(), "mode"},
                                                      {Decoding::top_k_mean(2), "top_2"},
                                                      {Decoding::top_k_mean(5), "top_5"}};
    for (const auto& [how, key] : cases) {
        INFO(how.describe());
        const Tensor<double> ab = decode(p, zhang, how);
        for (index_t i = 0; i < count; ++i) {
            const auto [n, y, x] = pixel(i);
            REQUIRE(ab(n, 0, y, x) == Approx(f[key].values[static_cast<std::size_t>(2 * i)]).margin(1e-9));
            REQUIRE(ab(n, 1, y, x) == Approx(f[key].values[static_cast<std::size_t>(2 * i + 1)]).margin(1e-9));
        }
    }
}

TEST_CASE("Soft encoding a colour and decoding its mean returns the colour") {
    const BinLookup lookup(AbBins::zhang(), 5);
    Tensor<float> ab(Shape{.n = 1, .c = 2, .h = 2, .w = 2});
    // Bin centres are symmetric in their encoding; a point between bins comes back near itself.
    const float values[4][2] = {{0, 0}, {-40, 30}, {20, 40}, {23, 36}};
    for (int i = 0; i < 4; ++i) ab(0, 0, i / 2, i % 2) = values[i][0], ab(0, 1, i / 2, i % 2) = values[i][1];
    const Tensor<float> decoded = decode(soft_encode(ab, lookup), lookup.bins(), Decoding::mean());
    for (int i = 0; i < 3; ++i) {
        CHECK(decoded(0, 0, i / 2, i % 2) == Approx(values[i][0]).margin(1e-4));
        CHECK(decoded(0, 1, i / 2, i % 2) == Approx(values[i][1]).margin(1e-4));
    }
    CHECK(std::hypot(decoded(0, 0, 1, 1) - 23.0f, decoded(0, 1, 1, 1) - 36.0f) < 3.0f);
}

TEST_CASE("Decoding names what it rejects") {
    const Tensor<double> p = one_pixel({0.5, 0.3, 0.2});
    CHECK_THROWS_AS(decode(p, AbBins::zhang()), shape_error);
    CHECK_THROWS_WITH(decode(p, AbBins::zhang()), Catch::Contains("one channel per bin (313)"));
    CHECK_THROWS_WITH(decode(p, three_bins, Decoding::annealed_mean(0.0)), Catch::Contains("Decoding::mode()"));
    CHECK_THROWS_AS(decode(p, three_bins, Decoding::annealed_mean(-1.0)), usage_error);
    CHECK_THROWS_AS(decode(p, three_bins, Decoding::top_k_mean(0)), usage_error);
    CHECK_THROWS_WITH(decode(p, three_bins, Decoding::top_k_mean(4)), Catch::Contains("between 1 and 3"));
    CHECK(Decoding::annealed_mean().describe() == "annealed mean (T = 0.38)");
    CHECK(Decoding::mean().describe() == "annealed mean (T = 1)");
    CHECK(Decoding::mode().describe() == "mode");
    CHECK(Decoding::top_k_mean(2).describe() == "top-2 mean");
}

TEST_CASE("Rebalanced decoding weighs each bin by its rebalancing weight under Zhang's prior first") {
    const AbBins bins = AbBins::zhang();
    const std::vector<double> prior = zhang_prior_vector();
    // The commonest bin and the rarest one with a positive prior.
    std::size_t common = 0, rare = 0;
    for (std::size_t q = 0; q < prior.size(); ++q) {
        if (prior[q] > prior[common]) common = q;
        if (prior[q] > 0 && (prior[rare] <= 0 || prior[q] < prior[rare])) rare = q;
    }
    Tensor<double> p(Shape{.n = 1, .c = zhang_bin_count, .h = 1, .w = 1});
    p[static_cast<index_t>(common)] = 0.7;
    p[static_cast<index_t>(rare)] = 0.3;
    const float* centres = bins.interleaved();
    const auto centre = [&](std::size_t q, int i) { return static_cast<double>(centres[2 * q + static_cast<std::size_t>(i)]); };

    // Without rebalancing the mode is the common bin; lambda 1 changes nothing.
    check_ab(decode(p, bins, Decoding::mode()), centre(common, 0), centre(common, 1));
    check_ab(decode(p, bins, Decoding::mode().rebalanced(1.0)), centre(common, 0), centre(common, 1));
    // At lambda 0.5 the mean is sum_q p_q w_q c_q / sum_q p_q w_q, with w from rebalancing_weights.
    const std::vector<double> w = rebalancing_weights(prior, 0.5);
    const double wc = 0.7 * w[common], wr = 0.3 * w[rare];
    REQUIRE(wr > wc);  // the rare colour outweighs the common one once the prior is divided out
    check_ab(decode(p, bins, Decoding::mean().rebalanced(0.5)), (wc * centre(common, 0) + wr * centre(rare, 0)) / (wc + wr),
             (wc * centre(common, 1) + wr * centre(rare, 1)) / (wc + wr), 1e-9);
    check_ab(decode(p, bins, Decoding::mode().rebalanced(0.5)), centre(rare, 0), centre(rare, 1));
    // Annealed at T = 0.5: weights (p w)^2.
    const double ac = wc * wc, ar = wr * wr;
    check_ab(decode(p, bins, Decoding::annealed_mean(0.5).rebalanced(0.5)),
             (ac * centre(common, 0) + ar * centre(rare, 0)) / (ac + ar), (ac * centre(common, 1) + ar * centre(rare, 1)) / (ac + ar),
             1e-9);

    CHECK(Decoding::annealed_mean(0.38).rebalanced(0.5).describe() ==
          "annealed mean (T = 0.38) of the distribution rebalanced at lambda 0.5");
    CHECK_THROWS_WITH(decode(p, bins, Decoding::mean().rebalanced(0.0)), Catch::Contains("(0, 1]"));
    CHECK_THROWS_WITH(decode(one_pixel({0.5, 0.3, 0.2}), three_bins, Decoding::mean().rebalanced(0.5)),
                      Catch::Contains("313"));
}
