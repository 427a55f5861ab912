// Image metrics: PSNR and SSIM against scikit-image, colourfulness against NumPy and by hand,
// and the errors for shapes the metrics cannot use.
#include <catch2/catch.hpp>

#include <chroma/metrics/colourfulness.hpp>
#include <chroma/metrics/psnr.hpp>
#include <chroma/metrics/ssim.hpp>

#include <cmath>
#include <limits>

#include "support/fixture.hpp"

using namespace chroma;
using chroma::testing::Fixture;

namespace {

const char* const image_cases[] = {"random", "smooth", "gray", "fractional"};

Tensor<float> to_float(const Tensor<double>& t) {
    Tensor<float> result(t.shape());
    for (index_t i = 0; i < t.size(); ++i) result[i] = static_cast<float>(t[i]);
    return result;
}

}  // namespace

TEST_CASE("SSIM matches scikit-image's Gaussian structural_similarity") {
    const Fixture f("metrics_images");
    for (const std::string name : image_cases) {
        INFO(name);
        const Tensor<double> prediction = f[name + ".prediction"].tensor(), target = f[name + ".target"].tensor();
        const std::vector<double> expected = f[name + ".ssim"].values;
        const std::vector<double> per_image = metrics::ssim_per_image(prediction, target);
        REQUIRE(per_image.size() == expected.size());
        double mean = 0.0;
        for (std::size_t n = 0; n < expected.size(); ++n) {
            CHECK(per_image[n] == Approx(expected[n]).margin(1e-10));
            mean += expected[n] / static_cast<double>(expected.size());
        }
        CHECK(metrics::ssim(prediction, target) == Approx(mean).margin(1e-10));
        // 8-bit values are exact in float; the metric still sums in double.
        CHECK(metrics::ssim(to_float(prediction), to_float(target)) == Approx(mean).margin(1e-6));
    }
}

TEST_CASE("SSIM of an image with itself is 1, and the window is scipy's") {
    const Fixture f("metrics_images");
    const Tensor<double> image = f["smooth.prediction"].tensor();
    CHECK(metrics::ssim(image, image) == Approx(1.0).margin(1e-12));
    const std::vector<double> window = metrics::gaussian_window({});
    REQUIRE(window.size() == 11);  // radius int(3.5 * 1.5 + 0.5) = 5
    double sum = 0.0;
    for (const double w : window) sum += w;
    CHECK(sum == Approx(1.0));
    CHECK(window[5] / window[4] == Approx(std::exp(0.5 / 2.25)));
}

TEST_CASE("PSNR matches scikit-image, per image and averaged") {
    const Fixture f("metrics_images");
    for (const std::string name : image_cases) {
        INFO(name);
        const Tensor<double> prediction = f[name + ".prediction"].tensor(), target = f[name + ".target"].tensor();
        const std::vector<double> expected = f[name + ".psnr"].values;
        const std::vector<double> per_image = metrics::psnr_per_image(prediction, target, metrics::rgb8_peak);
        REQUIRE(per_image.size() == expected.size());
        double mean = 0.0;
        for (std::size_t n = 0; n < expected.size(); ++n) {
            CHECK(per_image[n] == Approx(expected[n]).epsilon(1e-12));
            mean += expected[n] / static_cast<double>(expected.size());
        }
        CHECK(metrics::psnr(prediction, target, 255.0) == Approx(mean).epsilon(1e-12));
    }
    const Tensor<double> random = f["random.prediction"].tensor(), random_target = f["random.target"].tensor();
    CHECK(metrics::psnr_rgb(random, random_target) == Approx(metrics::psnr(random, random_target, 255.0)));
}

TEST_CASE("PSNR by hand: ab peak, and identical images") {
    // An ab error of 11 everywhere: MSE 121, PSNR = 10 log10(220^2 / 121) = 20 log10(20).
    Tensor<double> prediction(Shape{.n = 1, .c = 2, .h = 2, .w = 3}), target(prediction.shape());
    prediction.fill(11.0);
    CHECK(metrics::psnr_ab(prediction, target) == Approx(20.0 * std::log10(20.0)));
    CHECK(metrics::psnr_ab(prediction, target, 110.0) == Approx(20.0 * std::log10(10.0)));
    CHECK(metrics::psnr(target, target, 255.0) == std::numeric_limits<double>::infinity());
}

TEST_CASE("colourfulness matches NumPy and hand-computed values") {
    const Fixture f("metrics_colourfulness");
    const Tensor<double> rgb = f["rgb"].tensor();
    const std::vector<double> expected = f["colourfulness"].values;
    const std::vector<double> per_image = metrics::colourfulness_per_image(rgb);
    REQUIRE(per_image.size() == expected.size());
    for (std::size_t n = 0; n < expected.size(); ++n) CHECK(per_image[n] == Approx(expected[n]).epsilon(1e-12));

    // Gray (R = G = B, any level): rg = yb = 0 everywhere, so M = 0.
    Tensor<double> gray(Shape{.n = 1, .c = 3, .h = 2, .w = 2});
    for (index_t i = 0; i < 4; ++i) gray[i] = gray[i + 4] = gray[i + 8] = 40.0 * static_cast<double>(i);
    CHECK(metrics::colourfulness(gray) == 0.0);

    // Half pure red (255, 0, 0), half pure blue (0, 0, 255):
    //   rg = 255 and 0      -> mean 127.5,  sd 127.5
    //   yb = 127.5 and -255 -> mean -63.75, sd 191.25
    //   M = sqrt(127.5^2 + 191.25^2) + 0.3 sqrt(127.5^2 + 63.75^2) = 229.8539... + 0.3 * 142.5493...
    Tensor<double> two_colours(Shape{.n = 1, .c = 3, .h = 1, .w = 2});
    two_colours.at(0, 0, 0, 0) = 255.0;
    two_colours.at(0, 2, 0, 1) = 255.0;
    const double expected_m =
        std::sqrt(127.5 * 127.5 + 191.25 * 191.25) + 0.3 * std::sqrt(127.5 * 127.5 + 63.75 * 63.75);
    CHECK(expected_m == Approx(272.6187).epsilon(1e-6));
    CHECK(metrics::colourfulness(two_colours) == Approx(expected_m).epsilon(1e-14));
}

TEST_CASE("image metrics report shapes they cannot use") {
    Tensor<double> a(Shape{.n = 1, .c = 3, .h = 12, .w = 12}), b(Shape{.n = 1, .c = 3, .h = 12, .w = 13});
    CHECK_THROWS_WITH(metrics::ssim(a, b), Catch::Contains("[N=1, C=3, H=12, W=12]") &&
                                               Catch::Contains("[N=1, C=3, H=12, W=13]"));
    Tensor<double> small(Shape{.n = 1, .c = 3, .h = 10, .w = 40});
    CHECK_THROWS_WITH(metrics::ssim(small, small.clone()),
                      Catch::Contains("11 x 11") && Catch::Contains("[N=1, C=3, H=10, W=40]"));
    CHECK_THROWS_AS(metrics::psnr(a, b, 255.0), shape_error);
    CHECK_THROWS_AS(metrics::psnr(a, a.clone(), 0.0), usage_error);
    Tensor<double> two_channels(Shape{.n = 1, .c = 2, .h = 4, .w = 4});
    CHECK_THROWS_WITH(metrics::psnr_rgb(two_channels, two_channels.clone()), Catch::Contains("3 channels"));
    CHECK_THROWS_AS(metrics::colourfulness(two_channels), shape_error);
    CHECK_THROWS_AS(metrics::psnr_ab(a, a.clone()), shape_error);
}
