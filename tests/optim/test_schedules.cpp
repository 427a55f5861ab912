// Learning-rate schedules against torch.optim.lr_scheduler, and initialisers' statistics.
#include <catch2/catch.hpp>

#include <cmath>

#include "support/fixture.hpp"

using namespace chroma;

namespace {

struct RateHolder {  // the part of an optimiser a schedule touches
    double rate = 0.1;
    double learning_rate() const { return rate; }
    void set_learning_rate(double r) { rate = r; }
};

}  // namespace

TEST_CASE("StepLR and cosine annealing match PyTorch") {
    const testing::Fixture f("schedules");
    const optim::StepLR step(0.1, 7, 0.5);
    const optim::CosineAnnealing cosine(0.1, 30, 1e-3);
    for (int epoch = 0; epoch < 40; ++epoch) {
        INFO("epoch " << epoch);
        CHECK(step.rate(epoch) == Approx(f["step"].values[epoch]).epsilon(1e-12));
        if (epoch <= 30) CHECK(cosine.rate(epoch) == Approx(f["cosine"].values[epoch]).epsilon(1e-9));
    }
}

TEST_CASE("ReduceOnPlateau matches torch ReduceLROnPlateau") {
    const testing::Fixture f("schedules");
    for (const bool cooldown : {false, true}) {
        optim::ReduceOnPlateau plateau(cooldown ? optim::ReduceOnPlateau::Options{.factor = 0.5, .patience = 2,
                                                                                    .cooldown = 2, .min_rate = 0.01}
                                                : optim::ReduceOnPlateau::Options{.factor = 0.2, .patience = 3});
        const auto& expected = f[cooldown ? "plateau_cooldown" : "plateau"].values;
        RateHolder optimiser;
        for (int epoch = 0; epoch < 40; ++epoch) {
            INFO("epoch " << epoch << (cooldown ? " with cooldown" : ""));
            CHECK(optimiser.rate == Approx(expected[epoch]).epsilon(1e-12));
            plateau.step(f["metric"].values[epoch], optimiser);
        }
    }
}

TEST_CASE("warm-up ramps linearly into the following schedule") {
    const optim::Warmup<optim::StepLR> warm(optim::StepLR(0.1, 10, 0.1), 4, 0.0);
    CHECK(warm.rate(0) == Approx(0.0));
    CHECK(warm.rate(2) == Approx(0.05));
    CHECK(warm.rate(4) == Approx(0.1));
    CHECK(warm.rate(14) == Approx(0.01));
}

TEST_CASE("He and Xavier initialisers draw with the right spread and zero the biases") {
    Model<Conv2d<64, 32, 3>> model;
    init::he_normal(model, 1);
    auto spread = [](const Tensor<float>& t) {
        double sum = 0, squares = 0;
        for (index_t i = 0; i < t.size(); ++i) {
            sum += t.data()[i];
            squares += double(t.data()[i]) * t.data()[i];
        }
        const double mean = sum / t.size();
        return std::sqrt(squares / t.size() - mean * mean);
    };
    CHECK(spread(model.parameter("weight").value) == Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
    CHECK(model.parameter("bias").value[5] == 0.0f);
    init::xavier_normal(model, 1);
    CHECK(spread(model.parameter("weight").value) == Approx(std::sqrt(2.0 / (64 * 9 + 32 * 9))).epsilon(0.03));
    const float first = model.parameter("weight").value[0];
    init::xavier_normal(model, 1);
    CHECK(model.parameter("weight").value[0] == first);  // same seed, same values
    init::xavier_normal(model, 2);
    CHECK(model.parameter("weight").value[0] != first);
}

TEST_CASE("PyTorch's default initialisation bounds weights by 1/sqrt(fan_in)") {
    Model<Conv2d<16, 8, 3>> model(5);
    const double bound = 1.0 / std::sqrt(16.0 * 9);
    const auto& w = model.parameter("weight").value;
    double largest = 0;
    for (index_t i = 0; i < w.size(); ++i) largest = std::max(largest, std::abs(double(w.data()[i])));
    CHECK(largest <= bound);
    CHECK(largest > 0.9 * bound);  // 1152 uniform draws come close to the bound
}
