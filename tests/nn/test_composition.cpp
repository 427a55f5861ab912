// Sequential, Named, Skip (add and concat merges) and Residual: names, shapes, gradients,
// PyTorch parity, error context, and a small U-Net that learns.
#include <catch2/catch.hpp>

#include <cmath>

#include "support/gradcheck.hpp"
#include "support/composed_net.hpp"
#include "support/torch_parity.hpp"

using namespace chroma;

using chroma::testing::ComposedNet;

static_assert(ComposedNet::in_channels == 2 && ComposedNet::out_channels == 2);
static_assert(Skip<Conv2d<4, 3, 3>, Identity, Concat>::out_channels == 7, "concat adds the channels");
static_assert(Sequential<ReLU, Conv2d<3, 5, 1>, Tanh>::in_channels == 3, "channels pass through activations");

TEST_CASE("parameters get PyTorch-style hierarchical names") {
    Model<ComposedNet> model;
    const std::vector<std::string> expected = {
        "0.weight",          "0.bias",          "2.0.weight",        "2.0.bias",        "2.2.weight",
        "2.2.bias",          "2.projection.weight", "2.projection.bias", "3.conv1.weight", "3.conv1.bias",
        "3.conv2.weight",    "3.conv2.bias",    "3.downsample.weight", "3.downsample.bias", "4.weight",
        "4.bias",            "5.weight",        "5.bias"};
    CHECK(model.parameter_names() == expected);
    CHECK(model.parameter_count() == (2 * 4 * 9 + 4) + (4 * 6 * 9 + 6) + (6 * 4 * 16 + 4) + (4 * 4 + 4) +
                                         2 * (4 * 4 * 9 + 4) + (4 * 4 + 4) + (4 * 3 * 9 + 3) + (7 * 2 + 2));
}

TEST_CASE("a composed network matches its PyTorch twin") {
    chroma::testing::check_against_torch<ComposedNet>("composed_net", 1e-9);
}

TEST_CASE("Skip and Residual gradients match finite differences") {
    Rng rng(4);
    {
        Model<Skip<Sequential<Conv2d<3, 4, 3, 2, 1>, Tanh, ConvTranspose2d<4, 3, 4, 2, 1>>, Conv2d<3, 3, 1>,
                   AddThen<Tanh>>,
              cpu, double>
            unet_block(7);
        auto result = chroma::testing::check_gradients(
            unet_block, chroma::testing::random_tensor({2, 3, 6, 4}, rng), rng);
        INFO(result.worst);
        CHECK(result.max_error < 1e-6);
    }
    {
        Model<Residual<Sequential<Conv2d<3, 3, 3, 1, 1>, Sigmoid, Conv2d<3, 3, 3, 1, 1>>>, cpu, double> block(8);
        auto result =
            chroma::testing::check_gradients(block, chroma::testing::random_tensor({2, 3, 5, 5}, rng), rng);
        INFO(result.worst);
        CHECK(result.max_error < 1e-6);
    }
    {
        Model<Sequential<Skip<Conv2d<2, 3, 3, 1, 1>, Conv2d<2, 1, 1>, Concat>, Conv2d<4, 1, 1>>, cpu, double> net(9);
        auto result = chroma::testing::check_gradients(net, chroma::testing::random_tensor({2, 2, 4, 4}, rng), rng);
        INFO(result.worst);
        CHECK(result.max_error < 1e-6);
    }
}

TEST_CASE("errors inside a network name the layer's path and the shapes") {
    Model<ComposedNet> model;
    Tensor<float> x(Shape{.n = 1, .c = 3, .h = 8, .w = 8});
    CHECK_THROWS_WITH(model.forward(x), Catch::StartsWith("in layer '0': Conv2d(2->4") &&
                                            Catch::Contains("[N=1, C=3, H=8, W=8]"));
    // Odd sizes do not survive the stride-2 down and up path of layer 2: the merge says so.
    Tensor<float> odd(Shape{.n = 1, .c = 2, .h = 7, .w = 8});
    CHECK_THROWS_WITH(model.forward(odd), Catch::StartsWith("in layer '2': add then ReLU") &&
                                              Catch::Contains("[N=1, C=4, H=8, W=8]") &&
                                              Catch::Contains("[N=1, C=4, H=7, W=8]"));
    try {
        model.output_shape(Shape{.n = 1, .c = 2, .h = 7, .w = 8});
        FAIL("expected a shape_error");
    } catch (const shape_error& e) {
        CHECK(e.layer_path() == "2");
    }
}

// A small U-Net-shaped regressor: two scales, a 1x1 projection skip merged by add then ReLU.
using ToyUNet = Sequential<Conv2d<1, 8, 3, 1, same>, ReLU,
                           Skip<Sequential<Conv2d<8, 16, 3, 2, 1>, ReLU, Conv2d<16, 16, 3, 1, 1>, ReLU,
                                           ConvTranspose2d<16, 8, 4, 2, 1>>,
                                Conv2d<8, 8, 1>, AddThen<ReLU>>,
                           Conv2d<8, 2, 1>>;

