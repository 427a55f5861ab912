#pragma once
// HintsTask trains a user-guided colouriser (models::Siggraph17Network) as Zhang et al.'s
// SIGGRAPH 2017 paper does (section 3.3): every batch gets simulated hints drawn from its own
// truth (data::simulate_hints), the model sees (L - 50) / 100, the hint ab / 110 and the hint
// mask, and regresses ab / 110 under the paper's smooth L1 loss (Huber, delta = 1 ab unit).
//
// Training draws new hints every step. Validation draws the same hints on every pass (its own
// seed, restarted by start_pass), so its loss and scores compare from one epoch to the next.
#include <cstdint>
#include <string>

#include "../core/random.hpp"
#include "../data/hints.hpp"
#include "../loss/regression.hpp"
#include "../models/siggraph17.hpp"
#include "batch.hpp"
#include "regression_task.hpp"

namespace chroma::train {

class HintsTask {
public:
    /// delta = 1 ab unit, in the model's ab / 110 units.
    static constexpr double huber_delta = 1.0 / models::siggraph17_ab_norm;

    explicit HintsTask(std::uint64_t seed = 1, data::HintOptions options = {})
        : seed_(seed), options_(options), training_hints_(seed), validation_hints_(seed ^ validation_stream),
          regression_(color::lightness_centered, color::ab_over_110, loss::SmoothL1Loss(huber_delta)) {}

    /// Called by the trainer before each pass over the data: validation restarts its hints.
    void start_pass(bool validation) {
        validating_ = validation;
        if (validation) validation_hints_ = Rng(seed_ ^ validation_stream);
    }

    /// [N,4,H,W]: normalised L, then the hints' ab / 110, then their mask.
    const Tensor<float>& input(const Batch& batch) {
        data::simulate_hints(batch.ab, validating_ ? validation_hints_ : training_hints_, options_, hints_);
        return input_with(batch.lightness, hints_);
    }

    /// The model input for given hints (ab in CIELAB units, as data::Hints holds them): what
    /// colourising with a person's hints feeds the network.
    const Tensor<float>& input_with(const Tensor<float>& lightness, const data::Hints& hints) {
        const Shape s = lightness.shape();
        if (s.c != 1 || hints.ab.shape() != Shape{.n = s.n, .c = 2, .h = s.h, .w = s.w} ||
            hints.mask.shape() != Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w})
            throw shape_error("HintsTask: L " + s.str() + " needs hint ab [N,2,H,W] and a mask [N,1,H,W] of its size, got " +
                              hints.ab.shape().str() + " and " + hints.mask.shape().str());
        input_.resize(Shape{.n = s.n, .c = 4, .h = s.h, .w = s.w});
        const index_t plane = s.plane();
        for (index_t n = 0; n < s.n; ++n) {
            const float* l = lightness.data() + n * plane;
            const float* ab = hints.ab.data() + n * 2 * plane;
            const float* mask = hints.mask.data() + n * plane;
            float* out = input_.data() + n * 4 * plane;
            for (index_t i = 0; i < plane; ++i) {
                out[i] = static_cast<float>((l[i] - models::siggraph17_l_cent) / models::siggraph17_l_norm);
                out[plane + i] = static_cast<float>(ab[i] / models::siggraph17_ab_norm);
                out[2 * plane + i] = static_cast<float>(ab[plane + i] / models::siggraph17_ab_norm);
                out[3 * plane + i] = mask[i];
            }
        }
        return input_;
    }

    /// The output is ab / 110, as a RegressionTask's: its target, loss and read-back.
    double loss(const Tensor<float>& prediction, const Batch& batch, Tensor<float>& grad) {
        return regression_.loss(prediction, batch, grad);
    }
    const Tensor<float>& predicted_ab(const Tensor<float>& prediction) { return regression_.predicted_ab(prediction); }

    std::string describe() const { return "regression of ab from L and simulated hints, smooth L1 (delta 1 ab unit)"; }

private:
    static constexpr std::uint64_t validation_stream = 0x5A11D;

    std::uint64_t seed_;
    data::HintOptions options_;
    Rng training_hints_, validation_hints_;
    bool validating_ = false;
    data::Hints hints_;
    Tensor<float> input_;
    RegressionTask<loss::SmoothL1Loss> regression_;
};

}  // namespace chroma::train
