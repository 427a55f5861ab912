// Regression losses: values and gradients against PyTorch, gradients against finite differences,
// seed 000's per-image reduction by hand, float against double, thread-count independence, and
// the errors for mismatched shapes.
#include <catch2/catch.hpp>

#include <chroma/testing/gradient_check.hpp>
#include <chroma/loss/regression.hpp>

#include "support/fixture.hpp"
#include "support/gradcheck.hpp"

using namespace chroma;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

namespace {

template <class Loss>
void check_against_torch(const Loss& loss, const Fixture& f, const std::string& name) {
    INFO(name);
    const Tensor<double> prediction = f["prediction"].tensor(), target = f["target"].tensor();
    Tensor<double> grad;
    const double value = loss.forward_backward(prediction, target, grad);
    CHECK(value == Approx(f[name + ".value"].scalar()).epsilon(1e-12));
    CHECK(loss.value(prediction, target) == value);
    CHECK(max_relative_error(grad, f[name + ".grad"].tensor()) < 1e-12);
}

template <class Loss>
void check_finite_differences(const Loss& loss, double avoid_kink_at = -1.0) {
    Rng rng(3);
    Tensor<double> prediction = chroma::testing::random_tensor(Shape{.n = 3, .c = 2, .h = 4, .w = 5}, rng, -3, 3);
    const Tensor<double> target = chroma::testing::random_tensor(prediction.shape(), rng, -3, 3);
    // Keep |prediction - target| away from the kinks (0, and beta for smooth L1).
    for (index_t i = 0; i < prediction.size(); ++i) {
        const double d = prediction[i] - target[i];
        if (std::abs(d) < 0.05 || std::abs(std::abs(d) - avoid_kink_at) < 0.05) prediction[i] += 0.2;
    }
    Tensor<double> grad;
    loss.forward_backward(prediction, target, grad);
    const auto check = testing::check_gradient(prediction, grad, [&] { return loss.value(prediction, target); });
    INFO(Loss::describe() << ": " << check.describe());
    CHECK(check.points == prediction.size());
    CHECK(check.max_error < 1e-6);
}

}  // namespace

TEST_CASE("regression losses match PyTorch's values and gradients") {
    const Fixture f("loss_regression");
    check_against_torch(loss::HalfSumSquaredError{}, f, "half_sum_mean");
    check_against_torch(loss::HalfSumSquaredError{loss::batch_reduction::sum}, f, "half_sum_sum");
    check_against_torch(loss::MSELoss{}, f, "mse");
    check_against_torch(loss::L1Loss{}, f, "l1");
    check_against_torch(loss::SmoothL1Loss{}, f, "smooth_l1");
    check_against_torch(loss::SmoothL1Loss{0.5}, f, "smooth_l1_beta0.5");
    check_against_torch(loss::SmoothL1Loss{3.0}, f, "smooth_l1_beta3");
    check_against_torch(loss::SmoothL1Loss{0.0}, f, "smooth_l1_beta0");
}

TEST_CASE("regression gradients match finite differences") {
    check_finite_differences(loss::HalfSumSquaredError{});
    check_finite_differences(loss::HalfSumSquaredError{loss::batch_reduction::sum});
    check_finite_differences(loss::MSELoss{});
    check_finite_differences(loss::L1Loss{});
    check_finite_differences(loss::SmoothL1Loss{}, 1.0);
    check_finite_differences(loss::SmoothL1Loss{0.7}, 0.7);
}

