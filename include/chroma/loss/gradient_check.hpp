#pragma once
// A finite-difference check for a loss's gradient, in double precision, that anyone writing a
// loss can call: the analytic gradient w.r.t. one input tensor against central differences of
// the loss value.
// Usage:  loss::MSELoss mse; Tensor<double> p = ..., t = ..., grad;
//         mse.forward_backward(p, t, grad);
//         auto check = loss::check_gradient(p, grad, [&] { return mse.value(p, t); });
//         assert(check.max_error < 1e-7);
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace chroma::loss {

struct GradientCheck {
    double max_error = 0.0;  // largest |analytic - numeric| / max(1, |numeric|)
    index_t worst = -1;      // the flat index where it occurred
    double analytic_at_worst = 0.0, numeric_at_worst = 0.0;
    index_t points = 0;  // elements compared

    std::string describe() const {
        return "worst at element " + std::to_string(worst) + ": analytic " + std::to_string(analytic_at_worst) +
               ", numeric " + std::to_string(numeric_at_worst) + " (" + std::to_string(points) + " points)";
    }
};

/// Perturbs elements of `input` (restoring each afterwards) and compares (value() at x + step -
/// value() at x - step) / (2 step) with `analytic`, at up to `max_points` elements spread evenly
/// over the tensor. `value` is called with no arguments and must read `input`.
template <class Value>
GradientCheck check_gradient(Tensor<double>& input, const Tensor<double>& analytic, Value&& value,
                             double step = 1e-6, index_t max_points = 512) {
    if (!(input.shape() == analytic.shape()))
        throw shape_error("check_gradient: the input has shape " + input.shape().str() +
                          " but the gradient has shape " + analytic.shape().str());
    GradientCheck result;
    const index_t stride = std::max<index_t>(1, input.size() / std::max<index_t>(1, max_points));
    for (index_t i = 0; i < input.size(); i += stride) {
        const double saved = input.data()[i];
        input.data()[i] = saved + step;
        const double plus = value();
        input.data()[i] = saved - step;
        const double minus = value();
        input.data()[i] = saved;
        const double numeric = (plus - minus) / (2.0 * step);
        double error = std::abs(analytic.data()[i] - numeric) / std::max(1.0, std::abs(numeric));
        // A NaN anywhere is a failure, never a pass.
        if (std::isnan(error)) error = std::numeric_limits<double>::infinity();
        ++result.points;
        if (error > result.max_error || result.worst < 0) {
            result.max_error = std::max(result.max_error, error);
            result.worst = i;
            result.analytic_at_worst = analytic.data()[i];
            result.numeric_at_worst = numeric;
        }
    }
    return result;
}

}  // namespace chroma::loss
