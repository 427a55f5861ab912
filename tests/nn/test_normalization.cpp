// BatchNorm2d and Dropout: gradients against finite differences, BatchNorm against PyTorch and
// hand-computed running statistics, Dropout's mask statistics and replay, and error paths.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <thread>

#include "support/gradcheck.hpp"
#include "support/thread_ranks.hpp"
#include "support/torch_parity.hpp"

using namespace chroma;
using chroma::testing::check_gradients;
using chroma::testing::random_tensor;

namespace {

/// Moves every BatchNorm parameter and statistic away from its initial value, so that each
/// one affects the output and a wrong use of any of them shows.
template <class M>
void randomise_batch_norm(M& model, Rng& rng) {
    model.visit_parameters([&](std::string_view name, Parameter<double>& p) {
        if (name == "num_batches_tracked") return;
        const bool positive = name == "weight" || name == "running_var";
        chroma::testing::fill_uniform(p.value, rng, positive ? 0.5 : -1.0, positive ? 2.0 : 1.0);
    });
}

Tensor<float> constant_tensor(Shape shape, float value) {
    Tensor<float> t(shape);
    t.fill(value);
    return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BatchNorm2d

TEST_CASE("BatchNorm2d gradients match finite differences in training mode") {
    Model<BatchNorm2d<3>, cpu, double> model;
    Rng rng(11);
    randomise_batch_norm(model, rng);
    const auto result = check_gradients(model, random_tensor(Shape{.n = 3, .c = 3, .h = 4, .w = 5}, rng, -2, 3), rng);
    INFO("worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < 1e-6);
}

TEST_CASE("BatchNorm2d gradients match finite differences in evaluation mode") {
    Model<BatchNorm2d<4, 0.2, 1e-3>, cpu, double> model;
    Rng rng(12);
    randomise_batch_norm(model, rng);
    model.eval();
    const auto result = check_gradients(model, random_tensor(Shape{.n = 2, .c = 4, .h = 3, .w = 3}, rng), rng);
    INFO("worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < 1e-6);
}

TEST_CASE("BatchNorm2d matches PyTorch, running statistics included") {
    using chroma::testing::check_against_torch;
    check_against_torch<BatchNorm2d<3>>("batch_norm2d_train");
    check_against_torch<BatchNorm2d<3>>("batch_norm2d_eval");
    check_against_torch<BatchNorm2d<4, 0.3, 1e-3>>("batch_norm2d_momentum_eps");
}

TEST_CASE("BatchNorm2d updates running statistics in training and uses them in evaluation") {
    Model<BatchNorm2d<1>, cpu, double> model;
    Tensor<double> x(Shape{.n = 2, .c = 1, .h = 1, .w = 2});
    const double values[] = {1, 3, 5, 7};  // mean 4, biased variance 5, unbiased variance 20/3
    std::copy(std::begin(values), std::end(values), x.data());

    const Tensor<double> trained = model.forward(x).clone();
    for (int i = 0; i < 4; ++i) CHECK(trained[i] == Approx((values[i] - 4) / std::sqrt(5 + 1e-5)).epsilon(1e-12));
    const double running_mean = 0.9 * 0 + 0.1 * 4;
    const double running_var = 0.9 * 1 + 0.1 * 20.0 / 3.0;
    CHECK(model.parameter("running_mean").value[0] == Approx(running_mean).epsilon(1e-14));
    CHECK(model.parameter("running_var").value[0] == Approx(running_var).epsilon(1e-14));
    CHECK(model.parameter("num_batches_tracked").value[0] == 1);

    model.eval();
    const Tensor<double>& evaluated = model.forward(x);
    for (int i = 0; i < 4; ++i)
        CHECK(evaluated[i] == Approx((values[i] - running_mean) / std::sqrt(running_var + 1e-5)).epsilon(1e-12));
    // Evaluation leaves the statistics alone.
    CHECK(model.parameter("running_mean").value[0] == Approx(running_mean).epsilon(1e-14));
    CHECK(model.parameter("num_batches_tracked").value[0] == 1);

    model.train();
    model.forward(x);
    CHECK(model.parameter("running_mean").value[0] == Approx(0.9 * running_mean + 0.1 * 4).epsilon(1e-14));
    CHECK(model.parameter("num_batches_tracked").value[0] == 2);
}

TEST_CASE("BatchNorm2d backward differentiates the mode its forward ran in") {
    Model<BatchNorm2d<2>, cpu, double> model;
    Rng rng(13);
    randomise_batch_norm(model, rng);
    const auto x = random_tensor(Shape{.n = 2, .c = 2, .h = 3, .w = 3}, rng);
    const auto dy = random_tensor(x.shape(), rng);
    model.forward(x);
    const Tensor<double> trained = model.backward(dy).clone();
    model.forward(x);
    model.eval();  // switching after forward must not change what backward differentiates
    const Tensor<double>& switched = model.backward(dy);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(switched[i] == trained[i]);
    // In training the input gradient of each channel sums to zero (the mean is subtracted).
    double sum = 0;
    for (index_t i = 0; i < 9; ++i) sum += trained[i] + trained[18 + i];
    CHECK(sum == Approx(0).margin(1e-12));
}

TEST_CASE("BatchNorm2d in float keeps precision when the mean dwarfs the spread") {
    Model<BatchNorm2d<1>, cpu, float> model;
    Tensor<float> x(Shape{.n = 1, .c = 1, .h = 1, .w = 4});
    const float values[] = {1000.0f, 1000.5f, 1001.0f, 1001.5f};
    std::copy(std::begin(values), std::end(values), x.data());
    const Tensor<float>& y = model.forward(x);
    const double deviation = std::sqrt(0.3125 + 1e-5);  // biased variance of 0, .5, 1, 1.5
    for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx((values[i] - 1000.75) / deviation).epsilon(1e-5));
}

TEST_CASE("BatchNorm2d names its parameters as PyTorch does and describes itself readably") {
    Model<BatchNorm2d<64>, cpu, float> model;
    CHECK(model.parameter_names() ==
          std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
    CHECK(model.parameter_count() == 128);  // statistics are not trained
    CHECK(model.parameter("weight").value[63] == 1.0f);
    CHECK(model.parameter("bias").value[0] == 0.0f);
    CHECK(model.parameter("running_var").value[5] == 1.0f);
    CHECK(model.parameter("running_var").role == parameter_role::statistic);
    CHECK(layer_t<BatchNorm2d<64>, float, cpu>::describe() == "BatchNorm2d(64, momentum 0.1, eps 1e-05)");
    CHECK(layer_t<BatchNorm2d<8, 0.01, 1e-3>, float, cpu>::describe() == "BatchNorm2d(8, momentum 0.01, eps 0.001)");
}

TEST_CASE("BatchNorm2d reports wrong channels and single-value batches with the layer and the shape") {
    Model<BatchNorm2d<3>, cpu, float> model;
    CHECK_THROWS_WITH(model.forward(Tensor<float>(Shape{.n = 2, .c = 4, .h = 5, .w = 5})),
                      Catch::Contains("BatchNorm2d(3") && Catch::Contains("expects 3 input channels") &&
                          Catch::Contains("[N=2, C=4, H=5, W=5]"));
    const Tensor<float> single(Shape{.n = 1, .c = 3, .h = 1, .w = 1});
    CHECK_THROWS_AS(model.forward(single), shape_error);
    CHECK_THROWS_WITH(model.forward(single), Catch::Contains("more than one value per channel") &&
                                                 Catch::Contains("[N=1, C=3, H=1, W=1]"));
    model.eval();  // evaluation needs no batch statistics
    CHECK_NOTHROW(model.forward(single));
}

TEST_CASE("BatchNorm2d gives the single-thread result on several threads") {
    Model<BatchNorm2d<16>, cpu, float> model;
    Rng rng(14);
    Tensor<float> x(Shape{.n = 4, .c = 16, .h = 24, .w = 24});  // large enough to run in parallel
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform(-1, 3));
    const int threads = cpu::threads();
    cpu::set_threads(1);
    const Tensor<float> single = model.forward(x).clone();
    const Tensor<float> single_grad = model.backward(x).clone();
    cpu::set_threads(std::max(2, threads));
    const Tensor<float> multi = model.forward(x).clone();
    const Tensor<float>& multi_grad = model.backward(x);
    cpu::set_threads(threads);
    for (index_t i = 0; i < x.size(); ++i) {
        REQUIRE(multi[i] == single[i]);
        REQUIRE(multi_grad[i] == single_grad[i]);
    }
}

namespace {

/// Images [first, last) of an NCHW tensor.
Tensor<double> images_of(const Tensor<double>& x, index_t first, index_t last) {
    const Shape s = x.shape();
    Tensor<double> out(Shape{.n = last - first, .c = s.c, .h = s.h, .w = s.w});
    const index_t per_image = s.c * s.plane();
    std::copy_n(x.data() + first * per_image, (last - first) * per_image, out.data());
    return out;
}

}  // namespace

TEST_CASE("synchronised BatchNorm2d on ranks of uneven shares computes what one process computes on the whole batch") {
    using Net = BatchNorm2d<3, 0.3>;
    Rng data_rng(21);
    const Tensor<double> x = random_tensor(Shape{.n = 5, .c = 3, .h = 4, .w = 3}, data_rng, -2, 3);
    // The loss: the mean over images of sum(w * y), so dy = w / images.
    const Tensor<double> w = random_tensor(x.shape(), data_rng, -1, 1);
    auto scaled = [](const Tensor<double>& t, double factor) {
        Tensor<double> out = t.clone();
        for (index_t i = 0; i < out.size(); ++i) out[i] *= factor;
        return out;
    };
    auto randomised = [](Model<Net, cpu, double>& model) {
        Rng rng(5);
        randomise_batch_norm(model, rng);
    };

    Model<Net, cpu, double> whole;
    randomised(whole);
    const Tensor<double> y = whole.forward(x).clone();
    whole.zero_grad();
    const Tensor<double> dx = whole.backward(scaled(w, 1.0 / 5)).clone();

    // Two ranks holding images [0, 2) and [2, 5), as threads; and the same shares unsynchronised.
    const index_t bounds[3] = {0, 2, 5};
    for (const bool synchronise : {true, false}) {
        chroma::testing::ThreadRanks ranks(2);
        Model<Net, cpu, double> models[2];
        Tensor<double> ys[2], dxs[2];
        std::vector<std::thread> threads;
        for (int r = 0; r < 2; ++r)
            threads.emplace_back([&, r] {
                std::optional<SynchronisedBatchNorm> group;
                if (synchronise) group.emplace(ranks.rank(r));
                randomised(models[r]);
                const index_t n = bounds[r + 1] - bounds[r];
                ys[r] = models[r].forward(images_of(x, bounds[r], bounds[r + 1])).clone();
                models[r].zero_grad();
                dxs[r] = models[r].backward(scaled(images_of(w, bounds[r], bounds[r + 1]), 1.0 / double(n))).clone();
            });
        for (auto& t : threads) t.join();

        double worst = 0;  // the largest difference from the whole batch's output
        for (int r = 0; r < 2; ++r) {
            const Tensor<double> want = images_of(y, bounds[r], bounds[r + 1]);
            for (index_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(ys[r][i] - want[i]));
        }
        if (!synchronise) {
            CHECK(worst > 1e-2);  // each rank's own statistics differ from the whole batch's
            continue;
        }
        CHECK(worst < 1e-12);
        for (int r = 0; r < 2; ++r) {
            // dx in units of the rank's own mean loss: times its share, the whole batch's dx.
            const double share = double(bounds[r + 1] - bounds[r]) / 5.0;
            const Tensor<double> want = images_of(dx, bounds[r], bounds[r + 1]);
            for (index_t i = 0; i < want.size(); ++i) REQUIRE(share * dxs[r][i] == Approx(want[i]).margin(1e-12));
            for (const char* statistic : {"running_mean", "running_var"})
                for (index_t c = 0; c < 3; ++c)
                    REQUIRE(models[r].parameter(statistic).value[c] == Approx(whole.parameter(statistic).value[c]).epsilon(1e-12));
        }
        // The parameter gradients, weighted by the shares and summed (as GradientAverager does).
        for (const char* name : {"weight", "bias"})
            for (index_t c = 0; c < 3; ++c) {
                const double averaged = 0.4 * models[0].parameter(name).gradient()[c] +
                                        0.6 * models[1].parameter(name).gradient()[c];
                REQUIRE(averaged == Approx(whole.parameter(name).gradient()[c]).margin(1e-12));
            }
    }
}

TEST_CASE("synchronised BatchNorm2d over one process is the plain layer, bit for bit") {
    Model<BatchNorm2d<4>, cpu, float> plain, grouped;
    Rng rng(31);
    Tensor<float> x(Shape{.n = 3, .c = 4, .h = 5, .w = 6});
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform(-1, 2));
    const Tensor<float> y = plain.forward(x).clone();
    const Tensor<float> dx = plain.backward(x).clone();
    // A group of one changes nothing; the synchronised kernels with no exchange compute the same.
    distributed::SingleProcess alone;
    SynchronisedBatchNorm group(alone);
    CHECK(batch_norm_group() == &alone);
    const Tensor<float>& grouped_y = grouped.forward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(grouped_y[i] == y[i]);
    Tensor<float> mean(Shape{.n = 4, .c = 1, .h = 1, .w = 1}), invstd(mean.shape()), out(x.shape()), running_mean(Shape{.n = 4, .c = 1, .h = 1, .w = 1}),
        running_var(running_mean.shape()), tracked(Shape{.n = 1, .c = 1, .h = 1, .w = 1}), weight(running_mean.shape()),
        bias(running_mean.shape()), dweight(running_mean.shape()), dbias(running_mean.shape()), grad(x.shape());
    weight.fill(1.0f);
    bias.fill(0.0f);
    running_mean.fill(0.0f);
    running_var.fill(1.0f);
    dweight.fill(0.0f);
    dbias.fill(0.0f);
    const auto no_exchange = [](std::span<double>) {};
    std::vector<double> exchange;
    const double share = kernels::batch_norm_forward_training_synchronised(
        x, weight, bias, 0.1f, 1e-5f, running_mean, running_var, tracked, mean, invstd, out, exchange, no_exchange);
    CHECK(share == 1.0);
    kernels::batch_norm_backward_synchronised(x, x, weight, mean, invstd, share, grad, dweight, dbias, exchange, no_exchange);
    for (index_t i = 0; i < x.size(); ++i) {
        REQUIRE(out[i] == y[i]);
        REQUIRE(grad[i] == dx[i]);
    }
    for (index_t c = 0; c < 4; ++c) {
        REQUIRE(running_var[c] == plain.parameter("running_var").value[c]);
        REQUIRE(dweight[c] == plain.parameter("weight").gradient()[c]);
    }
}

TEST_CASE("BatchNorm2d backward before forward is a clear error") {
    Model<BatchNorm2d<2>, cpu, float> model;
    CHECK_THROWS_WITH(model.backward(Tensor<float>(Shape{.n = 1, .c = 2, .h = 2, .w = 2})),
                      Catch::Contains("BatchNorm2d(2") && Catch::Contains("backward() called before forward()"));
}

// ---------------------------------------------------------------------------------------------
// Dropout

TEST_CASE("Dropout drops a fraction close to p and scales the rest by 1 / (1 - p)") {
    const Shape shape{.n = 4, .c = 4, .h = 128, .w = 128};  // 262144 values: 5 sigma is about 0.005
    const auto x = constant_tensor(shape, 1.0f);
    auto fraction_dropped = [&](auto& model, float scale) {
        const Tensor<float>& y = model.forward(x);
        index_t dropped = 0;
        for (index_t i = 0; i < y.size(); ++i) {
            if (y[i] == 0.0f) ++dropped;
            else REQUIRE(y[i] == scale);
        }
        return static_cast<double>(dropped) / static_cast<double>(y.size());
    };
    Model<Dropout<>, cpu, float> half;
    CHECK(fraction_dropped(half, 2.0f) == Approx(0.5).margin(0.005));
    Model<Dropout<0.3>, cpu, float> some;
    CHECK(fraction_dropped(some, static_cast<float>(1.0 / 0.7)) == Approx(0.3).margin(0.005));
    Model<Dropout<0.9>, cpu, float> most;
    CHECK(fraction_dropped(most, static_cast<float>(1.0 / 0.1)) == Approx(0.9).margin(0.005));
}

TEST_CASE("Dropout keeps the mean of its input in expectation") {
    Model<Dropout<0.25>, cpu, double> model;
    Rng rng(21);
    const auto x = random_tensor(Shape{.n = 2, .c = 8, .h = 64, .w = 64}, rng, 0.0, 2.0);
    const Tensor<double>& y = model.forward(x);
    double sum_x = 0, sum_y = 0;
    for (index_t i = 0; i < x.size(); ++i) {
        sum_x += x[i];
        sum_y += y[i];
    }
    CHECK(sum_y / sum_x == Approx(1.0).margin(0.02));
}

TEST_CASE("Dropout in evaluation mode is the identity, forward and backward") {
    Model<Dropout<0.5>, cpu, float> model;
    model.eval();
    Rng rng(22);
    Tensor<float> x(Shape{.n = 2, .c = 3, .h = 4, .w = 5});
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform(-1, 1));
    const Tensor<float>& y = model.forward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == x[i]);
    const Tensor<float>& dx = model.backward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(dx[i] == x[i]);
}

