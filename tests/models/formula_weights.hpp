#pragma once
// Fills a model's parameters and BatchNorm statistics with the formula of fill_formula() in
// tests/reference/model_fixtures.py, so that a model and its PyTorch twin hold the same values
// without any weight file: tensor k in sorted-name order (num_batches_tracked left out), flat
// index i, t = sin(0.7 i + 1.3 k), scaled by the tensor's kind. Also the comparisons the model
// tests share.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "support/fixture.hpp"

namespace chroma::testing {

inline double formula_value(std::string_view name, int rank, const Shape& shape, index_t i, index_t k) {
    const double t = std::sin(0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(k));
    if (name.ends_with("running_var")) return 1.0 + 0.5 * t * t;
    if (name.ends_with("running_mean") || name.ends_with("bias")) return 0.1 * t;
    if (rank == 1) return 1.0 + 0.2 * t;  // a BatchNorm scale
    // A conv weight ([out, in, k, k], or [in, out, k, k] transposed): PyTorch's dims 1..3.
    return t / std::sqrt(static_cast<double>(shape.c * shape.h * shape.w));
}

template <class M>
void fill_formula(M& model) {
    using T = typename M::value_type;
    std::vector<std::string> names;
    model.visit_parameters([&](std::string_view name, auto&) {
        if (!name.ends_with("num_batches_tracked")) names.emplace_back(name);
    });
    std::sort(names.begin(), names.end());
    model.visit_parameters([&](std::string_view name, auto& p) {
        const auto it = std::lower_bound(names.begin(), names.end(), name);
        if (it == names.end() || *it != name) return;
        const index_t k = it - names.begin();
        for (index_t i = 0; i < p.value.size(); ++i)
            p.value.data()[i] = static_cast<T>(formula_value(name, p.rank, p.value.shape(), i, k));
    });
}

/// A float copy of a double tensor.
inline Tensor<float> to_float(const Tensor<double>& x) {
    Tensor<float> y(x.shape());
    for (index_t i = 0; i < x.size(); ++i) y.data()[i] = static_cast<float>(x.data()[i]);
    return y;
}
inline Tensor<double> to_double(const Tensor<float>& x) {
    Tensor<double> y(x.shape());
    for (index_t i = 0; i < x.size(); ++i) y.data()[i] = x.data()[i];
    return y;
}

/// Runs Net filled by the formula, in double and in float, on `input` and compares with the
/// PyTorch output: 1e-8 relative for double, 1e-4 for float (max_relative_error's measure).
/// `warmup` training forwards come first, as in the fixture (model_fixtures.py, outputs()).
template <class Net>
void check_formula_parity(const Tensor<double>& input, const Tensor<double>& expected, bool training,
                          double double_tolerance = 1e-8, double float_tolerance = 1e-4, int warmup = 0) {
    {
        Model<Net, cpu, double> model;
        fill_formula(model);
        model.train();
        for (int i = 0; i < warmup; ++i) model.forward(input);
        model.set_training(training);
        const double error = max_relative_error(model.forward(input), expected);
        INFO("double, training " << training << ": max relative error " << error);
        CHECK(error < double_tolerance);
    }
    {
        Model<Net, cpu, float> model;
        fill_formula(model);
        const Tensor<float> x = to_float(input);
        model.train();
        for (int i = 0; i < warmup; ++i) model.forward(x);
        model.set_training(training);
        const double error = max_relative_error(to_double(model.forward(x)), expected);
        INFO("float, training " << training << ": max relative error " << error);
        CHECK(error < float_tolerance);
    }
}

/// The shape a parameter has in PyTorch: its dims for rank 4, [n] for rank 1, [] for a scalar.
template <class P>
std::vector<double> torch_dims(const P& p) {
    const Shape s = p.value.shape();
    if (p.rank == 0) return {};
    if (p.rank == 1) return {static_cast<double>(s.n)};
    return {static_cast<double>(s.n), static_cast<double>(s.c), static_cast<double>(s.h), static_cast<double>(s.w)};
}

}  // namespace chroma::testing
