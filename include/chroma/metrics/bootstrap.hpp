#pragma once
// How far a score measured on a sample of photos can be trusted: the percentile bootstrap
// (Efron). The photos are resampled with replacement many times, the statistic is recomputed on
// each resample, and the middle `confidence` share of those values is the interval. Scores of
// colourisation vary a lot from photo to photo, so two models 0.01 apart on a few hundred photos
// may not differ at all; the interval says so. Deterministic: a fixed seed gives the same interval.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace chroma::metrics {

struct Interval {
    double low = 0.0;
    double high = 0.0;
};

struct BootstrapOptions {
    double confidence = 0.95;      // the share of resampled values inside the interval
    std::size_t resamples = 2000;
    std::uint64_t seed = 20261206;
};

/// A callable computing a statistic from the indices of one resample (indices into the sample,
/// repeats allowed), e.g. a mean or a ratio of two sums over the same photos.
template <class F>
concept ResampleStatistic = std::is_invocable_r_v<double, F&, std::span<const std::size_t>>;

/// The percentile bootstrap interval of `statistic` over a sample of `items` paired items.
template <ResampleStatistic Statistic>
Interval bootstrap_interval(std::size_t items, Statistic&& statistic, const BootstrapOptions& options = {}) {
    if (items == 0) throw std::invalid_argument("bootstrap_interval: the sample is empty");
    if (!(options.confidence > 0.0 && options.confidence < 1.0))
        throw std::invalid_argument("bootstrap_interval: confidence must lie in (0, 1), got " +
                                    std::to_string(options.confidence));
    if (options.resamples < 2) throw std::invalid_argument("bootstrap_interval: needs at least 2 resamples");
    std::mt19937_64 generator(options.seed);
    std::uniform_int_distribution<std::size_t> pick(0, items - 1);
    std::vector<std::size_t> resample(items);
    std::vector<double> values(options.resamples);
    for (double& value : values) {
        for (std::size_t& index : resample) index = pick(generator);
        value = statistic(std::span<const std::size_t>(resample));
    }
    std::sort(values.begin(), values.end());
    // The order statistics nearest the two tail quantiles.
    const double tail = (1.0 - options.confidence) / 2.0;
    const auto at = [&](double quantile) {
        const auto position = static_cast<std::size_t>(std::lround(quantile * static_cast<double>(values.size() - 1)));
        return values[std::min(position, values.size() - 1)];
    };
    return {.low = at(tail), .high = at(1.0 - tail)};
}

/// The interval of a mean.
inline Interval bootstrap_mean_interval(std::span<const double> sample, const BootstrapOptions& options = {}) {
    return bootstrap_interval(
        sample.size(),
        [&](std::span<const std::size_t> indices) {
            double sum = 0.0;
            for (std::size_t i : indices) sum += sample[i];
            return sum / static_cast<double>(indices.size());
        },
        options);
}

namespace detail {
inline void require_pairs(const char* function, std::span<const double> first, std::span<const double> second) {
    if (first.size() != second.size())
        throw std::invalid_argument(std::string(function) + ": " + std::to_string(first.size()) + " values against " +
                                    std::to_string(second.size()) + "; they must pair up");
}
}  // namespace detail

/// The interval of the mean difference of paired values (e.g. a model's PSNR minus the gray
/// baseline's on the same photos): the mean of the differences, so each pair stays together.
inline Interval bootstrap_difference_interval(std::span<const double> first, std::span<const double> second,
                                              const BootstrapOptions& options = {}) {
    detail::require_pairs("bootstrap_difference_interval", first, second);
    std::vector<double> differences(first.size());
    for (std::size_t i = 0; i < first.size(); ++i) differences[i] = first[i] - second[i];
    return bootstrap_mean_interval(differences, options);
}

/// The interval of a ratio of sums of paired values (e.g. the model's colourfulness over the
/// truth's, summed over the same photos).
inline Interval bootstrap_ratio_interval(std::span<const double> numerator, std::span<const double> denominator,
                                         const BootstrapOptions& options = {}) {
    detail::require_pairs("bootstrap_ratio_interval", numerator, denominator);
    return bootstrap_interval(
        numerator.size(),
        [&](std::span<const std::size_t> indices) {
            double top = 0.0, bottom = 0.0;
            for (std::size_t i : indices) {
                top += numerator[i];
                bottom += denominator[i];
            }
            return bottom != 0.0 ? top / bottom : 0.0;
        },
        options);
}

}  // namespace chroma::metrics
