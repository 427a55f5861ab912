#pragma once
// A quantization of the ab plane into bins, given by their centres: Zhang et al.'s 313 bins, the
// bins of any grid step that sRGB colours reach, or the bins a dataset's colours fall into.
//
// Grid bins have their centres at the multiples of the step, and a bin's cell is
// [c - step/2, c + step/2) in a and in b: Zhang's bins are the cells of step 10 of this grid.
// Generated bin sets are ordered by a, then b, as Zhang's are.
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../backend/cpu/parallel.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "lab.hpp"
#include "zhang_bins.hpp"

namespace chroma::color {

struct AbPoint {
    float a = 0.0f;
    float b = 0.0f;
    constexpr bool operator==(const AbPoint&) const = default;
};

class AbBins {
public:
    AbBins() = default;
    /// Throws usage_error unless the centres are finite and distinct.
    explicit AbBins(std::vector<AbPoint> centres) : centres_(std::move(centres)) {
        std::set<std::pair<float, float>> seen;
        for (std::size_t q = 0; q < centres_.size(); ++q) {
            const AbPoint c = centres_[q];
            if (!std::isfinite(c.a) || !std::isfinite(c.b))
                throw usage_error("ab bin " + std::to_string(q) + " has a centre that is not finite");
            if (!seen.emplace(c.a, c.b).second)
                throw usage_error("ab bin " + std::to_string(q) + " repeats the centre (" + std::to_string(c.a) + ", " +
                                  std::to_string(c.b) + ")");
            interleaved_.push_back(c.a);
            interleaved_.push_back(c.b);
        }
    }

    /// Zhang et al.'s 313 bins, in their model's channel order.
    static AbBins zhang() {
        std::vector<AbPoint> centres;
        centres.reserve(zhang_bin_centres.size());
        for (const auto& c : zhang_bin_centres) centres.push_back({static_cast<float>(c[0]), static_cast<float>(c[1])});
        return AbBins(std::move(centres));
    }

    index_t size() const noexcept { return static_cast<index_t>(centres_.size()); }
    bool empty() const noexcept { return centres_.empty(); }
    const std::vector<AbPoint>& centres() const noexcept { return centres_; }
    /// Checked access to the centre of bin q.
    const AbPoint& operator[](index_t q) const {
        if (q < 0 || q >= size())
            throw usage_error("bin " + std::to_string(q) + " does not exist; there are " + std::to_string(size()));
        return centres_[static_cast<std::size_t>(q)];
    }
    /// a of bin q at [2q], b at [2q + 1]: the form kernels read.
    const float* interleaved() const noexcept { return interleaved_.data(); }

private:
    std::vector<AbPoint> centres_;
    std::vector<float> interleaved_;
};

/// Counts ab values per grid cell, streamed over any number of images, and keeps the cells seen.
class AbHistogram {
public:
    /// ab values are counted within [-limit, limit]; no colour comes near it (sRGB stays within about 128).
    static constexpr double limit = 256.0;

    /// `step`: the cell size, between 0.5 and 100 ab units.
    explicit AbHistogram(double step = 10.0) : step_(step) {
        if (!(step >= 0.5 && step <= 100.0))
            throw usage_error("an ab grid step must lie between 0.5 and 100, got " + std::to_string(step));
        half_cells_ = static_cast<index_t>(std::ceil(limit / step_));
        side_ = 2 * half_cells_ + 1;
        counts_.assign(static_cast<std::size_t>(side_ * side_), 0);
    }

    double step() const noexcept { return step_; }
    std::uint64_t total() const noexcept { return total_; }

    /// Counts one ab value; skips NaN and infinity; throws usage_error beyond +-limit.
    void add(double a, double b) {
        if (!std::isfinite(a) || !std::isfinite(b)) return;
        if (std::abs(a) > limit || std::abs(b) > limit)
            throw usage_error("ab value (" + std::to_string(a) + ", " + std::to_string(b) +
                              ") lies outside the histogram's range of +-" + std::to_string(limit));
        ++counts_[static_cast<std::size_t>((cell(a) + half_cells_) * side_ + cell(b) + half_cells_)];
        ++total_;
    }

