// The data-dependent initialiser (init/data_dependent.hpp) and the forward observer it rides on:
// unit-variance outputs on the sample, the exact affine change of the first layer, rescuing badly
// scaled networks, no effect of the hook when nothing observes, and the error paths.
#include <catch2/catch.hpp>

#include <chroma/init/data_dependent.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "support/composed_net.hpp"

using namespace chroma;

namespace {

using PlainNet = Sequential<Conv2d<1, 8, 3, 1, same>, ReLU, Conv2d<8, 8, 3, 1, same>, ReLU, Conv2d<8, 2, 1>>;
// BatchNorm (whose statistics must stay untouched), Dropout, a conv without bias, a transposed conv.
using NormNet = Sequential<Conv2d<1, 4, 3, 2, 1>, BatchNorm2d<4>, ReLU, Dropout<0.5>,
                           Conv2d<4, 4, 3, 1, 1, 1, false>, Tanh, ConvTranspose2d<4, 3, 4, 2, 1>>;

/// Keeps a copy of every output a weighted layer reports, in forward order.
template <class T>
struct Recorder final : ForwardObserver<T, cpu> {
    std::vector<Tensor<T>> outputs;
    void after_forward(const Parameter<T, cpu>&, const Tensor<T>& output, weight_layout) override {
        outputs.push_back(output.clone());
    }
};

/// The output of every weighted layer of one forward.
template <class M, class T>
std::vector<Tensor<T>> layer_outputs(M& model, const Tensor<T>& x) {
    Recorder<T> recorder;
    ForwardObserverScope<T, cpu> scope(recorder);
    model.forward(x);
    return recorder.outputs;
}

struct Moments {
    double mean, std;
};

/// Mean and population standard deviation of channel c over N, H and W, by element access.
template <class T>
Moments channel_moments(const Tensor<T>& y, index_t c) {
    const Shape s = y.shape();
    double sum = 0, squares = 0;
    const double count = static_cast<double>(s.n * s.h * s.w);
    for (index_t n = 0; n < s.n; ++n)
        for (index_t h = 0; h < s.h; ++h)
            for (index_t w = 0; w < s.w; ++w) sum += static_cast<double>(y(n, c, h, w));
    const double mean = sum / count;
    for (index_t n = 0; n < s.n; ++n)
        for (index_t h = 0; h < s.h; ++h)
            for (index_t w = 0; w < s.w; ++w) squares += std::pow(static_cast<double>(y(n, c, h, w)) - mean, 2);
    return {mean, std::sqrt(squares / count)};
}

/// Mean over channels of each channel's standard deviation.
template <class T>
double mean_channel_std(const Tensor<T>& y) {
    double total = 0;
    for (index_t c = 0; c < y.shape().c; ++c) total += channel_moments(y, c).std;
    return total / static_cast<double>(y.shape().c);
}

template <class T>
Tensor<T> uniform_batch(Shape shape, std::uint64_t seed, double low = -1, double high = 1) {
    Rng rng(seed);
    Tensor<T> t(shape);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(rng.uniform(low, high));
    return t;
}

template <class M>
void scale_weights(M& model, double factor) {
    using T = typename M::value_type;
    model.visit_parameters([&](std::string_view, Parameter<T, cpu>& p) {
        if (p.role == parameter_role::weight)
            for (index_t i = 0; i < p.value.size(); ++i) p.value.data()[i] *= static_cast<T>(factor);
    });
}

/// Every weighted layer's channels have mean ~0 (when `zero_mean`) and std ~1 on x.
template <class M, class T>
void check_unit_outputs(M& model, const Tensor<T>& x, const std::vector<bool>& zero_mean, double tolerance) {
    model.eval();  // as the initialiser measured: BatchNorm on running statistics, Dropout off
    const std::vector<Tensor<T>> outputs = layer_outputs(model, x);
    REQUIRE(outputs.size() == zero_mean.size());
    for (std::size_t k = 0; k < outputs.size(); ++k)
        for (index_t c = 0; c < outputs[k].shape().c; ++c) {
            INFO("layer " << k << ", channel " << c);
            const Moments m = channel_moments(outputs[k], c);
            CHECK(std::abs(m.std - 1.0) < tolerance);
            if (zero_mean[k]) CHECK(std::abs(m.mean) < tolerance);
        }
}

}  // namespace

