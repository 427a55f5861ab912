// Seed 004's adversarial objectives, the generator objective with its L1 / L2 terms, EBGAN's
// reconstruction energy and WGAN's weight clipping: against PyTorch, finite differences and
// hand-computed values.
#include <catch2/catch.hpp>

#include <chroma/loss/adversarial.hpp>
#include <chroma/loss/clip_weights.hpp>
#include <chroma/loss/generator_objective.hpp>
#include <chroma/testing/gradient_check.hpp>
#include <chroma/loss/reconstruction_energy.hpp>
#include <chroma/nn/conv2d.hpp>
#include <chroma/nn/model.hpp>

#include <cmath>

#include "support/fixture.hpp"
#include "support/gradcheck.hpp"

using namespace chroma;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

namespace {

template <class Objective>
void check_discriminator(const Objective& objective, const Fixture& f, const std::string& name,
                         const std::string& real_key = "real", const std::string& fake_key = "fake") {
    INFO(Objective::describe());
    const Tensor<double> real = f[real_key].tensor(), fake = f[fake_key].tensor();
    Tensor<double> grad_real, grad_fake;
    const double value = objective.discriminator_forward_backward(real, fake, grad_real, grad_fake);
    CHECK(value == Approx(f["d." + name + ".value"].scalar()).epsilon(1e-12));
    CHECK(objective.discriminator_value(real, fake) == value);
    CHECK(max_relative_error(grad_real, f["d." + name + ".grad_real"].tensor()) < 1e-12);
    CHECK(max_relative_error(grad_fake, f["d." + name + ".grad_fake"].tensor()) < 1e-12);
}

template <class Objective>
void check_generator(const Objective& objective, const Fixture& f, const std::string& name,
                     const std::string& fake_key = "fake") {
    INFO(Objective::describe());
    const Tensor<double> fake = f[fake_key].tensor();
    Tensor<double> grad;
    const double value = objective.generator_forward_backward(fake, grad);
    CHECK(value == Approx(f["g." + name + ".value"].scalar()).epsilon(1e-12));
    CHECK(objective.generator_value(fake) == value);
    CHECK(max_relative_error(grad, f["g." + name + ".grad"].tensor()) < 1e-12);
}

void require_small(const testing::GradcheckResult& check, const std::string& what) {
    INFO(what << ": " << check.describe());
    CHECK(check.points > 0);
    CHECK(check.max_error < 1e-8);
}

template <class Objective>
void check_finite_differences(const Objective& objective, double low = -3.0, double high = 3.0, double kink = 1e9) {
    Rng rng(6);
    const Shape shape{.n = 3, .c = 1, .h = 2, .w = 2};
    Tensor<double> real = chroma::testing::random_tensor(shape, rng, low, high);
    Tensor<double> fake = chroma::testing::random_tensor(shape, rng, low, high);
    for (index_t i = 0; i < fake.size(); ++i)
        if (std::abs(fake[i] - kink) < 0.05) fake[i] += 0.2;
    Tensor<double> grad_real, grad_fake, grad;
    objective.discriminator_forward_backward(real, fake, grad_real, grad_fake);
    const auto d_value = [&] { return objective.discriminator_value(real, fake); };
    require_small(testing::check_gradient(real, grad_real, d_value), Objective::describe() + " D, real");
    require_small(testing::check_gradient(fake, grad_fake, d_value), Objective::describe() + " D, fake");
    objective.generator_forward_backward(fake, grad);
    require_small(testing::check_gradient(fake, grad, [&] { return objective.generator_value(fake); }),
                  Objective::describe() + " G");
}

/// A layer-like object with one weight and one running statistic, to watch what clipping touches.
struct WeightAndStatistic {
    Parameter<double> weight = Parameter<double>::make(Shape{.n = 1, .c = 1, .h = 1, .w = 4}, parameter_role::weight);
    Parameter<double> statistic = Parameter<double>::vector(3, parameter_role::statistic);
    template <class V>
    void visit_parameters(V&& visit) {
        visit("weight", weight);
        visit("running_mean", statistic);
    }
};

}  // namespace

TEST_CASE("adversarial objectives match PyTorch") {
    const Fixture f("loss_adversarial");
    check_discriminator(loss::MinimaxGan{}, f, "minimax");
    check_discriminator(loss::NonSaturatingGan{}, f, "minimax");  // the same discriminator loss
    check_discriminator(loss::LeastSquaresGan{}, f, "lsgan");
    check_discriminator(loss::WassersteinGan{}, f, "wgan");
    check_discriminator(loss::EnergyBasedGan{1.5}, f, "ebgan", "energy_real", "energy_fake");
    check_generator(loss::MinimaxGan{}, f, "minimax");
    check_generator(loss::NonSaturatingGan{}, f, "nonsaturating");
    check_generator(loss::LeastSquaresGan{}, f, "lsgan");
    check_generator(loss::WassersteinGan{}, f, "wgan");
    check_generator(loss::EnergyBasedGan{1.5}, f, "ebgan", "energy_fake");
}

