#pragma once
// Checks a layer spec against a PyTorch fixture: the same parameters give the same output,
// input gradient, parameter gradients and (for BatchNorm) running statistics.
//
// Fixture keys (see tests/reference/make_fixtures.py): input, output, grad_output, grad_input,
// training, param.<name> (loaded before forward), grad.<name> (compared after backward),
// after.<name> (statistics compared after forward).
#include <catch2/catch.hpp>

#include "fixture.hpp"

namespace chroma::testing {

template <class Spec>
void check_against_torch(const std::string& fixture_name, double tolerance = 1e-10) {
    INFO("fixture " << fixture_name);
    const Fixture f(fixture_name);
    Model<Spec, cpu, double> model;
    model.set_training(!f.has("training") || f["training"].scalar() != 0.0);
    int loaded = 0;
    model.visit_parameters([&](std::string_view name, Parameter<double>& p) {
        const std::string key = "param." + std::string(name);
        if (!f.has(key)) return;
        require_same_shape(f[key].shape(), p.value.shape(), key);
        std::copy(f[key].values.begin(), f[key].values.end(), p.value.data());
        ++loaded;
    });
    // Every PyTorch parameter and buffer must have found its Chroma twin by name.
    CHECK(loaded == f.count_with_prefix("param."));

    const Tensor<double> output = model.forward(f["input"].tensor()).clone();
    CHECK(max_relative_error(output, f["output"].tensor()) < tolerance);
    model.visit_parameters([&](std::string_view name, Parameter<double>& p) {
        const std::string key = "after." + std::string(name);
        if (!f.has(key)) return;
        INFO("statistic " << name);
        CHECK(max_relative_error(p.value, f[key].tensor()) < tolerance);
    });

    if (!f.has("grad_output")) return;
    model.zero_grad();
    const Tensor<double>& grad_input = model.backward(f["grad_output"].tensor());
    CHECK(max_relative_error(grad_input, f["grad_input"].tensor()) < tolerance);
    model.visit_parameters([&](std::string_view name, Parameter<double>& p) {
        const std::string key = "grad." + std::string(name);
        if (!p.trainable()) return;
        INFO("gradient of " << name);
        REQUIRE(f.has(key));
        CHECK(max_relative_error(p.grad, f[key].tensor()) < tolerance);
    });
}

}  // namespace chroma::testing
