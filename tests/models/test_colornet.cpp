// ColorNet (seed 000): the autoencoder and the U-Net, parameter counts against the paper, shapes,
// names, errors, and parity with their PyTorch twins (tests/reference/model_fixtures.py).
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/colornet.hpp>

#include "models/formula_weights.hpp"

using namespace chroma;
using chroma::models::ColorNetAutoencoder;
using chroma::models::ColorNetUNet;
using chroma::testing::Fixture;

static_assert(ColorNetAutoencoder::in_channels == 1 && ColorNetAutoencoder::out_channels == 2);
static_assert(ColorNetUNet::in_channels == 1 && ColorNetUNet::out_channels == 2);

TEST_CASE("ColorNet autoencoder: the paper's 31,091,010 parameters, 64x64 in and out") {
    Model<ColorNetAutoencoder> model(1);
    // Blocks 1-10 and the output conv (weights + biases + BatchNorm scale and shift):
    // 37,696 + 221,696 + 1,475,840 + 5,900,800 + 3 x 7,080,448 + 1,770,496 + 295,296 + 147,584 + 258.
    CHECK(model.parameter_count() == 31'091'010);
    CHECK(Fixture("model_colornet")["count.autoencoder"].scalar() == 31'091'010);

    model.eval();
    const Tensor<float> l(Shape{.n = 2, .c = 1, .h = 64, .w = 64});
    CHECK(model.forward(l).shape() == Shape{.n = 2, .c = 2, .h = 64, .w = 64});
    // Not square, a multiple of 8: the size comes back.
    CHECK(model.output_shape(Shape{.n = 1, .c = 1, .h = 48, .w = 80}) == Shape{.n = 1, .c = 2, .h = 48, .w = 80});
    // Otherwise, subsampling rounds up and upsampling doubles: 8 * ceil(size / 8).
    CHECK(model.output_shape(Shape{.n = 1, .c = 1, .h = 60, .w = 64}) == Shape{.n = 1, .c = 2, .h = 64, .w = 64});

    const auto names = model.parameter_names();
    CHECK(names.front() == "model1.0.weight");
    CHECK(std::count(names.begin(), names.end(), "model8.4.running_var") == 1);  // block 8's BatchNorm
    CHECK(std::count(names.begin(), names.end(), "model10.0.weight") == 1);
    CHECK(names.back() == "model_out.0.bias");
}

TEST_CASE("ColorNet U-Net: the paper's 31,104,450 parameters, skips named as the released code") {
    Model<ColorNetUNet> model(2);
    // The autoencoder's count with block 10 at 64 wide (73,792 instead of 147,584), the output conv
    // at 64 -> 2 (130), and the skips' 1x1 conv + BatchNorm: 66,304 + 16,768 + 4,288.
    CHECK(model.parameter_count() == 31'104'450);
    CHECK(Fixture("model_colornet")["count.unet"].scalar() == 31'104'450);

    model.eval();
    const Tensor<float> l(Shape{.n = 1, .c = 1, .h = 64, .w = 64});
    CHECK(model.forward(l).shape() == Shape{.n = 1, .c = 2, .h = 64, .w = 64});
    CHECK(model.output_shape(Shape{.n = 3, .c = 1, .h = 32, .w = 96}) == Shape{.n = 3, .c = 2, .h = 32, .w = 96});

    for (const char* name : {"model2.2.weight", "model8.1.weight", "model9.3.running_mean", "model10.1.bias",
                              "skip3_8.0.weight", "skip3_8.1.running_var", "skip2_9.0.bias", "skip1_10.1.weight",
                              "model_out.0.weight"})
        CHECK_NOTHROW(model.parameter(name));
    // A size the stride-2 path cannot bring back names the merge that fails.
    CHECK_THROWS_AS(model.output_shape(Shape{.n = 1, .c = 1, .h = 60, .w = 64}), shape_error);
}

TEST_CASE("ColorNet models reject a wrong channel count, naming the first layer") {
    Model<ColorNetAutoencoder> autoencoder(3);
    Model<ColorNetUNet> unet(4);
    const Tensor<float> rgb(Shape{.n = 1, .c = 3, .h = 64, .w = 64});
    CHECK_THROWS_WITH(autoencoder.forward(rgb), Catch::StartsWith("in layer 'model1.0': Conv2d(1->64") &&
                                                    Catch::Contains("[N=1, C=3, H=64, W=64]"));
    CHECK_THROWS_WITH(unet.forward(rgb), Catch::StartsWith("in layer 'model1.0': Conv2d(1->64"));
}

// Block 10's LeakyReLU takes its slope as a float template argument, so a double model multiplies
// by 0.2f = 0.20000000298...: double parity holds to 1e-7 here instead of 1e-8.
TEST_CASE("ColorNet models match their PyTorch twins in evaluation and training mode") {
    const Fixture f("model_colornet");
    constexpr double double_tolerance = 1e-7;
    SECTION("autoencoder") {
        chroma::testing::check_formula_parity<ColorNetAutoencoder>(f["input"].tensor(), f["output"].tensor(), false,
                                                                   double_tolerance);
        chroma::testing::check_formula_parity<ColorNetAutoencoder>(f["input"].tensor(), f["output_train"].tensor(),
                                                                   true, double_tolerance);
    }
    SECTION("U-Net") {
        chroma::testing::check_formula_parity<ColorNetUNet>(f["unet_input"].tensor(), f["unet_output"].tensor(), false,
                                                            double_tolerance);
        chroma::testing::check_formula_parity<ColorNetUNet>(f["unet_input"].tensor(),
                                                            f["unet_output_train"].tensor(), true,
                                                            double_tolerance);
    }
}