TEST_CASE("adversarial gradients match finite differences") {
    check_finite_differences(loss::MinimaxGan{});
    check_finite_differences(loss::NonSaturatingGan{});
    check_finite_differences(loss::LeastSquaresGan{0.1, 0.9, 0.8});
    check_finite_differences(loss::WassersteinGan{});
    check_finite_differences(loss::EnergyBasedGan{2.0}, 0.0, 4.0, 2.0);
}

TEST_CASE("adversarial objectives by hand") {
    Tensor<double> zero(Shape{.n = 2, .c = 1, .h = 1, .w = 1}), one(zero.shape()), minus_one(zero.shape());
    one.fill(1.0);
    minus_one.fill(-1.0);
    // A logit of 0 is D = 1/2: each BCE term is log 2.
    CHECK(loss::MinimaxGan{}.discriminator_value(zero, zero) == Approx(2 * std::log(2.0)));
    CHECK(loss::MinimaxGan{}.generator_value(zero) == Approx(-std::log(2.0)));
    CHECK(loss::NonSaturatingGan{}.generator_value(zero) == Approx(std::log(2.0)));
    // A perfect least-squares discriminator scores 1 on real and 0 on fake.
    CHECK(loss::LeastSquaresGan{}.discriminator_value(one, zero) == 0.0);
    CHECK(loss::LeastSquaresGan{}.generator_value(zero) == Approx(0.5));
    // The critic's loss is E f(fake) - E f(real).
    CHECK(loss::WassersteinGan{}.discriminator_value(one, minus_one) == Approx(-2.0));
    CHECK(loss::WassersteinGan{}.generator_value(minus_one) == Approx(1.0));
    // EBGAN, margin 1.5: fakes with energy 1 are still pushed up by 0.5; above the margin, not at all.
    CHECK(loss::EnergyBasedGan{1.5}.discriminator_value(zero, one) == Approx(0.5));
    Tensor<double> high(zero.shape());
    high.fill(2.0);
    CHECK(loss::EnergyBasedGan{1.5}.discriminator_value(one, high) == Approx(1.0));
    // Huge logits: no overflow, and the generator's minimax gradient vanishes as it should.
    Tensor<double> huge(zero.shape()), grad;
    huge.fill(-800.0);
    CHECK(loss::MinimaxGan{}.generator_forward_backward(huge, grad) == Approx(0.0).margin(1e-300));
    CHECK(std::abs(grad[0]) < 1e-300);
    CHECK(loss::NonSaturatingGan{}.generator_forward_backward(huge, grad) == Approx(800.0));
    CHECK(grad[0] == Approx(-0.5));  // -1 per element, mean over 2
}

TEST_CASE("seed 004's generator objective matches PyTorch and finite differences") {
    const Fixture f("loss_adversarial");
    const loss::GeneratorObjective objective(loss::NonSaturatingGan{}, {.adversarial = 0.5, .l1 = 2.0, .l2 = 3.0});
    Tensor<double> fake = f["fake"].tensor(), prediction = f["prediction"].tensor();
    const Tensor<double> target = f["target"].tensor();
    Tensor<double> grad_scores, grad_prediction;
    const double value = objective.forward_backward(fake, prediction, target, grad_scores, grad_prediction);
    CHECK(value == Approx(f["objective.value"].scalar()).epsilon(1e-12));
    CHECK(max_relative_error(grad_scores, f["objective.grad_scores"].tensor()) < 1e-12);
    CHECK(max_relative_error(grad_prediction, f["objective.grad_prediction"].tensor()) < 1e-12);
    const auto terms = objective.breakdown(fake, prediction, target);
    CHECK(terms.total == Approx(value).epsilon(1e-13));
    CHECK(terms.adversarial == Approx(f["g.nonsaturating.value"].scalar()).epsilon(1e-12));
    CHECK(terms.l1 == Approx(loss::L1Loss{}.value(prediction, target)).epsilon(1e-14));
    CHECK(terms.l2 == Approx(loss::MSELoss{}.value(prediction, target)).epsilon(1e-14));

    const auto objective_value = [&] { return objective.value(fake, prediction, target); };
    require_small(testing::check_gradient(fake, grad_scores, objective_value), "objective w.r.t. the scores");
    require_small(testing::check_gradient(prediction, grad_prediction, objective_value),
                  "objective w.r.t. the prediction");
    CHECK(objective.describe() == "GeneratorObjective<NonSaturatingGan>");
}