TEST_CASE("seed 000's loss is half the per-image sum of squared ab distances") {
    // Two 1x1 images: ab errors (3, 4) and (1, 2): per image 0.5 * 25 = 12.5 and 0.5 * 5 = 2.5.
    Tensor<double> prediction(Shape{.n = 2, .c = 2, .h = 1, .w = 1}), target(prediction.shape());
    prediction.at(0, 0, 0, 0) = 3, prediction.at(0, 1, 0, 0) = 4;
    prediction.at(1, 0, 0, 0) = 1, prediction.at(1, 1, 0, 0) = 2;
    Tensor<double> grad;
    CHECK(loss::HalfSumSquaredError{}.forward_backward(prediction, target, grad) == Approx(7.5));
    CHECK(grad.at(0, 1, 0, 0) == Approx(4.0 / 2));  // (prediction - target) / N
    CHECK(loss::HalfSumSquaredError{loss::batch_reduction::sum}.forward_backward(prediction, target, grad) ==
          Approx(15.0));
    CHECK(grad.at(0, 1, 0, 0) == Approx(4.0));
    // The same errors as means over the 4 elements: (9 + 16 + 1 + 4) / 4 and (3 + 4 + 1 + 2) / 4.
    CHECK(loss::MSELoss{}.value(prediction, target) == Approx(7.5));
    CHECK(loss::L1Loss{}.value(prediction, target) == Approx(2.5));
    // Smooth L1 with beta 2: 1 -> 0.25, 2, 3, 4 -> |d| - 1.
    CHECK(loss::SmoothL1Loss{2.0}.value(prediction, target) == Approx((2.0 + 3.0 + 0.25 + 1.0) / 4));
}

TEST_CASE("float losses agree with double and reuse the gradient buffer") {
    const Fixture f("loss_regression");
    const Tensor<double> prediction = f["prediction"].tensor(), target = f["target"].tensor();
    Tensor<float> prediction_f(prediction.shape()), target_f(target.shape());
    Tensor<float> grad_f(Shape{.n = 10, .c = 10, .h = 1, .w = 1});
    for (index_t i = 0; i < prediction.size(); ++i) {
        prediction_f[i] = static_cast<float>(prediction[i]);
        target_f[i] = static_cast<float>(target[i]);
    }
    const float* storage = grad_f.data();
    const double value = loss::SmoothL1Loss{}.forward_backward(prediction_f, target_f, grad_f);
    CHECK(grad_f.shape() == prediction.shape());
    CHECK(grad_f.data() == storage);  // 100 values fit the 48 needed: no new allocation
    CHECK(value == Approx(f["smooth_l1.value"].scalar()).epsilon(1e-6));
    const Tensor<double> expected = f["smooth_l1.grad"].tensor();
    for (index_t i = 0; i < expected.size(); ++i) CHECK(grad_f[i] == Approx(expected[i]).margin(1e-7));
}

TEST_CASE("loss values do not depend on the thread count") {
    Rng rng(4);
    const auto prediction = chroma::testing::random_tensor(Shape{.n = 4, .c = 2, .h = 128, .w = 130}, rng);
    const auto target = chroma::testing::random_tensor(prediction.shape(), rng);
    const int threads = cpu::threads();
    cpu::set_threads(1);
    const double single = loss::MSELoss{}.value(prediction, target);
    cpu::set_threads(std::max(2, threads));
    const double multi = loss::MSELoss{}.value(prediction, target);
    cpu::set_threads(threads);
    CHECK(single == multi);  // bit for bit: fixed-order sums
}

TEST_CASE("regression losses name both shapes when they differ") {
    Tensor<double> prediction(Shape{.n = 2, .c = 2, .h = 4, .w = 4}), target(Shape{.n = 2, .c = 2, .h = 4, .w = 5});
    Tensor<double> grad;
    CHECK_THROWS_AS(loss::MSELoss{}.value(prediction, target), shape_error);
    CHECK_THROWS_WITH(loss::L1Loss{}.forward_backward(prediction, target, grad),
                      Catch::Contains("L1Loss") && Catch::Contains("[N=2, C=2, H=4, W=4]") &&
                          Catch::Contains("[N=2, C=2, H=4, W=5]"));
    Tensor<double> empty;
    CHECK_THROWS_AS(loss::HalfSumSquaredError{}.value(empty, empty), shape_error);
    // The gradient may not overwrite an input.
    Tensor<double> same(Shape{.n = 1, .c = 2, .h = 2, .w = 2});
    Tensor<double> alias = same;
    CHECK_THROWS_AS(loss::MSELoss{}.forward_backward(same, same.clone(), alias), usage_error);
    CHECK_THROWS_AS(loss::SmoothL1Loss{-1.0}, usage_error);
}
