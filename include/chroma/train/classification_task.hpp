#pragma once
// ClassificationTask: how the trainer drives the 313-bin classifiers (seeds 001 and 003).
//
//   input         L normalised as the network expects ((L - 50) / 100 for ECCV16 and the light
//                 classifier).
//   target        the ab of each pixel encoded over Zhang's 313 bins at the logits' resolution:
//                 soft (the 5 nearest bins weighted by a Gaussian of sigma 5, seed 001) or hard
//                 (the nearest bin, seed 003's "naive quantization"). Where the logits are smaller
//                 than the input (ECCV16: a quarter), ab is first averaged over each f x f block
//                 (area downsampling) and the averaged ab is encoded. Seed 001 only says the
//                 output is at 1/4 size; averaging keeps every pixel's colour in the target,
//                 where Caffe's stride-4 subsampling would keep one pixel in sixteen, and costs
//                 a 2-channel average rather than encoding 313 channels at full size.
//   loss          the rebalanced cross-entropy (loss/cross_entropy.hpp): class weights from a
//                 prior with lambda = 0.5 (color/prior.hpp), or none. With alpha > 0 the
//                 distribution loss joins it as seed 003's alpha L_dt + (1 - alpha) L_cl
//                 (loss/classification_objective.hpp; the seed uses alpha = 0.4).
//   predicted_ab  softmax, decode (annealed mean T = 0.38 by default; top-k, mean, mode), then
//                 bilinear upsampling (align_corners = false, as eccv16.py) to the input size.
//
// The prior is a vector over the bins: Zhang's ImageNet prior (color::zhang_prior_vector()),
// one estimated from the training data (estimate_prior below), or uniform (an empty vector;
// the rebalancing weights are then all 1 and the distribution loss pulls towards uniform use).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "../backend/cpu/softmax.hpp"
#include "../backend/cpu/upsample.hpp"
#include "../color/bin_lookup.hpp"
#include "../color/decoding.hpp"
#include "../color/encoding.hpp"
#include "../color/normalization.hpp"
#include "../color/prior.hpp"
#include "../color/zhang_bins.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"
#include "../loss/classification_objective.hpp"
#include "batch.hpp"

namespace chroma::train {

/// How a pixel's ab becomes a target over the bins.
enum class BinEncoding {
    soft,  // Zhang et al.: the `neighbours` nearest bins, Gaussian weights of width sigma
    hard,  // one-hot at the nearest bin (seed 003)
};

struct ClassificationOptions {
    std::string architecture = "classifier";                   // named first in describe()
    color::Normalization lightness = color::lightness_centered;  // the network's input scaling
    BinEncoding encoding = BinEncoding::soft;
    int neighbours = 5;   // soft encoding only
    double sigma = 5.0;   // soft encoding only, in ab units
    std::vector<double> prior;  // one value per bin; empty: uniform
    std::string prior_name;     // how the prior was obtained, for describe() ("estimated from 2,000 images")
    bool rebalance = true;      // class rebalancing weights from the prior
    double lambda = 0.5;        // rebalancing: w ~ ((1 - lambda) p + lambda / Q)^-1
    double alpha = 0.0;         // weight of the distribution loss; 0: cross-entropy alone
    color::Decoding decoding = color::Decoding::annealed_mean(0.38);
};

/// A uniform distribution over `bins` bins.
inline std::vector<double> uniform_prior(index_t bins = color::zhang_bin_count) {
    return std::vector<double>(static_cast<std::size_t>(bins), 1.0 / static_cast<double>(bins));
}

/// The prior of a data source's ab, as Zhang et al. compute it (nearest-bin counts smoothed by a
/// Gaussian of sigma 5), from its first epoch, or from `max_batches` batches of it when positive.
template <BatchSource Source>
std::vector<double> estimate_prior(Source& source, int max_batches = 0, double sigma = 5.0) {
    color::PriorEstimator estimator(color::AbBins::zhang());
    source.start_epoch(0);
    int batches = 0;
    while (auto batch = source.next()) {
        estimator.add(batch->ab);
        if (max_batches > 0 && ++batches >= max_batches) break;
    }
    return estimator.prior(sigma);
}

namespace detail {

/// ab [N,2,H,W] averaged over factor x factor blocks into [N,2,H/factor,W/factor].
inline void area_downsample(const Tensor<float>& from, index_t factor, Tensor<float>& to) {
    const Shape s = from.shape();
    const Shape small{.n = s.n, .c = s.c, .h = s.h / factor, .w = s.w / factor};
    to.resize(small);
    const float scale = 1.0f / static_cast<float>(factor * factor);
    for (index_t plane = 0; plane < s.n * s.c; ++plane) {
        const float* in = from.data() + plane * s.plane();
        float* out = to.data() + plane * small.plane();
        for (index_t y = 0; y < small.h; ++y)
            for (index_t x = 0; x < small.w; ++x) {
                float sum = 0.0f;
                for (index_t dy = 0; dy < factor; ++dy)
                    for (index_t dx = 0; dx < factor; ++dx) sum += in[(y * factor + dy) * s.w + x * factor + dx];
                out[y * small.w + x] = sum * scale;
            }
    }
}

}  // namespace detail

class ClassificationTask {
public:
    explicit ClassificationTask(ClassificationOptions options = {})
        : options_(std::move(options)),
          lookup_(color::AbBins::zhang(), options_.encoding == BinEncoding::soft ? options_.neighbours : 1),
          objective_(make_objective(options_)) {}

