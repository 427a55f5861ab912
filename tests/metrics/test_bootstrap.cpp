// The bootstrap intervals evaluate prints: against the normal-theory interval of a mean, exact
// on degenerate samples, paired where the statistic pairs, and clear about bad input.
#include <catch2/catch.hpp>

#include <chroma/metrics/bootstrap.hpp>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace chroma::metrics;

namespace {

std::vector<double> normal_sample(std::size_t n, double mean, double sd, unsigned seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<double> normal(mean, sd);
    std::vector<double> sample(n);
    for (double& x : sample) x = normal(generator);
    return sample;
}

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double standard_deviation_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double squares = 0.0;
    for (double x : v) squares += (x - m) * (x - m);
    return std::sqrt(squares / static_cast<double>(v.size() - 1));
}

}  // namespace

TEST_CASE("the bootstrap interval of a mean matches the normal-theory interval on a large sample", "[metrics][bootstrap]") {
    const auto sample = normal_sample(400, 3.0, 2.0, 7);
    const double m = mean_of(sample);
    const double half_width = 1.959964 * standard_deviation_of(sample) / std::sqrt(400.0);  // 0.2 here
    const Interval interval = bootstrap_mean_interval(sample, {.confidence = 0.95, .resamples = 4000});
    // Monte Carlo error of the 2.5% and 97.5% quantiles with 4000 resamples is about 3% of the
    // half-width; 12% leaves room without letting a wrong quantile (e.g. 90% or 99%) pass.
    CHECK(interval.low == Approx(m - half_width).margin(0.12 * half_width));
    CHECK(interval.high == Approx(m + half_width).margin(0.12 * half_width));

    // A 90% interval is the normal one with z = 1.645, nested inside the 95% one.
    const Interval narrower = bootstrap_mean_interval(sample, {.confidence = 0.90, .resamples = 4000});
    const double half_width_90 = 1.644854 * standard_deviation_of(sample) / std::sqrt(400.0);
    CHECK(narrower.low == Approx(m - half_width_90).margin(0.12 * half_width));
    CHECK(narrower.high == Approx(m + half_width_90).margin(0.12 * half_width));
    CHECK(narrower.low > interval.low);
    CHECK(narrower.high < interval.high);
}

TEST_CASE("the interval narrows as the square root of the sample size", "[metrics][bootstrap]") {
    const auto small = normal_sample(100, 0.0, 1.0, 11);
    const auto large = normal_sample(1600, 0.0, 1.0, 12);
    const Interval a = bootstrap_mean_interval(small), b = bootstrap_mean_interval(large);
    const double ratio = (a.high - a.low) / (b.high - b.low);
    CHECK(ratio == Approx(4.0).margin(0.6));
}

TEST_CASE("a sample with no spread has an interval of one point", "[metrics][bootstrap]") {
    const std::vector<double> constant(50, 1.25);
    const Interval interval = bootstrap_mean_interval(constant);
    CHECK(interval.low == 1.25);
    CHECK(interval.high == 1.25);
}

TEST_CASE("a paired difference keeps the pairs together", "[metrics][bootstrap]") {
    // Each photo's score varies a lot, but the model beats gray by exactly 1 on every photo:
    // resampling pairs gives exactly 1; resampling them separately would not.
    const auto gray = normal_sample(200, 22.0, 4.0, 3);
    std::vector<double> model(gray);
    for (double& x : model) x += 1.0;
    const Interval interval = bootstrap_difference_interval(model, gray);
    CHECK(interval.low == Approx(1.0).epsilon(1e-12));
    CHECK(interval.high == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("a ratio of sums is computed over the same resampled items", "[metrics][bootstrap]") {
    const auto truth = normal_sample(300, 40.0, 15.0, 5);
    std::vector<double> half(truth);
    for (double& x : half) x *= 0.5;
    const Interval exact = bootstrap_ratio_interval(half, truth);
    CHECK(exact.low == Approx(0.5).epsilon(1e-12));
    CHECK(exact.high == Approx(0.5).epsilon(1e-12));

    // With noise on the numerator the interval contains the sample's own ratio and has width.
    auto noisy = half;
    const auto noise = normal_sample(300, 0.0, 5.0, 6);
    for (std::size_t i = 0; i < noisy.size(); ++i) noisy[i] += noise[i];
    const double ratio = std::accumulate(noisy.begin(), noisy.end(), 0.0) / std::accumulate(truth.begin(), truth.end(), 0.0);
    const Interval interval = bootstrap_ratio_interval(noisy, truth);
    CHECK(interval.low < ratio);
    CHECK(interval.high > ratio);
    CHECK(interval.high - interval.low > 0.005);
    CHECK(interval.high - interval.low < 0.1);
}

TEST_CASE("the same seed gives the same interval", "[metrics][bootstrap]") {
    const auto sample = normal_sample(120, 0.0, 1.0, 9);
    const Interval a = bootstrap_mean_interval(sample), b = bootstrap_mean_interval(sample);
    CHECK(a.low == b.low);
    CHECK(a.high == b.high);
    const Interval c = bootstrap_mean_interval(sample, {.seed = 99});
    CHECK((c.low != a.low || c.high != a.high));
}

TEST_CASE("bootstrap intervals refuse what they cannot compute", "[metrics][bootstrap]") {
    const std::vector<double> empty, three{1, 2, 3}, two{1, 2};
    CHECK_THROWS_WITH(bootstrap_mean_interval(empty), Catch::Contains("empty"));
    CHECK_THROWS_WITH(bootstrap_mean_interval(three, {.confidence = 1.0}), Catch::Contains("confidence"));
    CHECK_THROWS_WITH(bootstrap_mean_interval(three, {.resamples = 1}), Catch::Contains("resamples"));
    CHECK_THROWS_WITH(bootstrap_difference_interval(three, two), Catch::Contains("3 values against 2"));
    CHECK_THROWS_WITH(bootstrap_ratio_interval(three, two), Catch::Contains("pair up"));
}
