// The user-guided colouriser's training task: the 4-channel input (normalised L, the simulated
// hints' ab / 110, their mask), validation hints that repeat on every pass while training's
// change, the smooth L1 loss at delta = 1 ab unit checked by hand, and shape errors.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>

#include <cmath>

using namespace chroma;

namespace {

train::Batch batch_of(index_t n, index_t h, index_t w, std::uint64_t seed) {
    Rng rng(seed);
    train::Batch b{Tensor<float>(Shape{.n = n, .c = 1, .h = h, .w = w}), Tensor<float>(Shape{.n = n, .c = 2, .h = h, .w = w})};
    for (index_t i = 0; i < b.lightness.size(); ++i) b.lightness.data()[i] = static_cast<float>(rng.uniform(0, 100));
    for (index_t i = 0; i < b.ab.size(); ++i) b.ab.data()[i] = static_cast<float>(rng.uniform(-60, 60));
    return b;
}

}  // namespace

TEST_CASE("the hints task feeds L, the simulated hints and their mask, normalised as the port does", "[hints]") {
    const train::Batch batch = batch_of(3, 12, 10, 4);
    train::HintsTask task(21);
    task.start_pass(false);
    const Tensor<float> input = task.input(batch);
    REQUIRE(input.shape() == Shape{.n = 3, .c = 4, .h = 12, .w = 10});
    // Training's first hints are simulate_hints' with the task's seed.
    Rng same(21);
    const data::Hints hints = data::simulate_hints(batch.ab, same);
    const index_t plane = 120;
    int revealed = 0;
    for (index_t n = 0; n < 3; ++n)
        for (index_t i = 0; i < plane; ++i) {
            const float* in = input.data() + n * 4 * plane;
            CHECK(in[i] == Approx((batch.lightness.data()[n * plane + i] - 50.0) / 100.0).margin(1e-6));
            CHECK(in[plane + i] == Approx(hints.ab.data()[n * 2 * plane + i] / 110.0).margin(1e-6));
            CHECK(in[2 * plane + i] == Approx(hints.ab.data()[n * 2 * plane + plane + i] / 110.0).margin(1e-6));
            CHECK(in[3 * plane + i] == hints.mask.data()[n * plane + i]);
            if (in[3 * plane + i] == 0.0f) {
                CHECK(in[plane + i] == 0.0f);
                CHECK(in[2 * plane + i] == 0.0f);
            }
            revealed += in[3 * plane + i] > 0.0f;
        }
    CHECK(revealed > 0);  // seed 21 reveals some points in 3 images
}

TEST_CASE("validation sees the same hints on every pass, training new ones every step", "[hints]") {
    const train::Batch batch = batch_of(4, 16, 16, 5);
    train::HintsTask task(3);
    const auto input_of = [&](train::HintsTask& t) {
        const Tensor<float>& in = t.input(batch);
        return std::vector<float>(in.data() + 0, in.data() + in.size());
    };
    task.start_pass(true);
    const auto first_validation = input_of(task);
    const auto second_batch_of_validation = input_of(task);
    task.start_pass(false);
    const auto training_one = input_of(task);
    const auto training_two = input_of(task);
    task.start_pass(true);
    CHECK(input_of(task) == first_validation);
    CHECK(second_batch_of_validation != first_validation);
    CHECK(training_one != training_two);
    CHECK(training_one != first_validation);
}

TEST_CASE("the hints task's loss is smooth L1 at delta = 1 ab unit, by hand", "[hints]") {
    const train::Batch batch = batch_of(1, 2, 3, 6);
    train::HintsTask task;
    Tensor<float> prediction(batch.ab.shape());
    // Errors of 0.5 and 3 ab units: one inside delta (quadratic), one outside (linear).
    for (index_t i = 0; i < prediction.size(); ++i)
        prediction.data()[i] = static_cast<float>((batch.ab.data()[i] + (i % 2 ? 3.0 : 0.5)) / 110.0);
    Tensor<float> grad;
    const double loss = task.loss(prediction, batch, grad);
    const double beta = 1.0 / 110.0, small = 0.5 / 110.0, large = 3.0 / 110.0;
    const double expected = (0.5 * small * small / beta + (large - 0.5 * beta)) / 2.0;
    CHECK(loss == Approx(expected).epsilon(1e-4));
    REQUIRE(grad.shape() == prediction.shape());
    const double count = static_cast<double>(prediction.size());
    for (index_t i = 0; i < grad.size(); ++i) {
        INFO(i);
        CHECK(grad.data()[i] == Approx((i % 2 ? 1.0 : small / beta) / count).epsilon(1e-3));
    }
    const Tensor<float>& ab = task.predicted_ab(prediction);
    CHECK(ab.data()[0] == Approx(batch.ab.data()[0] + 0.5).margin(1e-4));
}

TEST_CASE("hints of another size than the photo are refused with both shapes", "[hints]") {
    const train::Batch batch = batch_of(1, 8, 8, 7);
    train::HintsTask task;
    data::Hints wrong{Tensor<float>(Shape{.n = 1, .c = 2, .h = 8, .w = 6}), Tensor<float>(Shape{.n = 1, .c = 1, .h = 8, .w = 6})};
    CHECK_THROWS_WITH(task.input_with(batch.lightness, wrong),
                      Catch::Contains("[N=1, C=1, H=8, W=8]") && Catch::Contains("[N=1, C=2, H=8, W=6]"));
}
