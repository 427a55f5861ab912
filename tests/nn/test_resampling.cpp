// MaxPool2d, Upsample and Softmax: gradients against finite differences, values against PyTorch
// and hand-computed cases, and error paths.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "support/gradcheck.hpp"
#include "support/torch_parity.hpp"

using namespace chroma;
using chroma::testing::check_gradients;
using chroma::testing::random_tensor;

namespace {

/// A tensor of distinct values 0.05 apart in random order: no two elements of a pooling window
/// come within a finite-difference step of each other, so the argmax never flips.
Tensor<double> distinct_values(Shape shape, Rng& rng) {
    std::vector<double> values(static_cast<std::size_t>(shape.count()));
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.05 * static_cast<double>(i) - 1.0;
    for (std::size_t i = values.size() - 1; i > 0; --i) std::swap(values[i], values[rng.next() % (i + 1)]);
    Tensor<double> t(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

template <class Spec>
void require_gradients_match(const Tensor<double>& x, Rng& rng, double tolerance = 1e-7) {
    Model<Spec, cpu, double> model;
    const auto result = check_gradients(model, x, rng);
    const std::string name = layer_t<Spec, double, cpu>::describe();
    INFO(name << " worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < tolerance);
}

template <class Spec>
void require_gradients_match(Shape input, std::uint64_t seed) {
    Rng rng(seed);
    require_gradients_match<Spec>(random_tensor(input, rng), rng);
}

Tensor<double> tensor_of(Shape shape, std::vector<double> values) {
    Tensor<double> t(shape);
    REQUIRE(static_cast<index_t>(values.size()) == t.size());
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

template <class Spec>
void require_backward_before_forward_error(Shape input) {
    Model<Spec, cpu, float> model;
    CHECK_THROWS_WITH(model.backward(Tensor<float>(input)),
                      Catch::Contains(layer_t<Spec, float, cpu>::describe()) &&
                          Catch::Contains("backward() called before forward()"));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MaxPool2d

TEST_CASE("MaxPool2d gradients match finite differences") {
    Rng rng(31);
    require_gradients_match<MaxPool2d<2>>(distinct_values(Shape{.n = 2, .c = 3, .h = 6, .w = 7}, rng), rng);
    require_gradients_match<MaxPool2d<3, 2, 1>>(distinct_values(Shape{.n = 2, .c = 2, .h = 7, .w = 8}, rng), rng);
    // Overlapping windows: one pixel can be the maximum of several outputs.
    require_gradients_match<MaxPool2d<3, 1, 1>>(distinct_values(Shape{.n = 1, .c = 2, .h = 5, .w = 6}, rng), rng);
}

TEST_CASE("MaxPool2d matches PyTorch") {
    using chroma::testing::check_against_torch;
    check_against_torch<MaxPool2d<2>>("max_pool2d_2x2");
    check_against_torch<MaxPool2d<3, 2, 1>>("max_pool2d_3x3_s2_p1");
}

TEST_CASE("MaxPool2d gives ties to the first maximum and never picks the padding") {
    Model<MaxPool2d<2>, cpu, double> pool;
    const auto ties = tensor_of(Shape{.n = 1, .c = 1, .h = 2, .w = 2}, {3, 3, 3, 3});
    CHECK(pool.forward(ties)[0] == 3);
    const Tensor<double>& dx = pool.backward(tensor_of(Shape{.n = 1, .c = 1, .h = 1, .w = 1}, {1}));
    CHECK(dx[0] == 1);
    CHECK(dx[1] == 0);
    CHECK(dx[2] == 0);
    CHECK(dx[3] == 0);

    // All-negative input: zero padding would win every border window; -infinity padding does not.
    Model<MaxPool2d<3, 2, 1>, cpu, double> stem;
    const auto negative = tensor_of(Shape{.n = 1, .c = 1, .h = 3, .w = 3}, {-9, -8, -7, -6, -5, -4, -3, -2, -1});
    const Tensor<double>& y = stem.forward(negative);
    REQUIRE(y.shape() == Shape{.n = 1, .c = 1, .h = 2, .w = 2});
    CHECK(y[0] == -5);  // window rows -1..1, columns -1..1
    CHECK(y[1] == -4);  // rows -1..1, columns 1..3
    CHECK(y[2] == -2);  // rows 1..3, columns -1..1
    CHECK(y[3] == -1);
}

TEST_CASE("MaxPool2d output sizes follow PyTorch's floor formula") {
    const layer_t<MaxPool2d<2>, float, cpu> halve;
    const layer_t<MaxPool2d<3, 2, 1>, float, cpu> stem;
    CHECK(halve.output_shape({1, 4, 7, 8}) == Shape{1, 4, 3, 4});
    CHECK(stem.output_shape({2, 64, 112, 112}) == Shape{2, 64, 56, 56});
    CHECK(stem.output_shape({1, 3, 1, 1}) == Shape{1, 3, 1, 1});
}

TEST_CASE("MaxPool2d reports inputs smaller than its window with the layer and the shape") {
    Model<MaxPool2d<3>, cpu, float> model;
    const Tensor<float> too_small(Shape{.n = 1, .c = 2, .h = 2, .w = 5});
    CHECK_THROWS_AS(model.forward(too_small), shape_error);
    CHECK_THROWS_WITH(model.forward(too_small), Catch::Contains("MaxPool2d(kernel 3, stride 3, padding 0)") &&
                                                    Catch::Contains("[N=1, C=2, H=2, W=5]") &&
                                                    Catch::Contains("smaller than the 3x3 window"));
    require_backward_before_forward_error<MaxPool2d<2>>(Shape{.n = 1, .c = 1, .h = 2, .w = 2});
    // Positions of maxima are kept as numbers of the layer's type, exact in float below 2^24.
    Model<MaxPool2d<33, 1, 16>, cpu, float> wide;
    CHECK_THROWS_WITH(wide.forward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 1, .w = 1 << 19})),
                      Catch::Contains("MaxPool2d(kernel 33") && Catch::Contains("too wide"));
}

// ---------------------------------------------------------------------------------------------
// Upsample

TEST_CASE("Upsample gradients match finite differences") {
    require_gradients_match<Upsample<2>>(Shape{.n = 2, .c = 2, .h = 3, .w = 4}, 41);
    require_gradients_match<Upsample<3>>(Shape{.n = 1, .c = 2, .h = 2, .w = 3}, 42);
    require_gradients_match<Upsample<2, upsample_mode::bilinear>>(Shape{.n = 2, .c = 2, .h = 3, .w = 4}, 43);
    require_gradients_match<Upsample<4, upsample_mode::bilinear>>(Shape{.n = 1, .c = 2, .h = 4, .w = 3}, 44);
}

TEST_CASE("Upsample matches PyTorch on non-square inputs") {
    using chroma::testing::check_against_torch;
    check_against_torch<Upsample<2>>("upsample_nearest_x2");
    check_against_torch<Upsample<4>>("upsample_nearest_x4");
    check_against_torch<Upsample<2, upsample_mode::bilinear>>("upsample_bilinear_x2");
    check_against_torch<Upsample<4, upsample_mode::bilinear>>("upsample_bilinear_x4");
}

TEST_CASE("Upsample by hand: nearest copies blocks, bilinear clamps at the edges") {
    Model<Upsample<2>, cpu, double> nearest;
    const Tensor<double>& blocks = nearest.forward(tensor_of(Shape{.n = 1, .c = 1, .h = 2, .w = 2}, {1, 2, 3, 4}));
    const double expected_blocks[] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    for (int i = 0; i < 16; ++i) CHECK(blocks[i] == expected_blocks[i]);

    // Source columns (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (second tap
    // clamped to the last pixel).
    Model<Upsample<2, upsample_mode::bilinear>, cpu, double> bilinear;
    const Tensor<double>& ramp = bilinear.forward(tensor_of(Shape{.n = 1, .c = 1, .h = 1, .w = 2}, {0, 1}));
    REQUIRE(ramp.shape() == Shape{.n = 1, .c = 1, .h = 2, .w = 4});
    const double expected_ramp[] = {0, 0.25, 0.75, 1};
    for (int row = 0; row < 2; ++row)
        for (int i = 0; i < 4; ++i) CHECK(ramp[row * 4 + i] == Approx(expected_ramp[i]).epsilon(1e-15));
    // The gradient of the sum is how much each input pixel contributes: 0.75 + 0.25 + 0 + 0 per
    // row to the first, the rest to the second.
    Tensor<double> ones(ramp.shape());
    ones.fill(1);
    const Tensor<double>& dx = bilinear.backward(ones);
    CHECK(dx[0] == Approx(2 * (1 + 0.75 + 0.25)));
    CHECK(dx[1] == Approx(2 * (0.25 + 0.75 + 1)));
}

TEST_CASE("Upsample shapes and descriptions") {
    const layer_t<Upsample<4, upsample_mode::bilinear>, float, cpu> zhang;
    CHECK(zhang.output_shape({1, 2, 56, 64}) == Shape{1, 2, 224, 256});
    CHECK(zhang.describe() == "Upsample(x4, bilinear)");
    CHECK(layer_t<Upsample<2>, float, cpu>::describe() == "Upsample(x2, nearest)");
    Model<Upsample<2>, cpu, float> model;
    CHECK_THROWS_AS(model.forward(Tensor<float>(Shape{.n = 1, .c = 0, .h = 2, .w = 2})), shape_error);
    require_backward_before_forward_error<Upsample<2>>(Shape{.n = 1, .c = 1, .h = 4, .w = 4});
    model.forward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 2, .w = 2}));
    CHECK_THROWS_WITH(model.backward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 2, .w = 2})),
                      Catch::Contains("Upsample(x2, nearest)") && Catch::Contains("[N=1, C=1, H=4, W=4]"));
}

