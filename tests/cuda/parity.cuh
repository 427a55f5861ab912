#pragma once
// CPU/CUDA parity checks shared by the CUDA tests: the same parameters and inputs on both
// backends must give the same outputs, input gradients, parameter gradients and statistics.
#include <chroma/backend/cuda/all.cuh>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace chroma::cuda_testing {

/// Float parity tolerance: |gpu - cpu| / max(1, |cpu|) for every element.
inline constexpr double tolerance = 1e-4;

inline double max_relative_error(const Tensor<float>& actual, const Tensor<float>& expected) {
    require_same_shape(expected.shape(), actual.shape(), "max_relative_error");
    double worst = 0.0;
    for (index_t i = 0; i < actual.size(); ++i) {
        const double a = actual.data()[i], e = expected.data()[i];
        const double error = std::abs(a - e) / std::max(1.0, std::abs(e));
        worst = std::max(worst, std::isnan(error) ? INFINITY : error);
    }
    return worst;
}
inline double max_relative_error(const Tensor<float, cuda>& actual, const Tensor<float>& expected) {
    return max_relative_error(to_host(actual), expected);
}

inline Tensor<float> random_tensor(Shape shape, Rng& rng, double low = -1.0, double high = 1.0) {
    Tensor<float> t(shape);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(rng.uniform(low, high));
    return t;
}

/// Every parameter (value, and gradient when `gradients`) of the two models agrees by name.
template <class HostModel, class DeviceModel>
void check_same_parameters(HostModel& host, DeviceModel& device, bool gradients) {
    device.visit_parameters([&](std::string_view name, Parameter<float, cuda>& p) {
        Parameter<float>& expected = host.parameter(name);
        INFO("parameter " << name);
        CHECK(max_relative_error(p.value, expected.value) < tolerance);
        if (gradients && p.trainable()) {
            INFO("gradient of " << name);
            CHECK(max_relative_error(p.grad, expected.grad) < tolerance);
        }
    });
}

struct no_preparation {
    template <class M>
    void operator()(M&) const {}
};

/// Runs one forward and one backward of Spec on both backends from the same parameters and
/// inputs and compares everything. `prepare(model)` runs on both models first (seeding Dropout).
template <class Spec, class Prepare = no_preparation>
void check_parity(Shape input_shape, bool training = true, std::uint64_t seed = 7, Prepare prepare = {}) {
    Model<Spec, cpu, float> host(seed);
    Model<Spec, cuda, float> device(seed + 1);  // different start, then copied: checks copy_parameters
    copy_parameters(host, device);
    host.set_training(training);
    device.set_training(training);
    prepare(host);
    prepare(device);

    Rng rng(seed);
    const Tensor<float> x = random_tensor(input_shape, rng);
    const Tensor<float, cuda> x_device = to_device(x);
    const Tensor<float> y = host.forward(x).clone();
    const Tensor<float> y_device = to_host(device.forward(x_device));
    INFO("forward output " << y.shape().str());
    REQUIRE(y_device.shape() == y.shape());
    CHECK(max_relative_error(y_device, y) < tolerance);
    check_same_parameters(host, device, false);  // running statistics after forward

    const Tensor<float> dy = random_tensor(y.shape(), rng);
    const Tensor<float, cuda> dy_device = to_device(dy);
    host.zero_grad();
    device.zero_grad();
    const Tensor<float> dx = host.backward(dy).clone();
    const Tensor<float> dx_device = to_host(device.backward(dy_device));
    INFO("input gradient");
    REQUIRE(dx_device.shape() == dx.shape());
    CHECK(max_relative_error(dx_device, dx) < tolerance);
    check_same_parameters(host, device, true);
}

}  // namespace chroma::cuda_testing
