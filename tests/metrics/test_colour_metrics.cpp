// Colour metrics: CIEDE2000 on Sharma, Wu and Dalal's published test data and against
// scikit-image, Zhang's AuC and its rebalanced form against NumPy and by hand, and the
// colorization report with its gray baseline.
#include <catch2/catch.hpp>

#include <chroma/metrics/auc.hpp>
#include <chroma/metrics/ciede2000.hpp>
#include <chroma/metrics/colorization_report.hpp>

#include <cmath>

#include "support/fixture.hpp"

using namespace chroma;
using chroma::testing::Fixture;

// G. Sharma, W. Wu and E. N. Dalal, "The CIEDE2000 color-difference formula: implementation
// notes, supplementary test data, and mathematical observations", Color Research and Application
// 30(1), 21-30, 2005, Table I: the 34 pairs (L1, a1, b1, L2, a2, b2) and their Delta E_00.
static const double sharma_pairs[34][7] = {
    {50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425},
    {50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615},
    {50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412},
    {50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000},
    {50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669},
    {50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195},
    {50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045},
    {50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461},
    {50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065},
    {50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492},
    {50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977},
    {50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030},
    {50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000},
    {50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000},
    {60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644},
    {63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630},
    {61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731},
    {35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645},
    {22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373},
    {36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146},
    {90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441},
    {90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381},
    {6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377},
    {2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082},
};

TEST_CASE("CIEDE2000 reproduces Sharma, Wu and Dalal's 34 test pairs") {
    for (int i = 0; i < 34; ++i) {
        const double* p = sharma_pairs[i];
        INFO("pair " << i + 1);
        CHECK(metrics::ciede2000(p[0], p[1], p[2], p[3], p[4], p[5]) == Approx(p[6]).margin(1e-4));
        // The formula is symmetric in its two colours.
        CHECK(metrics::ciede2000(p[3], p[4], p[5], p[0], p[1], p[2]) == Approx(p[6]).margin(1e-4));
    }
    CHECK(metrics::ciede2000(50, 10, -20, 50, 10, -20) == 0.0);
}

TEST_CASE("mean CIEDE2000 over Lab images matches scikit-image") {
    const Fixture f("metrics_ciede2000");
    const Tensor<double> lab = f["lab"].tensor();
    for (const std::string name : {"far", "near"}) {
        INFO(name);
        const Tensor<double> other = f[name].tensor(), expected = f["delta_e." + name].tensor();
        const index_t plane = lab.shape().plane();
        std::vector<double> expected_means(static_cast<std::size_t>(lab.shape().n), 0.0);
        for (index_t n = 0; n < lab.shape().n; ++n)
            for (index_t i = 0; i < plane; ++i) {
                const double e = expected[n * plane + i];
                expected_means[static_cast<std::size_t>(n)] += e / static_cast<double>(plane);
                const index_t at = n * 3 * plane + i;
                CHECK(metrics::ciede2000(lab[at], lab[at + plane], lab[at + 2 * plane], other[at],
                                         other[at + plane], other[at + 2 * plane]) == Approx(e).epsilon(1e-10));
            }
        const auto per_image = metrics::delta_e2000_per_image(other, lab);
        for (std::size_t n = 0; n < per_image.size(); ++n)
            CHECK(per_image[n] == Approx(expected_means[n]).epsilon(1e-10));
        CHECK(metrics::mean_delta_e2000(other, lab) ==
              Approx(0.5 * (expected_means[0] + expected_means[1])).epsilon(1e-10));
    }
}

TEST_CASE("AuC and rebalanced AuC match NumPy") {
    const Fixture f("metrics_auc");
    const Tensor<double> predicted = f["predicted_ab"].tensor(), truth = f["true_ab"].tensor();
    const Tensor<double> weights = f["weights"].tensor();
    const auto curve = metrics::ab_accuracy_curve(predicted, truth);
    const auto weighted_curve = metrics::ab_accuracy_curve(predicted, truth, &weights);
    REQUIRE(curve.size() == 151);
    for (std::size_t t = 0; t < curve.size(); ++t) {
        CHECK(curve[t] == Approx(f["curve"].values[t]).margin(1e-14));
        CHECK(weighted_curve[t] == Approx(f["weighted_curve"].values[t]).margin(1e-12));
    }
    CHECK(metrics::ab_auc(predicted, truth) == Approx(f["auc"].scalar()).epsilon(1e-12));
    CHECK(metrics::ab_auc_rebalanced(predicted, truth, weights) == Approx(f["auc_rebalanced"].scalar()).epsilon(1e-12));
}