// ---------------------------------------------------------------------------------------------
// Softmax

TEST_CASE("Softmax gradients match finite differences") {
    require_gradients_match<Softmax>(Shape{.n = 2, .c = 7, .h = 3, .w = 4}, 51);
    require_gradients_match<Softmax>(Shape{.n = 1, .c = 1, .h = 2, .w = 2}, 52);  // one channel: constant 1
}

TEST_CASE("Softmax matches PyTorch") {
    chroma::testing::check_against_torch<Softmax>("softmax_channels");
}

TEST_CASE("Softmax over 313 channels matches a direct per-pixel computation") {
    // 17 x 19 = 323 pixels: more than one pixel block, the last one partial.
    Rng rng(53);
    const auto x = random_tensor(Shape{.n = 2, .c = 313, .h = 17, .w = 19}, rng, -8, 8);
    const auto dy = random_tensor(x.shape(), rng);
    Model<Softmax, cpu, double> model;
    const Tensor<double>& y = model.forward(x);
    const Tensor<double>& dx = model.backward(dy);
    const index_t plane = x.shape().plane();
    double worst = 0, worst_sum = 0;
    for (index_t n = 0; n < 2; ++n)
        for (index_t p = 0; p < plane; ++p) {
            auto at = [&](const Tensor<double>& t, index_t c) { return t.data()[(n * 313 + c) * plane + p]; };
            double top = at(x, 0);
            for (index_t c = 1; c < 313; ++c) top = std::max(top, at(x, c));
            double sum = 0, dot = 0;
            for (index_t c = 0; c < 313; ++c) sum += std::exp(at(x, c) - top);
            for (index_t c = 0; c < 313; ++c) dot += at(dy, c) * std::exp(at(x, c) - top) / sum;
            double total = 0;
            for (index_t c = 0; c < 313; ++c) {
                const double expected = std::exp(at(x, c) - top) / sum;
                worst = std::max(worst, std::abs(at(y, c) - expected));
                worst = std::max(worst, std::abs(at(dx, c) - expected * (at(dy, c) - dot)));
                total += at(y, c);
            }
            worst_sum = std::max(worst_sum, std::abs(total - 1));
        }
    CHECK(worst < 1e-14);
    CHECK(worst_sum < 1e-12);
}

