#pragma once
// The k bins nearest to an ab value in a handful of comparisons instead of one per bin.
//
// A grid over the ab plane keeps, for each small cell, the only bins that can be among the k
// nearest to a point of that cell: with d_k the k-th smallest of the bins' farthest distances to
// the cell, a bin whose nearest distance to the cell exceeds d_k never is. The search then ranks
// those few candidates exactly, so the answer is the same as a search over every bin, ties
// included (the lower bin index first). Points outside the grid fall back to that full search.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/host_device.hpp"
#include "ab_bins.hpp"

namespace chroma::color {

/// The most neighbours one search returns (soft encoding uses 5).
inline constexpr int max_neighbours = 32;

/// What a kernel needs to search: a plain aggregate of pointers into a BinLookup, valid while it lives.
struct BinLookupView {
    const float* centres = nullptr;            // a and b of bin q at [2q], [2q + 1]
    const std::int32_t* cell_start = nullptr;  // candidates of cell c: [cell_start[c], cell_start[c + 1])
    const std::int32_t* candidates = nullptr;  // bin indices, ascending within a cell
    std::int32_t bins = 0;
    std::int32_t neighbours = 1;
    std::int32_t cells_a = 0, cells_b = 0;
    float origin_a = 0.0f, origin_b = 0.0f, inverse_cell = 1.0f;
};

namespace detail {
// Inserts bin q at squared distance d into the sorted first `found` entries, keeping at most k.
CHROMA_HOST_DEVICE inline void insert_neighbour(std::int32_t q, float d, int k, int& found, std::int32_t* index,
                                                float* distance2) {
    int at = found < k ? found : k;
    while (at > 0 && (d < distance2[at - 1] || (d == distance2[at - 1] && q < index[at - 1]))) {
        if (at < k) {
            index[at] = index[at - 1];
            distance2[at] = distance2[at - 1];
        }
        --at;
    }
    if (at < k) {
        index[at] = q;
        distance2[at] = d;
        if (found < k) ++found;
    }
}
CHROMA_HOST_DEVICE inline float squared_distance(const float* centres, std::int32_t q, float a, float b) {
    const float da = a - centres[2 * q], db = b - centres[2 * q + 1];
    return da * da + db * db;
}
}  // namespace detail

/// The min(view.neighbours, view.bins) bins nearest to (a, b), nearest first, ties to the lower
/// index: their indices and squared distances. NaN or infinite a or b reads as 0 (neutral).
/// Returns how many were written.
CHROMA_HOST_DEVICE inline int nearest_bins(const BinLookupView& v, float a, float b, std::int32_t* index,
                                           float* distance2) {
    if (!std::isfinite(a)) a = 0.0f;
    if (!std::isfinite(b)) b = 0.0f;
    const int k = v.neighbours < v.bins ? v.neighbours : v.bins;
    int found = 0;
    const float ga = (a - v.origin_a) * v.inverse_cell, gb = (b - v.origin_b) * v.inverse_cell;
    if (ga >= 0.0f && gb >= 0.0f && ga < static_cast<float>(v.cells_a) && gb < static_cast<float>(v.cells_b)) {
        const std::int32_t cell = static_cast<std::int32_t>(ga) * v.cells_b + static_cast<std::int32_t>(gb);
        for (std::int32_t c = v.cell_start[cell]; c < v.cell_start[cell + 1]; ++c) {
            const std::int32_t q = v.candidates[c];
            detail::insert_neighbour(q, detail::squared_distance(v.centres, q, a, b), k, found, index, distance2);
        }
    } else {
        for (std::int32_t q = 0; q < v.bins; ++q)
            detail::insert_neighbour(q, detail::squared_distance(v.centres, q, a, b), k, found, index, distance2);
    }
    return found;
}

class BinLookup {
public:
    /// A lookup for the `neighbours` nearest bins (1 for hard encoding, 5 for Zhang's soft encoding).
    explicit BinLookup(AbBins bins, int neighbours = 1) : bins_(std::move(bins)), neighbours_(neighbours) {
        if (bins_.empty()) throw usage_error("a bin lookup needs at least one bin");
        if (neighbours < 1 || neighbours > max_neighbours)
            throw usage_error("a bin lookup finds 1 to " + std::to_string(max_neighbours) + " neighbours, not " +
                              std::to_string(neighbours));
        build();
    }

    const AbBins& bins() const noexcept { return bins_; }
    int neighbours() const noexcept { return neighbours_; }
    /// Candidates per cell, on average: the work of one search.
    double mean_candidates() const {
        return static_cast<double>(candidates_.size()) / static_cast<double>(cell_start_.size() - 1);
    }

