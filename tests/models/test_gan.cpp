// The conditional-GAN parts (seed 004): the patch discriminator on (L, ab), the EBGAN
// autoencoder discriminator, and the regression generator whose noise is dropout.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/gan.hpp>

#include <algorithm>
#include <cmath>

#include "models/formula_weights.hpp"

using namespace chroma;
using namespace chroma::models;

static_assert(PatchDiscriminator::in_channels == 3 && PatchDiscriminator::out_channels == 1);
static_assert(EnergyDiscriminator::in_channels == 3 && EnergyDiscriminator::out_channels == 3);
static_assert(ZhangRegressionGenerator::in_channels == 1 && ZhangRegressionGenerator::out_channels == 2);

TEST_CASE("patch discriminator: one score per patch of (L, ab)") {
    Model<PatchDiscriminator> d(1);
    // 3,136 + (131,072 + 256) + (524,288 + 512) + (2,097,152 + 1,024) + 8,193.
    CHECK(d.parameter_count() == 2'765'633);
    d.eval();
    const Tensor<float> l(Shape{.n = 2, .c = 1, .h = 64, .w = 64});
    const Tensor<float> ab(Shape{.n = 2, .c = 2, .h = 64, .w = 64});
    const Tensor<float> pair = condition_on_l(l, ab);
    CHECK(pair.shape() == Shape{.n = 2, .c = 3, .h = 64, .w = 64});
    CHECK(d.forward(pair).shape() == Shape{.n = 2, .c = 1, .h = 6, .w = 6});
    CHECK(d.output_shape(Shape{.n = 1, .c = 3, .h = 256, .w = 176}) == Shape{.n = 1, .c = 1, .h = 30, .w = 20});

    CHECK_THROWS_AS(condition_on_l(l, l), shape_error);
    CHECK_THROWS_WITH(d.forward(ab), Catch::StartsWith("in layer '0': Conv2d(3->64, kernel 4"));
}

TEST_CASE("EBGAN discriminator: an autoencoder whose reconstruction has the input's shape") {
    Model<EnergyDiscriminator> d(2);
    // encoder 3,136 + 131,328; decoder 131,072 + 128 (BatchNorm) + 3,075.
    CHECK(d.parameter_count() == 268'739);
    CHECK(d.parameter("encoder.2.weight").value.shape() == Shape{.n = 128, .c = 64, .h = 4, .w = 4});
    CHECK(d.parameter("decoder.3.bias").value.shape() == Shape{.n = 3, .c = 1, .h = 1, .w = 1});
    d.eval();
    CHECK(d.forward(Tensor<float>(Shape{.n = 2, .c = 3, .h = 64, .w = 48})).shape() ==
          Shape{.n = 2, .c = 3, .h = 64, .w = 48});
}

TEST_CASE("regression generator: ab at the input size, dropout noise only in training") {
    Model<ZhangRegressionGenerator, cpu, float> g(3);
    // ECCV16's classifier without its 1x1 conv to 313 bins (80,441), with a 1x1 conv to ab (514).
    CHECK(g.parameter_count() == 32'235'385 - 80'441 + 514);
    chroma::testing::fill_formula(g);

    Tensor<float> l(Shape{.n = 1, .c = 1, .h = 32, .w = 32});
    for (index_t i = 0; i < l.size(); ++i) l.data()[i] = static_cast<float>(0.4 * std::sin(0.3 * i));

    g.eval();
    const Tensor<float> a = g.forward(l).clone();
    CHECK(a.shape() == Shape{.n = 1, .c = 2, .h = 32, .w = 32});
    CHECK(chroma::testing::max_relative_error(chroma::testing::to_double(g.forward(l)),
                                              chroma::testing::to_double(a)) == 0.0);
    float largest = 0.0f;
    for (index_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(a.data()[i]));
    CHECK(largest < 1.0f);  // tanh: ab / 110

    g.train();
    const Tensor<float> b = g.forward(l).clone();
    const Tensor<float> c = g.forward(l).clone();
    CHECK(chroma::testing::max_relative_error(chroma::testing::to_double(b), chroma::testing::to_double(c)) > 1e-3);
}