TEST_CASE("after rescaling, every convolution's output channels have mean 0 and std 1 on the sample") {
    SECTION("a plain conv stack") {
        Model<PlainNet> model(3);
        const Tensor<float> sample = uniform_batch<float>({.n = 4, .c = 1, .h = 12, .w = 12}, 11);
        const init::DataDependentReport report = init::rescale_to_unit_variance(model, sample);
        REQUIRE(report.layers.size() == 3);
        CHECK(report.layers[0].name == "0");
        CHECK(report.layers[1].name == "2");
        CHECK(report.layers[2].name == "4");
        for (const auto& layer : report.layers) {
            INFO(layer.name << ": std " << layer.std_before << " -> " << layer.std_after);
            CHECK(layer.dead_channels == 0);
            CHECK(layer.std_after == Approx(1.0).epsilon(1e-4));
        }
        check_unit_outputs(model, sample, {true, true, true}, 1e-4);
    }
    SECTION("skips, a residual block, a transposed conv and a concat merge") {
        Model<chroma::testing::ComposedNet> model(5);
        const Tensor<float> sample = uniform_batch<float>({.n = 3, .c = 2, .h = 8, .w = 8}, 12);
        const init::DataDependentReport report = init::rescale_to_unit_variance(model, sample);
        std::vector<std::string> names;
        for (const auto& layer : report.layers) {
            names.push_back(layer.name);
            CHECK(layer.dead_channels == 0);
            CHECK(layer.std_after == Approx(1.0).epsilon(1e-4));
        }
        // Forward order: the Skip's inner path (with the transposed conv "2.2") before its projection.
        CHECK(names == std::vector<std::string>{"0", "2.0", "2.2", "2.projection", "3.conv1", "3.conv2",
                                                 "3.downsample", "4", "5"});
        check_unit_outputs(model, sample, std::vector<bool>(9, true), 1e-4);
    }
    SECTION("BatchNorm, Dropout and a conv without bias") {
        Model<NormNet> model(7);
        const Tensor<float> sample = uniform_batch<float>({.n = 5, .c = 1, .h = 10, .w = 10}, 13);
        const auto running_mean = model.parameter("1.running_mean").value.clone();
        const auto batches = model.parameter("1.num_batches_tracked").value.clone();
        const init::DataDependentReport report = init::rescale_to_unit_variance(model, sample);
        REQUIRE(report.layers.size() == 3);
        CHECK(report.layers[1].name == "4");
        // The forwards ran in evaluation mode: BatchNorm's statistics are untouched.
        CHECK(std::memcmp(running_mean.data(), model.parameter("1.running_mean").value.data(),
                          sizeof(float) * 4) == 0);
        CHECK(batches.at(0, 0, 0, 0) == model.parameter("1.num_batches_tracked").value.at(0, 0, 0, 0));
        // Without a bias only the scale changes, so the middle layer's mean stays where it was.
        check_unit_outputs(model, sample, {true, false, true}, 1e-4);
        // The initialiser leaves a model in training mode: Dropout draws a fresh mask each forward.
        Model<NormNet> twin(7);
        init::rescale_to_unit_variance(twin, sample);
        const Tensor<float> first = twin.forward(sample).clone();
        const Tensor<float>& second = twin.forward(sample);
        CHECK(std::memcmp(first.data(), second.data(), sizeof(float) * first.size()) != 0);
    }
}

TEST_CASE("the first layer's output changes by exactly its per-channel affine map") {
    Model<PlainNet, cpu, double> model(21);
    const Tensor<double> sample = uniform_batch<double>({.n = 3, .c = 1, .h = 9, .w = 7}, 22);
    const Tensor<double> before = layer_outputs(model, sample).front();
    const Tensor<double> weight_before = model.parameter("0.weight").value.clone();
    const Tensor<double> bias_before = model.parameter("0.bias").value.clone();

    SECTION("zero mean, unit std") {
        const auto report = init::rescale_to_unit_variance(model, sample);
        const Tensor<double> after = layer_outputs(model, sample).front();
        double std_sum = 0;
        for (index_t c = 0; c < 8; ++c) {
            const Moments m = channel_moments(before, c);
            std_sum += m.std;
            // Parameters by hand: w / std, (b - mean) / std.
            for (index_t i = 0; i < 9; ++i)
                CHECK(model.parameter("0.weight").value.data()[c * 9 + i] ==
                      Approx(weight_before.data()[c * 9 + i] / m.std).epsilon(1e-13));
            CHECK(model.parameter("0.bias").value.data()[c] ==
                  Approx((bias_before.data()[c] - m.mean) / m.std).margin(1e-13));
            // Outputs by hand: (y - mean) / std, element by element.
            for (index_t n = 0; n < 3; ++n)
                for (index_t h = 0; h < 9; ++h)
                    for (index_t w = 0; w < 7; ++w)
                        CHECK(after(n, c, h, w) == Approx((before(n, c, h, w) - m.mean) / m.std).margin(1e-12));
        }
        CHECK(report.layers[0].std_before == Approx(std_sum / 8).epsilon(1e-12));
    }
    SECTION("a target std of 0.5 without centring scales weight and bias alike") {
        init::rescale_to_unit_variance(model, sample, {.target_std = 0.5, .zero_mean = false});
        const Tensor<double> after = layer_outputs(model, sample).front();
        for (index_t c = 0; c < 8; ++c) {
            const Moments m = channel_moments(before, c);
            CHECK(model.parameter("0.bias").value.data()[c] ==
                  Approx(bias_before.data()[c] * 0.5 / m.std).epsilon(1e-13));
            for (index_t n = 0; n < 3; ++n)
                for (index_t h = 0; h < 9; ++h)
                    for (index_t w = 0; w < 7; ++w)
                        CHECK(after(n, c, h, w) == Approx(before(n, c, h, w) * 0.5 / m.std).margin(1e-12));
            CHECK(channel_moments(after, c).std == Approx(0.5).epsilon(1e-12));
        }
    }
}