TEST_CASE("EBGAN's reconstruction energy matches PyTorch and finite differences") {
    const Fixture f("loss_adversarial");
    Tensor<double> image = f["image"].tensor(), reconstruction = f["reconstruction"].tensor();
    const Tensor<double> grad_energy = f["grad_energy"].tensor();
    Tensor<double> energy, grad_reconstruction, grad_image;
    loss::reconstruction_energy(image, reconstruction, energy);
    CHECK(max_relative_error(energy, f["energy"].tensor()) < 1e-12);
    loss::reconstruction_energy_backward(image, reconstruction, grad_energy, grad_reconstruction, &grad_image);
    CHECK(max_relative_error(grad_reconstruction, f["energy.grad_reconstruction"].tensor()) < 1e-12);
    CHECK(max_relative_error(grad_image, f["energy.grad_image"].tensor()) < 1e-12);

    // Through EnergyBasedGan's discriminator loss, end to end, with the energies as fake scores.
    const loss::EnergyBasedGan ebgan(3.0);  // above the energies (about 2), so the hinge is active
    Tensor<double> grad_real, grad_fake, scratch;
    loss::reconstruction_energy(image, reconstruction, energy);
    const Tensor<double> real_energy = energy.clone();
    ebgan.discriminator_forward_backward(real_energy, energy, grad_real, grad_fake);
    loss::reconstruction_energy_backward(image, reconstruction, grad_fake, grad_reconstruction, &grad_image);
    const auto value = [&] {
        loss::reconstruction_energy(image, reconstruction, scratch);
        return ebgan.discriminator_value(real_energy, scratch);
    };
    require_small(testing::check_gradient(reconstruction, grad_reconstruction, value), "energy w.r.t. reconstruction");
    require_small(testing::check_gradient(image, grad_image, value), "energy w.r.t. the input");
}

TEST_CASE("clip_weights clamps trainable parameters and leaves statistics alone") {
    Model<Conv2d<1, 2, 3>, cpu, double> critic(7);
    critic.parameter("weight").value.fill(0.5);
    critic.parameter("weight").value[3] = -2.0;
    critic.parameter("bias").value[0] = 0.003;
    loss::clip_weights(critic, 0.01);
    const auto& weight = critic.parameter("weight").value;
    for (index_t i = 0; i < weight.size(); ++i) CHECK(std::abs(weight[i]) <= 0.01);
    CHECK(weight[0] == 0.01);
    CHECK(weight[3] == -0.01);
    CHECK(critic.parameter("bias").value[0] == 0.003);  // inside the range: unchanged

    WeightAndStatistic layer;
    layer.weight.value.fill(5.0);
    layer.statistic.value.fill(5.0);
    loss::clip_weights(layer, 1.0);
    CHECK(layer.weight.value[0] == 1.0);
    CHECK(layer.statistic.value[0] == 5.0);
    CHECK_THROWS_AS(loss::clip_weights(layer, 0.0), usage_error);
}

TEST_CASE("adversarial objectives report wrong shapes and arguments") {
    Tensor<double> real(Shape{.n = 4, .c = 1, .h = 1, .w = 1}), fake(Shape{.n = 3, .c = 1, .h = 1, .w = 1});
    Tensor<double> grad_real, grad_fake, empty;
    CHECK_THROWS_WITH(loss::LeastSquaresGan{}.discriminator_value(real, fake),
                      Catch::Contains("LeastSquaresGan") && Catch::Contains("[N=4, C=1, H=1, W=1]") &&
                          Catch::Contains("[N=3, C=1, H=1, W=1]"));
    CHECK_THROWS_AS(loss::WassersteinGan{}.generator_value(empty), shape_error);
    CHECK_THROWS_AS(loss::MinimaxGan{}.discriminator_forward_backward(real, real.clone(), grad_real, grad_real),
                    usage_error);
    CHECK_THROWS_AS(loss::EnergyBasedGan{0.0}, usage_error);
    CHECK_THROWS_AS(loss::GeneratorObjective(loss::WassersteinGan{}, {.adversarial = -1.0}), usage_error);
    const loss::GeneratorObjective objective(loss::LeastSquaresGan{}, {.l1 = 1.0});
    Tensor<double> prediction(Shape{.n = 1, .c = 2, .h = 2, .w = 2}), target(Shape{.n = 1, .c = 2, .h = 2, .w = 3});
    CHECK_THROWS_AS(objective.value(real, prediction, target), shape_error);
    Tensor<double> energy;
    CHECK_THROWS_AS(loss::reconstruction_energy(prediction, target, energy), shape_error);
}
