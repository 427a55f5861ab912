// Element-wise activations: gradients, PyTorch values, and numerical edge cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"
#include "support/torch_parity.hpp"

using namespace chroma;

template <class Spec>
static void require_gradients_match(std::uint64_t seed = 2) {
    Model<Spec, cpu, double> model;
    Rng rng(seed);
    // Inputs at least 0.05 away from 0 keep the finite differences off ReLU's kink.
    auto x = chroma::testing::random_tensor(Shape{.n = 2, .c = 3, .h = 4, .w = 5}, rng, -2.0, 2.0);
    for (index_t i = 0; i < x.size(); ++i)
        if (std::abs(x.data()[i]) < 0.05) x.data()[i] += 0.1;
    const auto result = chroma::testing::check_gradients(model, x, rng);
    const std::string name = layer_t<Spec, double, cpu>::describe();
    INFO(name << " worst: " << result.worst);
    CHECK(result.max_error < 1e-7);
}

TEST_CASE("activation gradients match finite differences") {
    require_gradients_match<ReLU>();
    require_gradients_match<LeakyReLU<>>();
    require_gradients_match<LeakyReLU<0.2f>>();
    require_gradients_match<Tanh>();
    require_gradients_match<Sigmoid>();
}

TEST_CASE("activations match PyTorch") {
    using chroma::testing::check_against_torch;
    check_against_torch<ReLU>("relu");
    check_against_torch<LeakyReLU<>>("leaky_relu_default", 1e-8);  // the slope is a float, as in PyTorch's API
    check_against_torch<LeakyReLU<0.2f>>("leaky_relu_0.2", 1e-8);
    check_against_torch<Tanh>("tanh");
    check_against_torch<Sigmoid>("sigmoid");
}

TEST_CASE("sigmoid and tanh stay finite for huge inputs") {
    Model<Sigmoid, cpu, float> sigmoid;
    Model<Tanh, cpu, float> tanh;
    Tensor<float> x(Shape{.n = 1, .c = 1, .h = 1, .w = 4});
    x[0] = 1e30f;
    x[1] = -1e30f;
    x[2] = 100.0f;
    x[3] = -100.0f;
    const auto& s = sigmoid.forward(x);
    CHECK(s[0] == 1.0f);
    CHECK(s[1] == 0.0f);
    CHECK(s[3] >= 0.0f);
    const auto& t = tanh.forward(x);
    CHECK(t[0] == 1.0f);
    CHECK(t[1] == -1.0f);
}