TEST_CASE("AuC by hand") {
    // Every pixel off by (6, 8): error exactly 10, so the curve is 0 below 10 and 1 from 10 on.
    // Trapezoids: one half-step at [9, 10], then 140 full steps: (0.5 + 140) / 150.
    Tensor<double> predicted(Shape{.n = 2, .c = 2, .h = 2, .w = 2}), truth(predicted.shape());
    for (index_t n = 0; n < 2; ++n)
        for (index_t i = 0; i < 4; ++i) {
            predicted.at(n, 0, i / 2, i % 2) = 6.0;
            predicted.at(n, 1, i / 2, i % 2) = 8.0;
        }
    const auto curve = metrics::ab_accuracy_curve(predicted, truth);
    CHECK(curve[9] == 0.0);
    CHECK(curve[10] == 1.0);
    CHECK(metrics::ab_auc(predicted, truth) == Approx(140.5 / 150));
    CHECK(metrics::ab_auc(truth, truth) == 1.0);

    // Rebalanced: make one pixel exact and give it weight 3 of a total of 3 + 7 = 10.
    predicted.at(0, 0, 0, 0) = 0.0;
    predicted.at(0, 1, 0, 0) = 0.0;
    Tensor<double> weights(Shape{.n = 2, .c = 1, .h = 2, .w = 2});
    weights.fill(1.0);
    weights.at(0, 0, 0, 0) = 3.0;
    // The curve is 0.3 for t < 10 and 1 from 10 on; by trapezoids: 9 steps at 0.3 over [0, 9],
    // (0.3 + 1) / 2 over [9, 10] and 140 over [10, 150]. Unweighted, the exact pixel is 1 of 8.
    CHECK(metrics::ab_auc_rebalanced(predicted, truth, weights) == Approx((9 * 0.3 + 0.65 + 140) / 150));
    CHECK(metrics::ab_auc(predicted, truth) == Approx((9 * 0.125 + 0.5625 + 140) / 150));

    // Errors beyond 150 never count.
    Tensor<double> far(predicted.shape());
    far.fill(200.0);
    CHECK(metrics::ab_auc(far, truth) == 0.0);
}

TEST_CASE("colour metrics report shapes and weights they cannot use") {
    Tensor<double> ab(Shape{.n = 1, .c = 2, .h = 3, .w = 3}), lab(Shape{.n = 1, .c = 3, .h = 3, .w = 3});
    CHECK_THROWS_WITH(metrics::ab_auc(lab, lab.clone()), Catch::Contains("2 channels"));
    CHECK_THROWS_AS(metrics::ab_auc(ab, lab), shape_error);
    Tensor<double> wrong_weights(Shape{.n = 1, .c = 2, .h = 3, .w = 3});
    CHECK_THROWS_WITH(metrics::ab_auc_rebalanced(ab, ab.clone(), wrong_weights),
                      Catch::Contains("[N=1, C=2, H=3, W=3]") && Catch::Contains("[N=1, C=1, H=3, W=3]"));
    Tensor<double> zero_weights(Shape{.n = 1, .c = 1, .h = 3, .w = 3});
    CHECK_THROWS_AS(metrics::ab_auc_rebalanced(ab, ab.clone(), zero_weights), usage_error);
    CHECK_THROWS_AS(metrics::mean_delta_e2000(ab, ab.clone()), shape_error);
}

namespace {

/// A stand-in conversion for the report's wiring (not colour science): gray 2.55 L plus a and b
/// pushed into red and blue, clamped to [0, 255]. ab = 0 gives exactly gray.
struct ToyLabToRgb {
    int calls = 0;
    void operator()(const Tensor<double>& lab, Tensor<double>& rgb) {
        ++calls;
        rgb.resize(lab.shape());
        const index_t plane = lab.shape().plane();
        for (index_t n = 0; n < lab.shape().n; ++n)
            for (index_t i = 0; i < plane; ++i) {
                const double l = lab(n, 0, i / lab.shape().w, i % lab.shape().w) * 2.55;
                const double a = lab(n, 1, i / lab.shape().w, i % lab.shape().w);
                const double b = lab(n, 2, i / lab.shape().w, i % lab.shape().w);
                auto clamp = [](double v) { return std::min(255.0, std::max(0.0, v)); };
                rgb.data()[(n * 3 + 0) * plane + i] = clamp(l + a);
                rgb.data()[(n * 3 + 1) * plane + i] = clamp(l);
                rgb.data()[(n * 3 + 2) * plane + i] = clamp(l - b);
            }
    }
};

}  // namespace

