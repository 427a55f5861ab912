#pragma once
// A numerical gradient checker that any layer author can call: central finite differences
// against a layer's backward(), in double precision.
//
// The scalar checked is loss(x) = sum(forward(x) * r) for a fixed random r, so the analytic
// input gradient is backward(r) and the parameter gradients are what backward accumulated.
// Usage: Model<MyLayer, cpu, double> m; Rng rng(1);
//        auto result = testing::check_gradients(m, testing::random_tensor(shape, rng), rng);
//        assert(result.max_error < 1e-6);
#include "../core/parameter.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace chroma::testing {

inline void fill_uniform(Tensor<double>& t, Rng& rng, double low = -1.0, double high = 1.0) {
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = rng.uniform(low, high);
}

inline Tensor<double> random_tensor(Shape shape, Rng& rng, double low = -1.0, double high = 1.0) {
    Tensor<double> t(shape);
    fill_uniform(t, rng, low, high);
    return t;
}

inline double dot(const Tensor<double>& a, const Tensor<double>& b) {
    double sum = 0.0;
    for (index_t i = 0; i < a.size(); ++i) sum += a.data()[i] * b.data()[i];
    return sum;
}

struct GradcheckOptions {
    double step = 1e-6;        // finite-difference step
    index_t max_points = 256;  // elements checked per tensor, evenly spread over it
    // Called before every forward (e.g. to replay the same dropout mask).
    std::function<void()> before_forward = [] {};
};

struct GradcheckResult {
    double max_error = 0.0;  // largest |analytic - numeric| / max(1, |numeric|); NaN counts as infinite
    std::string worst;       // which tensor and element gave max_error
    index_t points = 0;      // how many elements were compared

    std::string describe() const { return "worst " + worst + " (" + std::to_string(points) + " points)"; }
};

/// Perturbs elements of `input` (restoring each) and compares (value() at x + step - value() at
/// x - step) / (2 step) with `analytic`, at up to `max_points` elements spread evenly over the
/// tensor. `value` takes no arguments and must read `input`. Results are merged into `result`,
/// so one result can cover several tensors; `label` names this one.
template <class Value>
GradcheckResult check_gradient(Tensor<double>& input, const Tensor<double>& analytic, Value&& value,
                               const std::string& label = "input", double step = 1e-6, index_t max_points = 512,
                               GradcheckResult result = {}) {
    require_same_shape(input.shape(), analytic.shape(), "check_gradient: the analytic gradient of " + label);
    const index_t stride = std::max<index_t>(1, input.size() / std::max<index_t>(1, max_points));
    for (index_t i = 0; i < input.size(); i += stride) {
        const double saved = input.data()[i];
        input.data()[i] = saved + step;
        const double plus = value();
        input.data()[i] = saved - step;
        const double minus = value();
        input.data()[i] = saved;
        const double numeric = (plus - minus) / (2 * step);
        double error = std::abs(analytic.data()[i] - numeric) / std::max(1.0, std::abs(numeric));
        if (std::isnan(error)) error = std::numeric_limits<double>::infinity();  // NaN is a failure
        ++result.points;
        if (error > result.max_error || result.worst.empty()) {
            result.max_error = std::max(result.max_error, error);
            result.worst = label + "[" + std::to_string(i) + "]: analytic " + std::to_string(analytic.data()[i]) +
                           ", numeric " + std::to_string(numeric);
        }
    }
    return result;
}

/// Checks a layer's backward (input and parameter gradients) against finite differences of
/// loss(x) = sum(forward(x) * r), r a fixed random tensor.
template <class L>
GradcheckResult check_gradients(L& layer, Tensor<double> x, Rng& rng, const GradcheckOptions& options = {}) {
    options.before_forward();
    const Tensor<double>& y0 = layer.forward(x);
    const Tensor<double> r = random_tensor(y0.shape(), rng);

    layer.visit_parameters([](std::string_view, Parameter<double>& p) {
        if (p.trainable()) p.gradient().fill(0.0);
    });
    const Tensor<double> dx = layer.backward(r).clone();
    std::vector<Tensor<double>> param_grads;
    layer.visit_parameters([&](std::string_view, Parameter<double>& p) {
        if (p.trainable()) param_grads.push_back(p.grad.clone());
    });

    auto loss = [&] {
        options.before_forward();
        return dot(layer.forward(x), r);
    };
    GradcheckResult result = check_gradient(x, dx, loss, "input", options.step, options.max_points);
    std::size_t k = 0;
    layer.visit_parameters([&](std::string_view name, Parameter<double>& p) {
        if (p.trainable())
            result = check_gradient(p.value, param_grads[k++], loss, std::string(name), options.step,
                                    options.max_points, result);
    });
    return result;
}

}  // namespace chroma::testing
