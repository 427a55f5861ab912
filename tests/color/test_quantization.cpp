// The ab bins: Zhang's tables against the published .npy files, the gamut bins against every
// 8-bit colour through scikit-image, the grid lookup against a search over every bin, hard and
// soft encoding, the empirical prior and the rebalancing weights.
#include <catch2/catch.hpp>

#include <chroma/color/ab_bins.hpp>
#include <chroma/color/bin_lookup.hpp>
#include <chroma/color/encoding.hpp>
#include <chroma/color/prior.hpp>
#include <chroma/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

#include "support/fixture.hpp"
#include "support/npy.hpp"

using namespace chroma;
using namespace chroma::color;

namespace {

// The k nearest bins by looking at every bin: what the lookup must reproduce.
std::vector<std::pair<float, std::int32_t>> brute_force_nearest(const AbBins& bins, float a, float b, int k) {
    std::vector<std::pair<float, std::int32_t>> all;
    for (index_t q = 0; q < bins.size(); ++q) {
        const float da = a - bins[q].a, db = b - bins[q].b;
        all.emplace_back(da * da + db * db, static_cast<std::int32_t>(q));
    }
    const auto kept = static_cast<std::ptrdiff_t>(std::min<index_t>(k, bins.size()));
    std::partial_sort(all.begin(), all.begin() + kept, all.end());
    all.resize(static_cast<std::size_t>(kept));
    return all;
}

void require_lookup_matches_brute_force(const AbBins& bins, int k, std::uint64_t seed) {
    const BinLookup lookup(bins, k);
    const BinLookupView view = lookup.view();
    Rng rng(seed);
    std::vector<std::pair<float, float>> points;
    for (int i = 0; i < 5000; ++i)
        points.emplace_back(static_cast<float>(rng.uniform(-160, 160)), static_cast<float>(rng.uniform(-160, 160)));
    // Bin centres, midpoints between bins and cell corners: where ties are.
    for (const AbPoint& c : bins.centres()) {
        points.emplace_back(c.a, c.b);
        points.emplace_back(c.a + 5.0f, c.b);
        points.emplace_back(c.a + 5.0f, c.b + 5.0f);
    }
    int mismatches = 0;
    for (const auto& [a, b] : points) {
        std::int32_t index[max_neighbours];
        float distance2[max_neighbours];
        const int found = nearest_bins(view, a, b, index, distance2);
        const auto expected = brute_force_nearest(bins, a, b, k);
        bool same = found == static_cast<int>(expected.size());
        for (int i = 0; same && i < found; ++i)
            same = index[i] == expected[static_cast<std::size_t>(i)].second &&
                   distance2[i] == expected[static_cast<std::size_t>(i)].first;
        if (!same && mismatches++ == 0) FAIL_CHECK("first mismatch at (" << a << ", " << b << ")");
    }
    CHECK(mismatches == 0);
}

std::string zhang_file(const char* name) { return std::string(CHROMA_FIXTURE_DIR) + "/zhang/" + name; }

}  // namespace