TEST_CASE("the colorization report and its gray baseline") {
    Rng rng(8);
    const Shape ab_shape{.n = 2, .c = 2, .h = 12, .w = 14};
    Tensor<double> lightness(Shape{.n = 2, .c = 1, .h = 12, .w = 14}), true_ab(ab_shape), predicted_ab(ab_shape);
    for (index_t i = 0; i < lightness.size(); ++i) lightness[i] = rng.uniform(20, 80);
    for (index_t i = 0; i < true_ab.size(); ++i) {
        true_ab[i] = rng.uniform(-40, 40);
        predicted_ab[i] = true_ab[i] + rng.uniform(-15, 15);
    }
    Tensor<double> weights(lightness.shape());
    for (index_t i = 0; i < weights.size(); ++i) weights[i] = rng.uniform(0.5, 2);

    ToyLabToRgb to_rgb;
    const auto scores = metrics::score_colorization(lightness, predicted_ab, true_ab, to_rgb, &weights);
    CHECK(to_rgb.calls == 2);
    CHECK(scores.psnr_ab == Approx(metrics::psnr_ab(predicted_ab, true_ab)));
    CHECK(scores.auc == Approx(metrics::ab_auc(predicted_ab, true_ab)));
    REQUIRE(scores.auc_rebalanced.has_value());
    CHECK(*scores.auc_rebalanced == Approx(metrics::ab_auc_rebalanced(predicted_ab, true_ab, weights)));
    REQUIRE(scores.ssim_rgb.has_value());
    CHECK(*scores.ssim_rgb > 0.0);
    CHECK(*scores.ssim_rgb < 1.0);
    CHECK(scores.delta_e2000 > 0.0);

    // The gray baseline predicts ab = 0: its ab PSNR is that of the true ab against zeros, its
    // RGB images are gray (colourfulness 0), and its CIEDE2000 is that of each colour to its gray.
    const auto gray = metrics::gray_baseline(lightness, true_ab, to_rgb, &weights);
    const Tensor<double> zeros(ab_shape);
    CHECK(gray.psnr_ab == Approx(metrics::psnr_ab(zeros, true_ab)));
    CHECK(gray.auc == Approx(metrics::ab_auc(zeros, true_ab)));
    REQUIRE(gray.colourfulness.has_value());
    CHECK(*gray.colourfulness == 0.0);
    CHECK(*gray.true_colourfulness == Approx(*scores.true_colourfulness));
    const index_t plane = lightness.shape().plane();
    double delta_e = 0.0;
    for (index_t n = 0; n < 2; ++n)
        for (index_t i = 0; i < plane; ++i) {
            const double l = lightness[n * plane + i];
            const double a = true_ab[(2 * n) * plane + i], b = true_ab[(2 * n + 1) * plane + i];
            delta_e += metrics::ciede2000(l, 0.0, 0.0, l, a, b);
        }
    CHECK(gray.delta_e2000 == Approx(delta_e / static_cast<double>(2 * plane)));
    // The better prediction beats the baseline on every score.
    CHECK(scores.psnr_ab > gray.psnr_ab);
    CHECK(scores.delta_e2000 < gray.delta_e2000);

    // Without a conversion, only the Lab-space scores.
    const auto lab_only = metrics::gray_baseline(lightness, true_ab);
    CHECK(lab_only.psnr_ab == Approx(gray.psnr_ab));
    CHECK_FALSE(lab_only.psnr_rgb.has_value());
    CHECK_FALSE(lab_only.auc_rebalanced.has_value());
    Tensor<double> wrong_lightness(Shape{.n = 2, .c = 1, .h = 12, .w = 13});
    CHECK_THROWS_AS(metrics::gray_baseline(wrong_lightness, true_ab), shape_error);
}
