#pragma once
// Regression of ab with class rebalancing: an L1 loss in which every pixel counts with the
// rebalancing weight of its true colour's bin (color/prior.hpp).
//
// Plain L1 predicts, for each pixel, the median of the colours its context could have; for most
// of a photo that median is a desaturated brown, which is why L1-trained models look sepia.
// Weighting rare (saturated) colours up moves that median towards them: the regression
// counterpart of the rebalanced cross-entropy of Zhang et al. (seed 001) and seed 003.
//
//   loss = 1/(N*2*H*W) * sum over n, c, h, w of  w(bin of ab[n,:,h,w]) * |prediction - target|
//
// with prediction and target normalised (ab / 110 by default). The weights have expectation 1
// under the prior, so the loss is on the scale of plain L1; lambda = 1 gives plain L1 exactly.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../color/ab_bins.hpp"
#include "../color/bin_lookup.hpp"
#include "../color/encoding.hpp"
#include "../color/prior.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "../loss/loss_support.hpp"
#include "regression_task.hpp"

namespace chroma::train {

/// RegressionTask's input and read-back, with the rebalanced L1 loss above.
class RebalancedRegressionTask : public RegressionTask<loss::L1Loss> {
public:
    /// `prior`: a distribution over Zhang's 313 bins (estimate_prior, or color::zhang_prior_vector()).
    explicit RebalancedRegressionTask(std::vector<double> prior, double lambda = 0.5,
                                      color::Normalization lightness = color::lightness_centered,
                                      color::Normalization ab = color::ab_over_110)
        : RegressionTask<loss::L1Loss>(lightness, ab), lookup_(color::AbBins::zhang(), 1), lambda_(lambda) {
        if (static_cast<index_t>(prior.size()) != lookup_.bins().size())
            throw usage_error("RebalancedRegressionTask: the prior has " + std::to_string(prior.size()) +
                              " values, one per bin (" + std::to_string(lookup_.bins().size()) + ") is needed");
        const std::vector<double> weights = color::rebalancing_weights(prior, lambda);
        bin_weight_.assign(weights.begin(), weights.end());
    }

    double loss(const Tensor<float>& prediction, const Batch& batch, Tensor<float>& grad) {
        loss::detail::require_same_shape("RebalancedRegressionTask", "prediction", prediction.shape(), "true ab",
                                         batch.ab.shape());
        loss::detail::require_nonempty("RebalancedRegressionTask", "prediction", prediction.shape());
        const Shape s = prediction.shape();
        nearest_.resize(static_cast<std::size_t>(s.n * s.plane()));
        kernels::nearest_bin_indices(batch.ab, lookup_.view(), nearest_.data());
        const Tensor<float>& target = normalized_target(batch);
        grad.resize(s);

        const double scale = 1.0 / static_cast<double>(prediction.size());
        const index_t plane = s.plane();
        double total = 0.0;
        for (index_t n = 0; n < s.n; ++n) {
            const std::int32_t* bins = nearest_.data() + n * plane;
            for (index_t c = 0; c < s.c; ++c) {
                const index_t offset = (n * s.c + c) * plane;
                const float* p = prediction.data() + offset;
                const float* t = target.data() + offset;
                float* g = grad.data() + offset;
                for (index_t i = 0; i < plane; ++i) {
                    const float w = bin_weight_[static_cast<std::size_t>(bins[i])];
                    const float d = p[i] - t[i];
                    total += static_cast<double>(w * std::fabs(d));
                    // 0 where they agree, as for L1Loss.
                    g[i] = static_cast<float>(scale) * w * static_cast<float>((d > 0.0f) - (d < 0.0f));
                }
            }
        }
        return total * scale;
    }

    std::string describe() const {
        return "regression of ab, L1 with class rebalancing (lambda " + chroma::detail::number_text(lambda_) +
               ", weights " + rounded(min_weight()) + " to " + rounded(max_weight()) + ")";
    }

    float min_weight() const { return *std::min_element(bin_weight_.begin(), bin_weight_.end()); }
    float max_weight() const { return *std::max_element(bin_weight_.begin(), bin_weight_.end()); }

private:
    static std::string rounded(float value) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3g", static_cast<double>(value));
        return text;
    }

    color::BinLookup lookup_;
    double lambda_;
    std::vector<float> bin_weight_;
    std::vector<std::int32_t> nearest_;
};

}  // namespace chroma::train