TEST_CASE("Softmax stays finite for huge logits and gives the single-thread result on several threads") {
    Model<Softmax, cpu, float> model;
    Tensor<float> x(Shape{.n = 1, .c = 3, .h = 1, .w = 2});
    const float logits[] = {1000.0f, -1000.0f, 1001.0f, 3e38f, 1000.0f, -3e38f};  // channel-major
    std::copy(std::begin(logits), std::end(logits), x.data());
    const Tensor<float>& y = model.forward(x);
    for (index_t i = 0; i < y.size(); ++i) REQUIRE(std::isfinite(y[i]));
    const double e = std::exp(1.0);
    CHECK(y[0] == Approx(1 / (1 + e + 1)).epsilon(1e-6));
    CHECK(y[2] == Approx(e / (1 + e + 1)).epsilon(1e-6));
    CHECK(y[3] == 1.0f);
    CHECK(y[1] == 0.0f);

    Rng rng(54);
    Tensor<float> big(Shape{.n = 3, .c = 313, .h = 20, .w = 30});
    for (index_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(rng.uniform(-5, 5));
    const int threads = cpu::threads();
    cpu::set_threads(1);
    const Tensor<float> single = model.forward(big).clone();
    cpu::set_threads(std::max(2, threads));
    const Tensor<float>& multi = model.forward(big);
    cpu::set_threads(threads);
    for (index_t i = 0; i < big.size(); ++i) REQUIRE(multi[i] == single[i]);
}

TEST_CASE("Softmax reports misuse with its name and the shape") {
    require_backward_before_forward_error<Softmax>(Shape{.n = 1, .c = 3, .h = 2, .w = 2});
    Model<Softmax, cpu, float> model;
    model.forward(Tensor<float>(Shape{.n = 1, .c = 3, .h = 2, .w = 2}));
    CHECK_THROWS_WITH(model.backward(Tensor<float>(Shape{.n = 1, .c = 2, .h = 2, .w = 2})),
                      Catch::Contains("Softmax") && Catch::Contains("[N=1, C=2, H=2, W=2]"));
}
