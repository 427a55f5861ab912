// Simulated user hints (data/hints.hpp): each revealed patch carries the truth's mean over it,
// the number of points follows the geometric law, the places lean to the middle, and a seed
// repeats them.
#include <catch2/catch.hpp>

#include <chroma/data/hints.hpp>

#include <cmath>

using namespace chroma;

namespace {

/// ab [N,2,H,W] with a = x + 0.5 y and b = 2x - y, so every patch has its own mean.
Tensor<float> gradient_ab(index_t n, index_t h, index_t w) {
    Tensor<float> ab(Shape{.n = n, .c = 2, .h = h, .w = w});
    for (index_t i = 0; i < n; ++i)
        for (index_t y = 0; y < h; ++y)
            for (index_t x = 0; x < w; ++x) {
                ab.data()[(i * 2 + 0) * h * w + y * w + x] = static_cast<float>(x + 0.5 * y);
                ab.data()[(i * 2 + 1) * h * w + y * w + x] = static_cast<float>(2 * x - y);
            }
    return ab;
}

}  // namespace

TEST_CASE("a hint patch reveals the truth's mean over exactly that patch") {
    const Tensor<float> truth = gradient_ab(20, 24, 32);
    Rng rng(3);
    const auto hints = data::simulate_hints(truth, rng, {.stop_probability = 1e-12, .smallest_patch = 3,
                                                         .largest_patch = 3, .most_points = 1});
    const index_t plane = 24 * 32;
    for (index_t n = 0; n < 20; ++n) {
        // One 3 x 3 patch: find its corner from the mask.
        index_t count = 0, y0 = 1000, x0 = 1000;
        for (index_t y = 0; y < 24; ++y)
            for (index_t x = 0; x < 32; ++x)
                if (hints.mask.data()[n * plane + y * 32 + x] == 1.0f) {
                    ++count;
                    y0 = std::min(y0, y);
                    x0 = std::min(x0, x);
                }
        REQUIRE(count == 9);
        // The mean of x + 0.5 y over the patch is the value at its centre; so for 2x - y.
        const float want_a = static_cast<float>((x0 + 1) + 0.5 * (y0 + 1)), want_b = static_cast<float>(2 * (x0 + 1) - (y0 + 1));
        for (index_t y = 0; y < 24; ++y)
            for (index_t x = 0; x < 32; ++x) {
                const index_t i = y * 32 + x;
                const bool inside = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3;
                REQUIRE(hints.mask.data()[n * plane + i] == (inside ? 1.0f : 0.0f));
                REQUIRE(hints.ab.data()[n * 2 * plane + i] == Approx(inside ? want_a : 0.0f).margin(1e-5));
                REQUIRE(hints.ab.data()[(n * 2 + 1) * plane + i] == Approx(inside ? want_b : 0.0f).margin(1e-5));
            }
    }
}

TEST_CASE("hint points are geometric in number, lean to the middle, and repeat with the seed") {
    const index_t images = 2000, side = 64;
    const Tensor<float> truth = gradient_ab(images, side, side);
    Rng rng(7);
    const auto hints = data::simulate_hints(truth, rng, {.smallest_patch = 1, .largest_patch = 1});
    double revealed = 0, middle = 0;
    for (index_t i = 0; i < images * side * side; ++i) {
        if (hints.mask.data()[i] != 1.0f) continue;
        ++revealed;
        const index_t x = i % side, y = (i / side) % side;
        middle += x >= side / 4 && x < 3 * side / 4 && y >= side / 4 && y < 3 * side / 4;
    }
    // Geometric with stop probability 1/8: 7 points an image on average (standard error 0.17 here;
    // single pixels on 64 x 64 rarely coincide).
    CHECK(revealed / images == Approx(7.0).margin(0.5));
    // A normal of quarter spread puts about 0.68^2 = 0.47 of the points in the middle quarter of
    // the area (uniform places: 0.25).
    CHECK(middle / revealed == Approx(0.47).margin(0.05));

    Rng again(7), other(8);
    const auto same = data::simulate_hints(truth, again, {.smallest_patch = 1, .largest_patch = 1});
    const auto different = data::simulate_hints(truth, other, {.smallest_patch = 1, .largest_patch = 1});
    bool all_same = true, any_different = false;
    for (index_t i = 0; i < hints.mask.size(); ++i) {
        all_same = all_same && same.mask.data()[i] == hints.mask.data()[i];
        any_different = any_different || different.mask.data()[i] != hints.mask.data()[i];
    }
    CHECK(all_same);
    CHECK(any_different);
}

TEST_CASE("hints refuse what is not ab and options that make no sense") {
    Rng rng(1);
    CHECK_THROWS_WITH(data::simulate_hints(Tensor<float>(Shape{.n = 1, .c = 3, .h = 4, .w = 4}), rng),
                      Catch::Contains("[N=1, C=3, H=4, W=4]"));
    CHECK_THROWS_AS(data::simulate_hints(gradient_ab(1, 4, 4), rng, {.stop_probability = 0.0}), usage_error);
    CHECK_THROWS_AS(data::simulate_hints(gradient_ab(1, 4, 4), rng, {.smallest_patch = 5, .largest_patch = 3}), usage_error);
    // A patch larger than the image is cut to it: an image's mask is all 0 (no point) or all 1.
    const auto tiny = data::simulate_hints(gradient_ab(50, 2, 3), rng, {.smallest_patch = 9, .largest_patch = 9});
    int revealed = 0;
    for (index_t n = 0; n < 50; ++n) {
        const float first = tiny.mask.data()[n * 6];
        for (index_t i = 0; i < 6; ++i) REQUIRE(tiny.mask.data()[n * 6 + i] == first);
        revealed += first == 1.0f;
    }
    CHECK(revealed > 30);  // seven in eight images have at least one point
}
