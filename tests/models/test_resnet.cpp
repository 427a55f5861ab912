// The ResNet-18-encoder autoencoder (seed 002): parameter counts, torchvision's and
// Melas-Kyriazi's names, sizes 224 and 608 and a non-square one, errors, and parity with the
// PyTorch twin in evaluation and training mode.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/resnet_autoencoder.hpp>

#include <algorithm>

#include "models/formula_weights.hpp"

using namespace chroma;
using namespace chroma::models;
using chroma::testing::Fixture;

static_assert(ResNet18Encoder::in_channels == 1 && ResNet18Encoder::out_channels == 128);
static_assert(ResNetAutoencoder::in_channels == 1 && ResNetAutoencoder::out_channels == 2);

namespace {
bool has_name(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

TEST_CASE("ResNet-18 encoder: torchvision's first six children, named by their index") {
    Model<ResNet18Encoder> encoder(1);
    // conv1 3,136 + bn1 128 + layer1 2 x 73,984 + layer2 (230,144 with the downsample + 295,424).
    CHECK(encoder.parameter_count() == 676'800);
    const auto names = encoder.parameter_names();
    for (const char* name : {"0.weight", "1.weight", "1.running_var", "4.0.conv1.weight", "4.1.bn2.bias",
                             "5.0.conv1.weight", "5.0.downsample.0.weight", "5.0.downsample.1.running_mean",
                             "5.1.conv2.weight"})
        CHECK(has_name(names, name));
    CHECK_FALSE(has_name(names, "0.bias"));                   // ResNet convs have no bias
    CHECK_FALSE(has_name(names, "4.0.downsample.0.weight"));  // layer1 keeps the identity shortcut
    CHECK(encoder.parameter("0.weight").value.shape() == Shape{.n = 64, .c = 1, .h = 7, .w = 7});
    CHECK(encoder.output_shape(Shape{.n = 1, .c = 1, .h = 224, .w = 224}) ==
          Shape{.n = 1, .c = 128, .h = 28, .w = 28});
}

TEST_CASE("ResNet autoencoder: 954,722 parameters, ab at 224, 608 and non-square sizes") {
    Model<ResNetAutoencoder> model(2);
    // Encoder 676,800 + decoder 147,840 + 73,920 + 37,056 + 18,528 + 578.
    CHECK(model.parameter_count() == 954'722);
    const auto names = model.parameter_names();
    CHECK(has_name(names, "midlevel_resnet.5.0.downsample.0.weight"));
    CHECK(has_name(names, "upsample.0.weight"));
    CHECK(has_name(names, "upsample.14.bias"));  // the last conv, 32 -> 2

    model.eval();
    CHECK(model.forward(Tensor<float>(Shape{.n = 2, .c = 1, .h = 224, .w = 224})).shape() ==
          Shape{.n = 2, .c = 2, .h = 224, .w = 224});
    CHECK(model.forward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 608, .w = 608})).shape() ==
          Shape{.n = 1, .c = 2, .h = 608, .w = 608});
    CHECK(model.output_shape(Shape{.n = 1, .c = 1, .h = 224, .w = 608}) == Shape{.n = 1, .c = 2, .h = 224, .w = 608});

    CHECK_THROWS_WITH(model.forward(Tensor<float>(Shape{.n = 1, .c = 3, .h = 224, .w = 224})),
                      Catch::StartsWith("in layer 'midlevel_resnet.0': Conv2d(1->64, kernel 7"));
}

TEST_CASE("ResNet autoencoder matches its PyTorch twin in evaluation and training mode") {
    const Fixture f("model_resnet");
    // Training forwards first bring the running statistics near the batch's (see the fixture).
    const int warmup = static_cast<int>(f["warmup"].scalar());
    CHECK(warmup == 20);
    chroma::testing::check_formula_parity<ResNetAutoencoder>(f["input"].tensor(), f["output"].tensor(), false, 1e-8,
                                                             1e-4, warmup);
    chroma::testing::check_formula_parity<ResNetAutoencoder>(f["input"].tensor(), f["output_train"].tensor(), true,
                                                             1e-8, 1e-4, warmup);
}