    /// Counts every pixel of ab [N,2,H,W]; counts nothing if any value lies beyond +-limit.
    template <class T>
    void add(const Tensor<T, cpu>& ab) {
        if (ab.shape().c != 2)
            throw shape_error("AbHistogram::add expects ab with 2 channels, got " + ab.shape().str());
        for (index_t i = 0; i < ab.size(); ++i)
            if (std::abs(static_cast<double>(ab.data()[i])) > limit && std::isfinite(ab.data()[i]))
                throw usage_error("ab value " + std::to_string(ab.data()[i]) +
                                  " lies outside the histogram's range of +-" + std::to_string(limit));
        const index_t plane = ab.shape().plane();
        for (index_t n = 0; n < ab.shape().n; ++n) {
            const T* a = ab.data() + n * 2 * plane;
            for (index_t i = 0; i < plane; ++i) add(static_cast<double>(a[i]), static_cast<double>(a[plane + i]));
        }
    }

    /// How many values fell into the cell that holds (a, b).
    std::uint64_t count(double a, double b) const {
        const index_t ia = cell(a) + half_cells_, ib = cell(b) + half_cells_;
        if (ia < 0 || ia >= side_ || ib < 0 || ib >= side_) return 0;
        return counts_[static_cast<std::size_t>(ia * side_ + ib)];
    }

    /// The cells seen at least `min_count` times, as bins ordered by a, then b.
    AbBins bins(std::uint64_t min_count = 1) const {
        std::vector<AbPoint> centres;
        for (index_t ia = 0; ia < side_; ++ia)
            for (index_t ib = 0; ib < side_; ++ib)
                if (const auto c = counts_[static_cast<std::size_t>(ia * side_ + ib)]; c > 0 && c >= min_count)
                    centres.push_back({static_cast<float>(static_cast<double>(ia - half_cells_) * step_),
                                       static_cast<float>(static_cast<double>(ib - half_cells_) * step_)});
        return AbBins(std::move(centres));
    }

private:
    index_t cell(double v) const { return static_cast<index_t>(std::floor(v / step_ + 0.5)); }

    double step_;
    index_t half_cells_ = 0, side_ = 0;
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
};

/// The bins of a dataset: the grid cells of `step` that at least `min_count` of the ab values
/// [N,2,H,W] fall into. For many images, stream them through an AbHistogram instead.
template <class T>
AbBins bins_from_observed(const Tensor<T, cpu>& ab, double step = 10.0, std::uint64_t min_count = 1) {
    AbHistogram histogram(step);
    histogram.add(ab);
    return histogram.bins(min_count);
}

/// The bins of the sRGB gamut: the grid cells of `step` that hold the ab of at least one sRGB
/// colour, at any lightness. The gamut is a solid, and every line along L through its ab shadow
/// crosses its surface, so sampling the six faces of the RGB cube (`samples_per_edge` + 1 points
/// per edge, in double precision) finds every cell but those a face sample misses: slivers of
/// the boundary thinner than the sample spacing (under 0.5 ab units at the default).
inline AbBins gamut_bins(double step = 10.0, WhitePoint white = WhitePoint::d65, int samples_per_edge = 512) {
    if (samples_per_edge < 1 || samples_per_edge > 8192)
        throw usage_error("gamut_bins needs samples_per_edge between 1 and 8192, got " +
                          std::to_string(samples_per_edge));
    AbHistogram histogram(step);
    const LabSpace<double> space = lab_space<double>(white);
    const index_t points = samples_per_edge + 1;
    std::vector<double> ab(static_cast<std::size_t>(points * points * 2));
    for (int face = 0; face < 6; ++face) {
        const int fixed_channel = face / 2;
        const double fixed_value = face % 2;
        kernels::cpu_detail::parallel_for(points, points * 64, [&](index_t i) {
            for (index_t j = 0; j < points; ++j) {
                double rgb[3];
                rgb[fixed_channel] = fixed_value;
                rgb[(fixed_channel + 1) % 3] = static_cast<double>(i) / samples_per_edge;
                rgb[(fixed_channel + 2) % 3] = static_cast<double>(j) / samples_per_edge;
                const Lab<double> lab = srgb_to_lab(Rgb<double>{rgb[0], rgb[1], rgb[2]}, space);
                ab[static_cast<std::size_t>((i * points + j) * 2)] = lab.a;
                ab[static_cast<std::size_t>((i * points + j) * 2 + 1)] = lab.b;
            }
        });
        for (std::size_t k = 0; k < ab.size(); k += 2) histogram.add(ab[k], ab[k + 1]);
    }
    return histogram.bins();
}

}  // namespace chroma::color