TEST_CASE("a badly scaled network gets activations of unit size at every depth") {
    const Tensor<float> sample = uniform_batch<float>({.n = 4, .c = 1, .h = 12, .w = 12}, 31);
    for (const double factor : {1000.0, 1e-3}) {
        INFO("weights x " << factor);
        Model<PlainNet> model(32);
        scale_weights(model, factor);
        const double last_before = mean_channel_std(layer_outputs(model, sample).back());
        init::rescale_to_unit_variance(model, sample);
        const double last_after = mean_channel_std(layer_outputs(model, sample).back());
        INFO("last layer's std, weights x " << factor << ": " << last_before << " -> " << last_after);
        if (factor > 1) CHECK(last_before > 1e6);
        else CHECK(last_before < 1e-2);
        CHECK(last_after == Approx(1.0).epsilon(1e-4));

        // Trainable again: a loss on the rescaled net has finite gradients of a workable size.
        Tensor<float> grad(model.forward(sample).shape());
        grad.fill(1.0f / static_cast<float>(grad.size()));
        model.zero_grad();
        model.backward(grad);
        const auto& g = model.parameter("0.weight").grad;
        double norm = 0;
        for (index_t i = 0; i < g.size(); ++i) norm += static_cast<double>(g.data()[i]) * g.data()[i];
        CHECK(std::isfinite(norm));
        CHECK(std::sqrt(norm) < 1e3);
    }
}

TEST_CASE("dead channels are left alone and counted") {
    Model<PlainNet, cpu, double> model(41);
    // Zero channel 3 of the first layer: its output is its bias everywhere, a constant.
    auto& weight = model.parameter("0.weight").value;
    for (index_t h = 0; h < 3; ++h)
        for (index_t w = 0; w < 3; ++w) weight(3, 0, h, w) = 0.0;
    const double bias3 = model.parameter("0.bias").value.data()[3];
    const auto report =
        init::rescale_to_unit_variance(model, uniform_batch<double>({.n = 2, .c = 1, .h = 6, .w = 6}, 42));
    CHECK(report.layers[0].dead_channels == 1);
    CHECK(model.parameter("0.bias").value.data()[3] == bias3);
    CHECK(report.layers[0].std_after == Approx(7.0 / 8.0).epsilon(1e-12));  // seven live channels at 1, one at 0
}

TEST_CASE("the forward observer changes nothing when it is not installed") {
    Model<PlainNet> model(51);
    const Tensor<float> x = uniform_batch<float>({.n = 2, .c = 1, .h = 8, .w = 8}, 52);
    const Tensor<float> plain = model.forward(x).clone();
    Recorder<float> outer, inner;
    {
        ForwardObserverScope<float, cpu> outer_scope(outer);
        {
            ForwardObserverScope<float, cpu> inner_scope(inner);
            model.forward(x);
        }
        model.forward(x);  // the inner scope's end reinstated the outer observer
    }
    CHECK(inner.outputs.size() == 3);
    CHECK(outer.outputs.size() == 3);
    const Tensor<float>& again = model.forward(x);
    CHECK(inner.outputs.size() == 3);  // nothing seen once both scopes ended
    CHECK(outer.outputs.size() == 3);
    CHECK(std::memcmp(plain.data(), again.data(), sizeof(float) * plain.size()) == 0);
    // The observer sees exactly what the layer returns (the last conv's output is the model's).
    CHECK(std::memcmp(inner.outputs.back().data(), plain.data(), sizeof(float) * plain.size()) == 0);
    // An observer for double does not see a float model.
    Recorder<double> other;
    ForwardObserverScope<double, cpu> other_scope(other);
    model.forward(x);
    CHECK(other.outputs.empty());
}

TEST_CASE("rescale_to_unit_variance rejects what it cannot use") {
    Model<PlainNet> model(61);
    CHECK_THROWS_WITH(init::rescale_to_unit_variance(model, Tensor<float>({.n = 1, .c = 1, .h = 8, .w = 8})),
                      Catch::Contains("at least 2 images") && Catch::Contains("[N=1, C=1, H=8, W=8]"));
    CHECK_THROWS_WITH(init::rescale_to_unit_variance(model, uniform_batch<float>({.n = 2, .c = 1, .h = 8, .w = 8}, 1),
                                                     {.target_std = 0.0}),
                      Catch::Contains("target_std must be positive"));
    CHECK_THROWS_AS(init::rescale_to_unit_variance(model, uniform_batch<float>({.n = 2, .c = 3, .h = 8, .w = 8}, 1)),
                    shape_error);

    Model<Sequential<ReLU, Tanh>> no_convs;
    const Tensor<float> small = uniform_batch<float>({.n = 2, .c = 1, .h = 4, .w = 4}, 1);
    CHECK_THROWS_WITH(init::rescale_to_unit_variance(no_convs, small), Catch::Contains("no convolution layers"));
}