TEST_CASE("a toy U-Net fits a fixed batch: the loss falls at least tenfold") {
    Model<ToyUNet> model(11);
    Rng rng(12);
    Tensor<float> x(Shape{.n = 4, .c = 1, .h = 16, .w = 16});
    Tensor<float> target(Shape{.n = 4, .c = 2, .h = 16, .w = 16});
    for (index_t n = 0; n < 4; ++n) {
        const double fx = rng.uniform(0.2, 0.6), fy = rng.uniform(0.2, 0.6), phase = rng.uniform(0, 3);
        for (index_t h = 0; h < 16; ++h)
            for (index_t w = 0; w < 16; ++w) {
                const double v = std::sin(fx * w + phase) * std::cos(fy * h);
                x(n, 0, h, w) = static_cast<float>(v);
                target(n, 0, h, w) = static_cast<float>(0.5 * v * v);        // a non-linear function of the
                target(n, 1, h, w) = static_cast<float>(v > 0 ? -0.3 : 0.2);  // input, as ab is of L
            }
    }
    Tensor<float> grad(target.shape());
    auto mse_step = [&] {
        const auto& y = model.forward(x);
        double loss = 0.0;
        for (index_t i = 0; i < y.size(); ++i) {
            const double d = y.data()[i] - target.data()[i];
            loss += d * d;
            grad.data()[i] = static_cast<float>(2.0 * d / y.size());
        }
        return loss / y.size();
    };
    optim::Sgd sgd(0.2);
    const double first = mse_step();
    double last = first;
    for (int step = 0; step < 400; ++step) {
        model.zero_grad();
        last = mse_step();
        model.backward(grad);
        sgd.step(model);
    }
    INFO("loss " << first << " -> " << last);
    CHECK(std::isfinite(last));
    CHECK(last < first / 10);
}

TEST_CASE("inference mode hands outputs on through the activation pool and computes what eval mode does") {
    // Skips with add and concat merges, a residual block, a pass-through layer and BatchNorm.
    using Net = Sequential<ComposedNet, BatchNorm2d<2>, Identity, Conv2d<2, 3, 1>>;
    Model<Net, cpu, float> evaluated(7), inferring(7);
    evaluated.eval();
    inferring.inference();
    CHECK(inferring.inference_only());
    Rng rng(3);
    for (const Shape shape : {Shape{.n = 2, .c = 2, .h = 8, .w = 8}, Shape{.n = 1, .c = 2, .h = 12, .w = 10},
                              Shape{.n = 2, .c = 2, .h = 8, .w = 8}}) {
        INFO("input " << shape.str());
        Tensor<float> x(shape);
        for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
        const Tensor<float> expected = evaluated.forward(x).clone();
        // Twice: the second call runs on the buffers the first handed back.
        for (int round = 0; round < 2; ++round) {
            const Tensor<float>& y = inferring.forward(x);
            REQUIRE(y.shape() == expected.shape());
            for (index_t i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == expected.data()[i]);
        }
    }
    // Every layer but the last gave its buffer back; a steady run takes and returns as many.
    const std::size_t pooled = ActivationPool<float, cpu>::pooled();
    CHECK(pooled >= 8);
    Tensor<float> x(Shape{.n = 2, .c = 2, .h = 8, .w = 8});
    inferring.forward(x);
    CHECK(ActivationPool<float, cpu>::pooled() == pooled);

    Tensor<float> dy(inferring.forward(x).shape());
    CHECK_THROWS_AS(inferring.backward(dy), usage_error);
    // eval() keeps the activations again, and backward works.
    inferring.eval();
    CHECK_FALSE(inferring.inference_only());
    inferring.forward(x);
    CHECK_NOTHROW(inferring.backward(dy));
}

TEST_CASE("an activation right after a convolution works in place, and the gradients stay exact") {
    using Net = Sequential<Conv2d<2, 3, 3, 1, 1>, ReLU, BatchNorm2d<3>, ReLU, Conv2d<3, 2, 1>, Tanh>;
    Model<Net, cpu, double> model(5);
    Rng rng(8);
    Tensor<double> x(Shape{.n = 2, .c = 2, .h = 5, .w = 6});
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
    const Tensor<double>& conv = model.child<0>().forward(x);
    const Tensor<double>& relu = model.child<1>().forward(conv);
    CHECK(relu.shares_storage_with(conv));  // overwrote the convolution's output
    const Tensor<double>& normalised = model.child<2>().forward(relu);
    CHECK_FALSE(model.child<3>().forward(normalised).shares_storage_with(normalised));  // BatchNorm's backward reads it
    // The whole network still differentiates exactly.
    auto result = chroma::testing::check_gradients(model, chroma::testing::random_tensor({2, 2, 5, 6}, rng), rng);
    INFO(result.worst);
    CHECK(result.max_error < 1e-6);
}

TEST_CASE("backward hands each input gradient on once it is read, and a second pass repeats the first exactly") {
    Model<ComposedNet, cpu, double> model(3);
    Rng rng(12);
    Tensor<double> x(Shape{.n = 2, .c = 2, .h = 8, .w = 8});
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(-1, 1);
    Tensor<double> dy(model.output_shape(x.shape()));
    for (index_t i = 0; i < dy.size(); ++i) dy.data()[i] = rng.uniform(-1, 1);
    const auto pass = [&] {
        model.zero_grad();
        model.forward(x);
        std::vector<Tensor<double>> results{model.backward(dy).clone()};
        model.visit_parameters([&](std::string_view, auto& p) { results.push_back(p.grad.clone()); });
        return results;
    };
    const std::size_t before = ActivationPool<double, cpu>::pooled();
    const auto first = pass();
    const std::size_t after_first = ActivationPool<double, cpu>::pooled();
    CHECK(after_first > before);  // the gradients read inside went back to the pool
    const auto second = pass();   // on the pooled buffers
    CHECK(ActivationPool<double, cpu>::pooled() == after_first);
    REQUIRE(second.size() == first.size());
    for (std::size_t r = 0; r < first.size(); ++r)
        for (index_t i = 0; i < first[r].size(); ++i) REQUIRE(second[r].data()[i] == first[r].data()[i]);
}
