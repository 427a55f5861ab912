// Frozen<Spec>: evaluation mode always, parameters left out of training, no gradient passed back
// while frozen, exact gradients once released; optimiser state that follows a release.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/nn/frozen.hpp>
#include <chroma/testing/gradient_check.hpp>

#include <algorithm>
#include <cmath>

#include "support/fixture.hpp"

using namespace chroma;
using chroma::testing::max_relative_error;

namespace {

// A frozen "backbone" (conv + BatchNorm) at the start, then a trained head.
using Backbone = Sequential<Conv2d<1, 3, 3, 1, 1>, BatchNorm2d<3>, ReLU>;
using Net = Sequential<Frozen<Backbone>, Conv2d<3, 2, 3, 1, 1>>;
using DoubleModel = Model<Net, cpu, double>;

double dot(const Tensor<double>& a, const Tensor<double>& b) {
    double sum = 0;
    for (index_t i = 0; i < a.size(); ++i) sum += a.data()[i] * b.data()[i];
    return sum;
}

void set_statistics(DoubleModel& model) {
    for (index_t c = 0; c < 3; ++c) {
        model.parameter("0.1.running_mean").value.data()[c] = 0.1 * static_cast<double>(c + 1);
        model.parameter("0.1.running_var").value.data()[c] = 0.5 + static_cast<double>(c);
    }
}

}  // namespace

TEST_CASE("Frozen: names pass through, its parameters are not counted or trained") {
    DoubleModel model(3);
    const auto names = model.parameter_names();
    CHECK(names.front() == "0.0.weight");
    CHECK(model.parameter("0.1.running_var").value.shape().n == 3);
    // Only the head trains: 3 * 2 * 9 weights + 2 biases.
    CHECK(model.parameter_count() == 56);
    CHECK_FALSE(model.parameter("0.0.weight").trainable());
    CHECK(model.parameter("1.weight").trainable());

    const Tensor<double> before = model.parameter("0.0.weight").value.clone();
    const Tensor<double> head_before = model.parameter("1.weight").value.clone();
    Rng rng(5);
    const Tensor<double> x = testing::random_tensor(Shape{.n = 2, .c = 1, .h = 6, .w = 5}, rng);
    optim::Adam<double> adam({.learning_rate = 0.1});
    model.train();
    const Tensor<double>& y = model.forward(x);
    const Tensor<double> dy = testing::random_tensor(y.shape(), rng);
    model.zero_grad();
    model.backward(dy);
    adam.step(model);
    CHECK(max_relative_error(model.parameter("0.0.weight").value, before) == 0.0);
    CHECK(max_relative_error(model.parameter("1.weight").value, head_before) > 1e-3);
}

TEST_CASE("Frozen: BatchNorm inside normalises by its running statistics while the network trains") {
    DoubleModel model(4);
    set_statistics(model);
    Rng rng(6);
    const Tensor<double> x = testing::random_tensor(Shape{.n = 3, .c = 1, .h = 5, .w = 4}, rng);
    model.eval();
    const Tensor<double> in_eval = model.forward(x).clone();
    model.train();
    const Tensor<double> in_training = model.forward(x).clone();
    CHECK(max_relative_error(in_training, in_eval) == 0.0);
    // A training forward would have moved the running mean; a frozen one leaves it.
    CHECK(model.parameter("0.1.running_mean").value.data()[0] == Approx(0.1));
    CHECK(model.parameter("0.1.num_batches_tracked").value.data()[0] == 0.0);
}

TEST_CASE("Frozen: frozen, the head's gradients are exact and nothing flows back; released, all is exact") {
    DoubleModel model(7);
    set_statistics(model);
    model.train();
    Rng rng(8);
    Tensor<double> x = testing::random_tensor(Shape{.n = 2, .c = 1, .h = 5, .w = 6}, rng);
    const Tensor<double> r = testing::random_tensor(model.output_shape(x.shape()), rng);
    auto loss = [&] { return dot(model.forward(x), r); };

    loss();
    model.zero_grad();
    const Tensor<double> dx = model.backward(r).clone();
    double largest = 0;
    for (index_t i = 0; i < dx.size(); ++i) largest = std::max(largest, std::abs(dx.data()[i]));
    CHECK(largest == 0.0);  // frozen: no gradient is passed back
    auto& head = model.parameter("1.weight");
    const Tensor<double> head_grad = head.grad.clone();
    const auto frozen_result = testing::check_gradient(head.value, head_grad, loss, "1.weight");
    INFO(frozen_result.describe());
    CHECK(frozen_result.max_error < 1e-6);

    CHECK(set_frozen_parameters(model, false, "0.") == 4);  // conv weight and bias, BatchNorm scale and shift
    CHECK(model.parameter_count() == 56 + 30 + 6);
    const auto released = testing::check_gradients(model, x, rng);
    INFO(released.describe());
    CHECK(released.max_error < 1e-6);
    CHECK(released.points > 100);
}

TEST_CASE("Frozen: an optimiser's state follows a block that is released between steps") {
    Model<Net> model(9);
    Rng rng(10);
    const Tensor<double> x64 = testing::random_tensor(Shape{.n = 2, .c = 1, .h = 4, .w = 4}, rng);
    Tensor<float> x(x64.shape());
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(x64.data()[i]);
    optim::Adam<> adam({.learning_rate = 0.01});
    auto step = [&] {
        const Tensor<float>& y = model.forward(x);
        Tensor<float> dy(y.shape());
        dy.fill(1.0f);
        model.zero_grad();
        model.backward(dy);
        adam.step(model);
    };
    step();
    std::vector<std::string> state;
    adam.visit_state([&](const std::string& name, Tensor<float>&) { state.push_back(name); });
    CHECK(state.size() == 4);  // the head's weight and bias, two moments each
    set_frozen_parameters(model, false, "");
    const Tensor<float> backbone_before = model.parameter("0.0.weight").value.clone();
    step();
    state.clear();
    adam.visit_state([&](const std::string& name, Tensor<float>&) { state.push_back(name); });
    CHECK(state.size() == 12);
    CHECK(std::find(state.begin(), state.end(), "0.0.weight.exp_avg") != state.end());
    bool moved = false;
    for (index_t i = 0; i < backbone_before.size(); ++i)
        moved = moved || model.parameter("0.0.weight").value.data()[i] != backbone_before.data()[i];
    CHECK(moved);
}