    const Tensor<float>& input(const Batch& batch) {
        const Shape s = batch.lightness.shape();
        if (s.c != 1) throw shape_error("ClassificationTask: the lightness must be [N,1,H,W], got " + s.str());
        input_.resize(s);
        kernels::copy(batch.lightness, input_);
        color::normalize_in_place(input_, options_.lightness);
        input_shape_ = s;
        return input_;
    }

    double loss(const Tensor<float>& logits, const Batch& batch, Tensor<float>& grad) {
        const index_t factor = resolution_factor(logits.shape(), batch.ab.shape());
        const Tensor<float>* ab = &batch.ab;
        if (factor > 1) {
            detail::area_downsample(batch.ab, factor, ab_small_);
            ab = &ab_small_;
        }
        if (options_.encoding == BinEncoding::soft)
            color::soft_encode(*ab, lookup_, target_, options_.sigma);
        else
            color::hard_encode(*ab, lookup_, target_);
        if (options_.alpha > 0.0) return objective_.forward_backward(logits, target_, grad);
        return objective_.cross_entropy().forward_backward(logits, target_, grad);
    }

    /// ab in CIELAB units at the size of the last input.
    const Tensor<float>& predicted_ab(const Tensor<float>& logits) {
        const Shape s = logits.shape();
        if (s.c != color::zhang_bin_count)
            throw shape_error("ClassificationTask: expects " + std::to_string(color::zhang_bin_count) +
                              " bin logits per pixel, got " + s.str());
        probabilities_.resize(s);
        kernels::softmax_channels_forward(logits, probabilities_);
        return ab_from_probabilities(probabilities_);
    }

    /// predicted_ab after the softmax: bin probabilities [N,313,h,w] (e.g. an average of several
    /// predictions' softmax) decoded and upsampled to the input size.
    const Tensor<float>& ab_from_probabilities(const Tensor<float>& probabilities) {
        const Shape s = probabilities.shape();
        if (s.c != color::zhang_bin_count)
            throw shape_error("ClassificationTask: expects " + std::to_string(color::zhang_bin_count) +
                              " bin probabilities per pixel, got " + s.str());
        color::decode(probabilities, lookup_.bins(), options_.decoding, ab_small_out_);
        if (input_shape_.count() == 0) return ab_small_out_;  // no input seen: the probabilities' own size
        const index_t factor = resolution_factor(s, Shape{.n = s.n, .c = 2, .h = input_shape_.h, .w = input_shape_.w});
        if (factor == 1) return ab_small_out_;
        ab_out_.resize(Shape{.n = s.n, .c = 2, .h = s.h * factor, .w = s.w * factor});
        kernels::upsample_bilinear_forward(factor, ab_small_out_, ab_out_);
        return ab_out_;
    }