TEST_CASE("Dropout routes the gradient exactly through the kept elements") {
    Model<Dropout<0.4>, cpu, double> model;
    Rng rng(23);
    const auto x = random_tensor(Shape{.n = 2, .c = 3, .h = 8, .w = 8}, rng, 0.5, 1.5);  // never 0
    const Tensor<double> y = model.forward(x).clone();
    const auto dy = random_tensor(y.shape(), rng);
    const Tensor<double>& dx = model.backward(dy);
    index_t kept = 0;
    for (index_t i = 0; i < x.size(); ++i) {
        if (y[i] == 0.0) {
            REQUIRE(dx[i] == 0.0);
        } else {
            ++kept;
            REQUIRE(y[i] == x[i] * (1.0 / 0.6));
            REQUIRE(dx[i] == dy[i] * (1.0 / 0.6));
        }
    }
    CHECK(kept > 0);
    CHECK(kept < x.size());
}

TEST_CASE("Dropout gradients match finite differences with a replayed mask") {
    Model<Dropout<0.5>, cpu, double> model;
    Rng rng(24);
    chroma::testing::GradcheckOptions options;
    options.before_forward = [&] { model.seed(99); };
    const auto result =
        check_gradients(model, random_tensor(Shape{.n = 2, .c = 3, .h = 5, .w = 4}, rng), rng, options);
    INFO("worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < 1e-8);
}

TEST_CASE("Dropout masks are reproducible from a seed and differ between forwards and layers") {
    const auto x = constant_tensor(Shape{.n = 1, .c = 2, .h = 16, .w = 16}, 1.0f);
    Model<Dropout<>, cpu, float> a, b;
    auto same = [](const Tensor<float>& p, const Tensor<float>& q) {
        for (index_t i = 0; i < p.size(); ++i)
            if (p[i] != q[i]) return false;
        return true;
    };
    // Two layers built one after the other start from different seeds.
    const Tensor<float> first_a = a.forward(x).clone();
    CHECK_FALSE(same(first_a, b.forward(x)));
    // Each forward draws a new mask.
    CHECK_FALSE(same(first_a, a.forward(x)));
    // One seed, one sequence of masks, whichever layer runs it.
    a.seed(5);
    b.seed(5);
    const Tensor<float> seeded = a.forward(x).clone();
    CHECK(same(seeded, b.forward(x)));
    a.seed(5);
    CHECK(same(seeded, a.forward(x)));
}

TEST_CASE("Dropout masks do not depend on the thread count") {
    const auto x = constant_tensor(Shape{.n = 4, .c = 8, .h = 64, .w = 64}, 1.0f);  // large enough to go parallel
    Model<Dropout<>, cpu, float> model;
    const int threads = cpu::threads();
    cpu::set_threads(1);
    model.seed(3);
    const Tensor<float> single = model.forward(x).clone();
    cpu::set_threads(std::max(2, threads));
    model.seed(3);
    const Tensor<float>& multi = model.forward(x);
    cpu::set_threads(threads);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(multi[i] == single[i]);
}

TEST_CASE("Dropout with p = 0 keeps everything and with p = 1 drops everything") {
    Rng rng(25);
    Tensor<float> x(Shape{.n = 1, .c = 3, .h = 10, .w = 10});
    for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.uniform(-1, 1));
    Model<Dropout<0.0>, cpu, float> none;
    Model<Dropout<1.0>, cpu, float> all;
    const Tensor<float>& kept = none.forward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(kept[i] == x[i]);
    const Tensor<float>& dropped = all.forward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(dropped[i] == 0.0f);  // not NaN from 0 * infinity
    const Tensor<float>& grad = all.backward(x);
    for (index_t i = 0; i < x.size(); ++i) REQUIRE(grad[i] == 0.0f);
}

