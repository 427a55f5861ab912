#pragma once
// Argument checks shared by the metrics, with messages that name the metric and the shapes, and
// the per-image average every metric reports.
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace chroma::metrics::detail {

/// Throws shape_error unless `x` is non-empty and, when `channels` > 0, has that many channels.
inline void require_image(const std::string& metric, const std::string& what, const Shape& x, index_t channels = 0) {
    if (x.count() <= 0) throw shape_error(metric + " needs a non-empty " + what + ", got shape " + x.str());
    if (channels > 0 && x.c != channels)
        throw shape_error(metric + " expects the " + what + " to have " + std::to_string(channels) +
                          " channels, got shape " + x.str());
}

/// Throws shape_error unless the two tensors have the same shape, naming both.
inline void require_same_shape(const std::string& metric, const std::string& first_name, const Shape& first,
                               const std::string& second_name, const Shape& second) {
    if (!(first == second))
        throw shape_error(metric + ": the " + first_name + " has shape " + first.str() + " but the " + second_name +
                          " has shape " + second.str() + "; they must be equal");
}

/// The mean of per-image values (in order, so the result is reproducible).
inline double mean_of(const std::vector<double>& values) {
    double sum = 0.0;
    for (const double v : values) sum += v;
    return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

}  // namespace chroma::metrics::detail