    /// "eccv16: 313-bin classification, soft targets (5 nearest bins, sigma 5) ..., decode: ...".
    std::string describe() const {
        std::string text = options_.architecture + ": " + std::to_string(color::zhang_bin_count) + "-bin classification, ";
        text += options_.encoding == BinEncoding::soft
                    ? "soft targets (" + std::to_string(options_.neighbours) + " nearest bins, sigma " +
                          chroma::detail::number_text(options_.sigma) + ")"
                    : "hard targets (nearest bin)";
        text += " of area-averaged ab at the logits' size; rebalanced cross-entropy";
        const std::string prior = options_.prior.empty() ? "uniform prior"
                                                         : (options_.prior_name.empty() ? "given prior" : options_.prior_name);
        text += options_.rebalance ? " (lambda " + chroma::detail::number_text(options_.lambda) + ", " + prior + ")"
                                   : " (no rebalancing)";
        if (options_.alpha > 0.0)
            text += " + distribution loss (alpha " + chroma::detail::number_text(options_.alpha) + ", " + prior + ")";
        return text + "; decode: " + options_.decoding.describe() + ", bilinear upsampling to the input size";
    }

    const ClassificationOptions& options() const noexcept { return options_; }
    /// The encoded target of the last loss() call, [N,313,h,w].
    const Tensor<float>& target() const noexcept { return target_; }

private:
    static loss::ClassificationObjective make_objective(const ClassificationOptions& o) {
        if (o.neighbours < 1 || o.neighbours > color::max_neighbours)
            throw usage_error("ClassificationTask: soft encoding takes 1 to " + std::to_string(color::max_neighbours) +
                              " neighbours, got " + std::to_string(o.neighbours));
        if (!o.prior.empty() && static_cast<index_t>(o.prior.size()) != color::zhang_bin_count)
            throw usage_error("ClassificationTask: the prior has " + std::to_string(o.prior.size()) +
                              " values, one per bin (" + std::to_string(color::zhang_bin_count) + ") is needed");
        std::vector<double> prior = o.prior.empty() ? uniform_prior() : o.prior;
        std::vector<double> weights = o.rebalance ? color::rebalancing_weights(prior, o.lambda) : std::vector<double>{};
        return loss::ClassificationObjective(std::move(weights), std::move(prior), o.alpha);
    }

    /// How many times larger the input (ab) is than the logits; the same whole number both ways.
    static index_t resolution_factor(const Shape& logits, const Shape& ab) {
        if (logits.c != color::zhang_bin_count || ab.c != 2 || logits.n != ab.n || logits.h < 1 || logits.w < 1)
            throw shape_error("ClassificationTask: expects logits [N," + std::to_string(color::zhang_bin_count) +
                              ",h,w] for ab [N,2,H,W] of the same N, got logits " + logits.str() + " and ab " +
                              ab.str());
        const index_t factor = ab.h / logits.h;
        if (factor < 1 || ab.h != factor * logits.h || ab.w != factor * logits.w)
            throw shape_error("ClassificationTask: the logits " + logits.str() + " must be the ab's size " + ab.str() +
                              " divided by one whole factor in both height and width (ECCV16: 4, use sizes that are "
                              "multiples of 8)");
        return factor;
    }

    ClassificationOptions options_;
    color::BinLookup lookup_;
    loss::ClassificationObjective objective_;
    Shape input_shape_{};
    Tensor<float> input_, ab_small_, target_, probabilities_, ab_small_out_, ab_out_;
};

}  // namespace chroma::train