TEST_CASE("Dropout describes itself readably and reports misuse") {
    CHECK(layer_t<Dropout<>, float, cpu>::describe() == "Dropout(p 0.5)");
    CHECK(layer_t<Dropout<0.1>, float, cpu>::describe() == "Dropout(p 0.1)");
    Model<Dropout<>, cpu, float> model;
    CHECK_THROWS_WITH(model.backward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 2, .w = 2})),
                      Catch::Contains("Dropout(p 0.5)") && Catch::Contains("backward() called before forward()"));
    model.forward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 2, .w = 2}));
    CHECK_THROWS_WITH(model.backward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 2, .w = 3})),
                      Catch::Contains("Dropout(p 0.5)") && Catch::Contains("[N=1, C=1, H=2, W=3]"));
    CHECK_THROWS_AS(model.forward(Tensor<float>(Shape{.n = 0, .c = 1, .h = 2, .w = 2})), shape_error);
}

// ---------------------------------------------------------------------------------------------
// Both in a network

TEST_CASE("BatchNorm2d and Dropout compose with the other layers and keep exact gradients") {
    using Net = Sequential<Conv2d<2, 4, 3, 1, 1>, BatchNorm2d<4>, Tanh, MaxPool2d<2>, Dropout<0.25>,
                           Upsample<2, upsample_mode::bilinear>, Conv2d<4, 3, 1>, Softmax>;
    Model<Net, cpu, double> model(7);
    CHECK(model.parameter_names() ==
          std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                   "1.num_batches_tracked", "6.weight", "6.bias"});
    Rng rng(26);
    chroma::testing::GradcheckOptions options;
    options.before_forward = [&] { model.child<4>().seed(8); };
    const auto result =
        check_gradients(model, random_tensor(Shape{.n = 2, .c = 2, .h = 6, .w = 8}, rng), rng, options);
    INFO("worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < 1e-6);
}