TEST_CASE("Zhang's bins and prior are the published tables, exactly") {
    const auto centres = chroma::testing::read_npy(zhang_file("pts_in_hull.npy"));
    REQUIRE(centres.shape == std::vector<std::int64_t>{313, 2});
    for (int q = 0; q < 313; ++q) {
        REQUIRE(zhang_bin_centres[static_cast<std::size_t>(q)][0] == centres.values[static_cast<std::size_t>(2 * q)]);
        REQUIRE(zhang_bin_centres[static_cast<std::size_t>(q)][1] ==
                centres.values[static_cast<std::size_t>(2 * q + 1)]);
    }
    const auto prior = chroma::testing::read_npy(zhang_file("prior_probs.npy"));
    REQUIRE(prior.shape == std::vector<std::int64_t>{313});
    for (int q = 0; q < 313; ++q)
        REQUIRE(zhang_prior[static_cast<std::size_t>(q)] == prior.values[static_cast<std::size_t>(q)]);

    const AbBins bins = AbBins::zhang();
    CHECK(bins.size() == 313);
    CHECK(bins[0] == AbPoint{-90, 50});
    CHECK(bins[312] == AbPoint{100, 0});
    CHECK(std::accumulate(zhang_prior.begin(), zhang_prior.end(), 0.0) == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("Bin sets reject centres that are not finite or repeat") {
    CHECK_THROWS_WITH(AbBins({{0, 0}, {10, 0}, {0, 0}}), Catch::Contains("bin 2 repeats the centre"));
    CHECK_THROWS_AS(AbBins({{std::numeric_limits<float>::quiet_NaN(), 0}}), usage_error);
    CHECK_THROWS_AS(BinLookup(AbBins{}), usage_error);
    CHECK_THROWS_AS(BinLookup(AbBins::zhang(), 0), usage_error);
    CHECK_THROWS_AS(BinLookup(AbBins::zhang(), max_neighbours + 1), usage_error);
    CHECK_THROWS_AS(AbBins::zhang()[313], usage_error);
}

TEST_CASE("The grid lookup finds exactly the bins a search over every bin finds") {
    require_lookup_matches_brute_force(AbBins::zhang(), 1, 1);
    require_lookup_matches_brute_force(AbBins::zhang(), 5, 2);
    require_lookup_matches_brute_force(gamut_bins(7.0), 5, 3);
    // An irregular set, and sets too small for k.
    Rng rng(4);
    std::vector<AbPoint> scattered;
    for (int i = 0; i < 60; ++i)
        scattered.push_back({static_cast<float>(rng.uniform(-100, 100)), static_cast<float>(rng.uniform(-40, 120))});
    require_lookup_matches_brute_force(AbBins(scattered), 3, 5);
    require_lookup_matches_brute_force(AbBins({{0, 0}, {10, 0}, {0, 10}}), 5, 6);
    require_lookup_matches_brute_force(AbBins({{3, -4}}), 1, 7);
}

TEST_CASE("The grid lookup reads only a few candidates per search") {
    CHECK(BinLookup(AbBins::zhang(), 1).mean_candidates() < 4.0);
    CHECK(BinLookup(AbBins::zhang(), 5).mean_candidates() < 16.0);
}

TEST_CASE("NaN and infinite ab values map to the bin of neutral grey") {
    const BinLookup lookup(AbBins::zhang());
    const std::int32_t grey = lookup.nearest(0.0f, 0.0f);
    CHECK(lookup.bins()[grey] == AbPoint{0, 0});
    CHECK(lookup.nearest(std::numeric_limits<float>::quiet_NaN(), 0.0f) == grey);
    CHECK(lookup.nearest(std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()) == grey);
}

TEST_CASE("The gamut bins of step 10 are the cells that every 8-bit sRGB colour reaches") {
    const AbBins bins = gamut_bins(10.0);
    std::set<std::pair<float, float>> ours;
    for (const AbPoint& c : bins.centres()) ours.emplace(c.a, c.b);

    const chroma::testing::Fixture f("color_gamut_cells_step10");
    const auto& cells = f["centres"];
    std::set<std::pair<float, float>> reference;
    for (std::size_t i = 0; i < cells.values.size(); i += 2)
        reference.emplace(static_cast<float>(cells.values[i]), static_cast<float>(cells.values[i + 1]));
    INFO("gamut bins: " << ours.size() << ", cells reached by 8-bit colours: " << reference.size());
    CHECK(std::includes(ours.begin(), ours.end(), reference.begin(), reference.end()));
    // Sampling finer than 8 bits may reach slivers of a few more cells, never many.
    CHECK(ours.size() <= reference.size() + 4);

    // Every one of them is among Zhang's bins, which reach further.
    const AbBins zhang_bins = AbBins::zhang();
    std::set<std::pair<float, float>> zhang;
    for (const AbPoint& c : zhang_bins.centres()) zhang.emplace(c.a, c.b);
    CHECK(std::includes(zhang.begin(), zhang.end(), ours.begin(), ours.end()));

    // Ordered by a, then b, like Zhang's.
    CHECK(std::is_sorted(bins.centres().begin(), bins.centres().end(),
                         [](AbPoint x, AbPoint y) { return std::pair(x.a, x.b) < std::pair(y.a, y.b); }));
    CHECK(gamut_bins(5.0).size() > 3 * bins.size());
    CHECK_THROWS_AS(gamut_bins(0.1), usage_error);
}

TEST_CASE("Bins from observed colours keep the cells seen often enough") {
    Tensor<float> ab(Shape{.n = 1, .c = 2, .h = 1, .w = 5});
    const float values[5][2] = {{1, 1}, {4.9f, -4.9f}, {5, 5}, {12, -3}, {std::numeric_limits<float>::quiet_NaN(), 0}};
    for (int i = 0; i < 5; ++i) ab(0, 0, 0, i) = values[i][0], ab(0, 1, 0, i) = values[i][1];
    const AbBins all = bins_from_observed(ab, 10.0);
    REQUIRE(all.size() == 3);
    CHECK(all[0] == AbPoint{0, 0});
    CHECK(all[1] == AbPoint{10, 0});
    CHECK(all[2] == AbPoint{10, 10});
    const AbBins frequent = bins_from_observed(ab, 10.0, 2);
    REQUIRE(frequent.size() == 1);
    CHECK(frequent[0] == AbPoint{0, 0});

    AbHistogram histogram(10.0);
    histogram.add(ab);
    histogram.add(ab);
    CHECK(histogram.total() == 8);  // NaN skipped
    CHECK(histogram.count(-2, 3) == 4);
    CHECK_THROWS_WITH(histogram.add(300.0, 0.0), Catch::Contains("outside the histogram's range"));
    CHECK_THROWS_AS(AbHistogram(0.0), usage_error);
}

TEST_CASE("Hard encoding picks the nearest bin, as an index and as a one-hot channel") {
    const BinLookup lookup(AbBins::zhang());
    Tensor<float> ab(Shape{.n = 2, .c = 2, .h = 1, .w = 3});
    const float values[6][2] = {{0, 0}, {3, -4}, {-88, 52}, {100, -10}, {6, 6}, {200, 200}};
    for (int i = 0; i < 6; ++i) ab(i / 3, 0, 0, i % 3) = values[i][0], ab(i / 3, 1, 0, i % 3) = values[i][1];
    const std::vector<std::int32_t> indices = hard_encode_indices(ab, lookup);
    const AbPoint expected[6] = {{0, 0}, {0, 0}, {-90, 50}, {100, -10}, {10, 10}, {90, 70}};
    REQUIRE(indices.size() == 6);
    for (int i = 0; i < 6; ++i) CHECK(lookup.bins()[indices[static_cast<std::size_t>(i)]] == expected[i]);
    // Every bin centre encodes to its own index.
    for (index_t q = 0; q < lookup.bins().size(); ++q)
        REQUIRE(lookup.nearest(lookup.bins()[q].a, lookup.bins()[q].b) == q);

    const Tensor<float> one_hot = hard_encode(ab, lookup);
    REQUIRE(one_hot.shape() == Shape{.n = 2, .c = 313, .h = 1, .w = 3});
    for (int i = 0; i < 6; ++i) {
        float sum = 0.0f;
        for (index_t q = 0; q < 313; ++q) sum += one_hot(i / 3, q, 0, i % 3);
        CHECK(sum == 1.0f);
        CHECK(one_hot(i / 3, indices[static_cast<std::size_t>(i)], 0, i % 3) == 1.0f);
    }
}

TEST_CASE("Soft encoding weighs the 5 nearest bins by a Gaussian of sigma 5") {
    const BinLookup lookup(AbBins::zhang(), 5);
    // At a bin centre of the grid: the bin itself at distance 0 and its 4 neighbours at 10,
    // weighted 1 and exp(-100 / 50) = exp(-2) before normalising.
    Tensor<double> ab(Shape{.n = 1, .c = 2, .h = 1, .w = 3});
    ab(0, 0, 0, 0) = 0, ab(0, 1, 0, 0) = 0;
    ab(0, 0, 0, 1) = 13, ab(0, 1, 0, 1) = -21;
    ab(0, 0, 0, 2) = std::numeric_limits<double>::quiet_NaN(), ab(0, 1, 0, 2) = 0;
    const Tensor<double> targets = soft_encode(ab, lookup);
    REQUIRE(targets.shape() == Shape{.n = 1, .c = 313, .h = 1, .w = 3});
    const double centre = 1.0 / (1.0 + 4.0 * std::exp(-2.0)), side = std::exp(-2.0) * centre;
    int nonzero = 0;
    for (index_t q = 0; q < 313; ++q) {
        const double w = targets(0, q, 0, 0);
        if (w == 0.0) continue;
        ++nonzero;
        const AbPoint c = lookup.bins()[q];
        CHECK(w == Approx(c == AbPoint{0, 0} ? centre : side).epsilon(1e-6));
        CHECK(std::hypot(c.a, c.b) == Approx(c == AbPoint{0, 0} ? 0.0 : 10.0));
    }
    CHECK(nonzero == 5);

    // Elsewhere: the 5 nearest by a full search, weights exp(-d^2 / 50) normalised.
    const auto nearest = brute_force_nearest(lookup.bins(), 13, -21, 5);
    double total = 0.0;
    for (const auto& [d2, q] : nearest) total += std::exp(-d2 / 50.0);
    double sum = 0.0;
    for (const auto& [d2, q] : nearest)
        CHECK(targets(0, q, 0, 1) == Approx(std::exp(-d2 / 50.0) / total).epsilon(1e-5));
    for (index_t q = 0; q < 313; ++q) sum += targets(0, q, 0, 1);
    CHECK(sum == Approx(1.0).epsilon(1e-12));

    // NaN encodes as neutral grey.
    for (index_t q = 0; q < 313; ++q) REQUIRE(targets(0, q, 0, 2) == targets(0, q, 0, 0));

    // Far outside the bins, the weights still sum to 1.
    Tensor<float> far(Shape{.n = 1, .c = 2, .h = 1, .w = 1});
    far[0] = 1e6f, far[1] = -1e6f;
    const Tensor<float> far_targets = soft_encode(far, lookup);
    float far_sum = 0.0f;
    for (index_t q = 0; q < 313; ++q) far_sum += far_targets[q];
    CHECK(far_sum == Approx(1.0f));

    CHECK_THROWS_AS(soft_encode(ab, lookup, 0.0), usage_error);
    Tensor<double> three(Shape{.n = 1, .c = 3, .h = 1, .w = 1});
    CHECK_THROWS_AS(soft_encode(three, lookup), shape_error);
}

TEST_CASE("The empirical prior counts pixels per nearest bin, streamed over images") {
    const AbBins bins({{0, 0}, {10, 0}, {0, 10}});
    PriorEstimator estimator(bins);
    CHECK_THROWS_WITH(estimator.empirical(), Catch::Contains("no pixels"));
    Tensor<float> first(Shape{.n = 1, .c = 2, .h = 1, .w = 2}), second(Shape{.n = 2, .c = 2, .h = 1, .w = 1});
    first[0] = 1, first[1] = 9, first[2] = 1, first[3] = 0;      // (1, 1) -> bin 0, (9, 0) -> bin 1
    second[0] = 2, second[1] = 8, second[2] = 1, second[3] = 7;  // (2, 8) -> bin 2, (1, 7) -> bin 2
    estimator.add(first);
    estimator.add(second);
    CHECK(estimator.counts() == std::vector<std::uint64_t>{1, 1, 2});
    CHECK(estimator.total() == 4);
    CHECK(estimator.empirical() == std::vector<double>{0.25, 0.25, 0.5});
    CHECK(estimator.prior(0.0) == std::vector<double>{0.25, 0.25, 0.5});

    // Smoothing by hand: bins 10 apart exchange exp(-100 / 50) of their mass, 10 sqrt(2) apart exp(-4).
    const double e2 = std::exp(-2.0), e4 = std::exp(-4.0);
    const double raw[3] = {0.25 + 0.25 * e2 + 0.5 * e2, 0.25 * e2 + 0.25 + 0.5 * e4, 0.25 * e2 + 0.25 * e4 + 0.5};
    const double total = raw[0] + raw[1] + raw[2];
    const std::vector<double> smoothed = estimator.prior(5.0);
    for (int q = 0; q < 3; ++q) CHECK(smoothed[static_cast<std::size_t>(q)] == Approx(raw[q] / total).epsilon(1e-12));
}

TEST_CASE("Rebalancing weights from Zhang's prior average 1 and fall as colours get common") {
    const std::vector<double> prior = zhang_prior_vector();
    const std::vector<double> w = rebalancing_weights(prior);
    double expectation = 0.0;
    for (std::size_t q = 0; q < prior.size(); ++q) expectation += prior[q] * w[q];
    CHECK(expectation == Approx(1.0).epsilon(1e-12));
    std::vector<std::size_t> by_probability(prior.size());
    std::iota(by_probability.begin(), by_probability.end(), 0);
    std::sort(by_probability.begin(), by_probability.end(), [&](auto x, auto y) { return prior[x] < prior[y]; });
    for (std::size_t i = 1; i < by_probability.size(); ++i) {
        const auto rarer = by_probability[i - 1], commoner = by_probability[i];
        if (prior[rarer] < prior[commoner]) REQUIRE(w[rarer] > w[commoner]);
    }

    const chroma::testing::Fixture f("color_rebalancing");
    for (const auto& [lambda, key] : {std::pair{0.5, "weights_0.5"}, {0.0, "weights_0"}, {1.0, "weights_1"}}) {
        const std::vector<double> weights = rebalancing_weights(prior, lambda);
        for (std::size_t q = 0; q < prior.size(); ++q) REQUIRE(weights[q] == Approx(f[key].values[q]).epsilon(1e-12));
    }
    // lambda = 1 ignores the prior: every weight is 1.
    for (double v : rebalancing_weights(prior, 1.0)) REQUIRE(v == Approx(1.0));

    CHECK_THROWS_AS(rebalancing_weights(prior, 1.5), usage_error);
    CHECK_THROWS_WITH(rebalancing_weights(std::vector<double>{0.5, 0.0, 0.5}, 0.0), Catch::Contains("probability 0"));
    CHECK_THROWS_AS(rebalancing_weights(std::vector<double>{0.5, -0.1}), usage_error);
    CHECK_THROWS_AS(rebalancing_weights(std::vector<double>{}), usage_error);
}
