// Optimisers against torch.optim step by step, gradient clipping, and bad options.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "support/fixture.hpp"

using namespace chroma;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

namespace {

using Probe = Model<Conv2d<3, 2, 1>, cpu, double>;  // weight [2, 3, 1, 1] and bias [2]

template <class Optimiser>
void replay(const std::string& name, Optimiser optimiser) {
    INFO("fixture optim_" << name);
    const Fixture f("optim_" + name);
    Probe model;
    for (const char* p : {"weight", "bias"}) {
        auto& value = model.parameter(p).value;
        std::copy(f[std::string("param.") + p].values.begin(), f[std::string("param.") + p].values.end(), value.data());
    }
    for (int step = 0; step < 5; ++step) {
        for (const char* p : {"weight", "bias"}) {
            const auto& grad = f["grad" + std::to_string(step) + "." + p];
            std::copy(grad.values.begin(), grad.values.end(), model.parameter(p).gradient().data());
        }
        optimiser.step(model);
        for (const char* p : {"weight", "bias"}) {
            INFO("step " << step << " " << p);
            CHECK(max_relative_error(model.parameter(p).value, f["value" + std::to_string(step) + "." + p].tensor()) <
                  1e-12);
        }
    }
}

}  // namespace

TEST_CASE("SGD matches torch.optim.SGD") {
    replay("sgd", optim::Sgd<double>(0.1));
    replay("sgd_momentum", optim::Sgd<double>({.learning_rate = 0.1, .momentum = 0.9, .dampening = 0.1,
                                               .weight_decay = 1e-2}));
    replay("sgd_nesterov",
           optim::Sgd<double>({.learning_rate = 0.05, .momentum = 0.8, .nesterov = true, .weight_decay = 1e-4}));
}

TEST_CASE("Adam and AdamW match torch.optim") {
    replay("adam", optim::Adam<double>({.learning_rate = 1e-2}));
    replay("adam_l2", optim::Adam<double>({.learning_rate = 1e-3, .beta2 = 0.99, .weight_decay = 1e-4}));
    replay("adamw", optim::Adam<double>(optim::adamw_options(1e-2, 0.1)));
    replay("adam_keras_decay", optim::Adam<double>({.learning_rate = 1e-2, .beta2 = 0.99, .decay = 0.1}));
}

TEST_CASE("gradient-norm clipping scales the global norm down to the limit") {
    Probe model;
    model.parameter("weight").gradient().fill(3.0);  // 6 values
    model.parameter("bias").gradient().fill(4.0);   // 2 values
    const double norm = std::sqrt(6 * 9.0 + 2 * 16.0);
    CHECK(optim::clip_grad_norm(model, 1.0) == Approx(norm));
    double squares = 0;
    for (const char* p : {"weight", "bias"})
        for (index_t i = 0; i < model.parameter(p).grad.size(); ++i)
            squares += model.parameter(p).grad[i] * model.parameter(p).grad[i];
    CHECK(std::sqrt(squares) == Approx(1.0).epsilon(1e-5));
    // Under the limit nothing changes.
    CHECK(optim::clip_grad_norm(model, 10.0) == Approx(1.0).epsilon(1e-5));
    CHECK(model.parameter("bias").grad[0] == Approx(4.0 / (norm + 1e-6)));
}

TEST_CASE("gradients are allocated by the first backward, and optimisers skip a parameter without one") {
    Model<Conv2d<2, 3, 3, 1, 1>, cpu, double> model(4);
    for (const char* p : {"weight", "bias"}) CHECK_FALSE(model.parameter(p).has_gradient());
    model.zero_grad();  // nothing to zero yet, nothing allocated
    CHECK(model.parameter("weight").grad.empty());
    const Tensor<double> before = model.parameter("weight").value.clone();
    optim::Adam<double> adam({.learning_rate = 0.1});
    adam.step(model);  // as PyTorch's step with every .grad None: nothing moves
    for (index_t i = 0; i < before.size(); ++i) REQUIRE(model.parameter("weight").value[i] == before[i]);

    Tensor<double> x(Shape{.n = 1, .c = 2, .h = 4, .w = 4});
    x.fill(1.0);
    Tensor<double> dy(model.forward(x).shape());
    dy.fill(1.0);
    model.backward(dy);
    REQUIRE(model.parameter("weight").has_gradient());
    CHECK(model.parameter("weight").grad.shape() == model.parameter("weight").value.shape());
    CHECK(model.parameter("bias").grad[0] == Approx(16.0));  // dL/db = sum of dy over the 4 x 4 plane
    adam.step(model);
    CHECK(model.parameter("weight").value[0] != before[0]);
    model.zero_grad();
    CHECK(model.parameter("bias").grad[0] == 0.0);
}

TEST_CASE("bad optimiser options and mismatched state are clear errors") {
    CHECK_THROWS_WITH(optim::Sgd<double>({.learning_rate = 0.1, .nesterov = true}), Catch::Contains("Nesterov"));
    CHECK_THROWS_WITH(optim::Adam<double>({.beta1 = 1.0}), Catch::Contains("betas"));
    Probe probe;
    CHECK_THROWS_AS(optim::clip_grad_norm(probe, 0.0), usage_error);
    optim::Adam<double> adam;
    Probe first;
    for (const char* p : {"weight", "bias"}) first.parameter(p).gradient();
    adam.step(first);
    Model<Conv2d<3, 4, 1>, cpu, double> other;
    for (const char* p : {"weight", "bias"}) other.parameter(p).gradient();
    CHECK_THROWS_WITH(adam.step(other), Catch::Contains("an optimiser serves one model"));
}
