#pragma once
// The empirical distribution of colours over the bins, and the class-rebalancing weights that
// Zhang et al. derive from it (also used by seed 003 with lambda = 0.5).
//
//   PriorEstimator        counts pixels per nearest bin, streamed over any number of images
//   smooth_distribution   Gaussian smoothing over the ab plane (sigma = 5), then normalised:
//                         p~_q proportional to sum_r p_r exp(-|c_q - c_r|^2 / (2 sigma^2))
//   rebalancing_weights   w_q proportional to ((1 - lambda) p~_q + lambda / Q)^-1, scaled so that
//                         sum_q p~_q w_q = 1: rare colours weigh more, the expected weight is 1
//
// Q is the number of bins. Zhang's code mixes with a uniform over the bins of non-zero prior only;
// the two agree when every bin has been seen, as with the published prior.
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "bin_lookup.hpp"
#include "encoding.hpp"
#include "zhang_bins.hpp"

namespace chroma::color {

/// Zhang et al.'s published prior over their 313 bins, as a vector.
inline std::vector<double> zhang_prior_vector() { return {zhang_prior.begin(), zhang_prior.end()}; }

namespace detail {
inline void require_distribution(const char* what, std::span<const double> p) {
    if (p.empty()) throw usage_error(std::string(what) + " needs a distribution over at least one bin");
    double sum = 0.0;
    for (std::size_t q = 0; q < p.size(); ++q) {
        if (!(p[q] >= 0.0) || !std::isfinite(p[q]))
            throw usage_error(std::string(what) + ": probability of bin " + std::to_string(q) +
                              " is not a finite non-negative number (" + std::to_string(p[q]) + ")");
        sum += p[q];
    }
    if (!(sum > 0.0)) throw usage_error(std::string(what) + ": the distribution is all zeros");
}
}  // namespace detail

/// p smoothed over the ab plane by a Gaussian of width `sigma` between bin centres, normalised
/// to sum to 1. sigma = 0 only normalises.
inline std::vector<double> smooth_distribution(std::span<const double> p, const AbBins& bins, double sigma = 5.0) {
    detail::require_distribution("smooth_distribution", p);
    if (static_cast<index_t>(p.size()) != bins.size())
        throw usage_error("smooth_distribution: " + std::to_string(p.size()) + " probabilities for " +
                          std::to_string(bins.size()) + " bins");
    if (!(sigma >= 0.0) || !std::isfinite(sigma))
        throw usage_error("smooth_distribution needs a finite sigma >= 0, got " + std::to_string(sigma));
    std::vector<double> smoothed(p.begin(), p.end());
    if (sigma > 0.0) {
        const auto& c = bins.centres();
        const double inverse_two_sigma2 = 1.0 / (2.0 * sigma * sigma);
        for (std::size_t q = 0; q < p.size(); ++q) {
            double sum = 0.0;
            for (std::size_t r = 0; r < p.size(); ++r) {
                const double da = double(c[q].a) - c[r].a, db = double(c[q].b) - c[r].b;
                sum += p[r] * std::exp(-(da * da + db * db) * inverse_two_sigma2);
            }
            smoothed[q] = sum;
        }
    }
    const double total = std::accumulate(smoothed.begin(), smoothed.end(), 0.0);
    for (double& v : smoothed) v /= total;
    return smoothed;
}

/// Class-rebalancing weights for a prior: w_q proportional to ((1 - lambda) p_q + lambda / Q)^-1,
/// normalised so that sum_q p_q w_q = 1. lambda in [0, 1]; 0.5 is Zhang's choice and seed 003's.
inline std::vector<double> rebalancing_weights(std::span<const double> prior, double lambda = 0.5) {
    detail::require_distribution("rebalancing_weights", prior);
    if (!(lambda >= 0.0 && lambda <= 1.0))
        throw usage_error("rebalancing_weights needs lambda in [0, 1], got " + std::to_string(lambda));
    const double total = std::accumulate(prior.begin(), prior.end(), 0.0);
    const double uniform = 1.0 / static_cast<double>(prior.size());
    std::vector<double> weights(prior.size());
    double expectation = 0.0;
    for (std::size_t q = 0; q < prior.size(); ++q) {
        const double p = prior[q] / total;
        const double mixed = (1.0 - lambda) * p + lambda * uniform;
        if (!(mixed > 0.0))
            throw usage_error("rebalancing_weights: bin " + std::to_string(q) +
                              " has probability 0, which lambda = 0 would weigh infinitely");
        weights[q] = 1.0 / mixed;
        expectation += p * weights[q];
    }
    for (double& w : weights) w /= expectation;
    return weights;
}

/// Counts, over a stream of images, how many pixels fall nearest to each bin; the prior is the
/// smoothed, normalised count.
class PriorEstimator {
public:
    explicit PriorEstimator(AbBins bins = AbBins::zhang())
        : lookup_(std::move(bins), 1), counts_(static_cast<std::size_t>(lookup_.bins().size()), 0) {}

    /// Adds every pixel of ab [N,2,H,W] to its nearest bin's count; NaN or infinite values are skipped.
    template <class T>
    void add(const Tensor<T, cpu>& ab) {
        const std::vector<std::int32_t> nearest = hard_encode_indices(ab, lookup_);
        const index_t plane = ab.shape().plane();
        for (index_t n = 0; n < ab.shape().n; ++n) {
            const T* a = ab.data() + n * 2 * plane;
            for (index_t i = 0; i < plane; ++i) {
                if (!std::isfinite(a[i]) || !std::isfinite(a[plane + i])) continue;
                ++counts_[static_cast<std::size_t>(nearest[static_cast<std::size_t>(n * plane + i)])];
                ++total_;
            }
        }
    }

    const AbBins& bins() const noexcept { return lookup_.bins(); }
    const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
    std::uint64_t total() const noexcept { return total_; }

    /// The fraction of pixels in each bin; throws usage_error before any pixel was added.
    std::vector<double> empirical() const {
        if (total_ == 0) throw usage_error("PriorEstimator: no pixels were added, so there is no distribution yet");
        std::vector<double> p(counts_.size());
        for (std::size_t q = 0; q < p.size(); ++q) p[q] = static_cast<double>(counts_[q]) / static_cast<double>(total_);
        return p;
    }

    /// The prior as Zhang et al. compute it: the empirical distribution smoothed by a Gaussian of
    /// width `sigma` over the ab plane, normalised.
    std::vector<double> prior(double sigma = 5.0) const { return smooth_distribution(empirical(), bins(), sigma); }

private:
    BinLookup lookup_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
};

}  // namespace chroma::color