    BinLookupView view() const noexcept {
        return {.centres = bins_.interleaved(),
                .cell_start = cell_start_.data(),
                .candidates = candidates_.data(),
                .bins = static_cast<std::int32_t>(bins_.size()),
                .neighbours = neighbours_,
                .cells_a = cells_a_,
                .cells_b = cells_b_,
                .origin_a = origin_a_,
                .origin_b = origin_b_,
                .inverse_cell = inverse_cell_};
    }

    /// The index of the bin nearest to (a, b).
    std::int32_t nearest(float a, float b) const {
        std::int32_t index[max_neighbours];
        float distance2[max_neighbours];
        nearest_bins(view(), a, b, index, distance2);
        return index[0];
    }

private:
    void build() {
        const auto& centres = bins_.centres();
        double min_a = centres[0].a, max_a = min_a, min_b = centres[0].b, max_b = min_b;
        for (const AbPoint& c : centres) {
            min_a = std::min(min_a, double(c.a)), max_a = std::max(max_a, double(c.a));
            min_b = std::min(min_b, double(c.b)), max_b = std::max(max_b, double(c.b));
        }
        // Cells a quarter of the typical bin spacing wide; the grid reaches two spacings past the bins.
        const double extent_a = std::max(max_a - min_a, 1.0), extent_b = std::max(max_b - min_b, 1.0);
        const double spacing = std::sqrt(extent_a * extent_b / static_cast<double>(centres.size()));
        double cell = spacing / 4.0;
        const double margin = 2.0 * spacing;
        const auto cells_along = [&](double extent) {
            return static_cast<std::int32_t>(std::ceil((extent + 2.0 * margin) / cell));
        };
        while (static_cast<double>(cells_along(extent_a)) * cells_along(extent_b) > (1 << 20)) cell *= 1.5;
        cells_a_ = cells_along(extent_a);
        cells_b_ = cells_along(extent_b);
        origin_a_ = static_cast<float>(min_a - margin);
        origin_b_ = static_cast<float>(min_b - margin);
        inverse_cell_ = static_cast<float>(1.0 / cell);
        cell = 1.0 / static_cast<double>(inverse_cell_);  // the cell size the search really uses

        const std::size_t count = centres.size();
        const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(neighbours_), count);
        std::vector<double> nearest(count), farthest(count);
        cell_start_.assign(1, 0);
        // Each cell is widened slightly so that float rounding of the search's cell index never
        // leaves a point outside the cell whose candidates it reads.
        const double pad = 1e-3;
        for (std::int32_t ia = 0; ia < cells_a_; ++ia) {
            for (std::int32_t ib = 0; ib < cells_b_; ++ib) {
                const double a0 = origin_a_ + ia * cell - pad, a1 = origin_a_ + (ia + 1) * cell + pad;
                const double b0 = origin_b_ + ib * cell - pad, b1 = origin_b_ + (ib + 1) * cell + pad;
                for (std::size_t q = 0; q < count; ++q) {
                    const double a = centres[q].a, b = centres[q].b;
                    const double near_a = a < a0 ? a0 - a : (a > a1 ? a - a1 : 0.0);
                    const double near_b = b < b0 ? b0 - b : (b > b1 ? b - b1 : 0.0);
                    const double far_a = std::max(std::abs(a - a0), std::abs(a - a1));
                    const double far_b = std::max(std::abs(b - b0), std::abs(b - b1));
                    nearest[q] = near_a * near_a + near_b * near_b;
                    farthest[q] = far_a * far_a + far_b * far_b;
                }
                const auto kth = farthest.begin() + static_cast<std::ptrdiff_t>(k - 1);
                std::nth_element(farthest.begin(), kth, farthest.end());
                // A relative margin keeps bins that float distances could rank differently.
                const double bound = *kth * (1.0 + 1e-5) + 1e-6;
                for (std::size_t q = 0; q < count; ++q)
                    if (nearest[q] <= bound) candidates_.push_back(static_cast<std::int32_t>(q));
                cell_start_.push_back(static_cast<std::int32_t>(candidates_.size()));
            }
        }
    }

    AbBins bins_;
    int neighbours_;
    std::vector<std::int32_t> cell_start_, candidates_;
    std::int32_t cells_a_ = 0, cells_b_ = 0;
    float origin_a_ = 0.0f, origin_b_ = 0.0f, inverse_cell_ = 1.0f;
};

}  // namespace chroma::color
