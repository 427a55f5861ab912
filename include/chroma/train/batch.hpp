#pragma once
// What a data source gives the trainer: a batch of photos in CIELAB units, and the concept a
// source meets (the image-folder loader, a packed dataset, fixed tensors in tests).
#include <concepts>
#include <optional>
#include <vector>

#include "../core/tensor.hpp"

namespace chroma::train {

/// A batch of photos: lightness L in [0, 100] as [N,1,H,W] and ab as [N,2,H,W].
struct Batch {
    Tensor<float> lightness;
    Tensor<float> ab;
    index_t size() const { return lightness.shape().n; }
};

/// start_epoch(e) rewinds (and reshuffles for epoch e, deterministically); next() gives batches
/// until the epoch ends; images_per_epoch() is for progress and ETA (0 if unknown).
template <class S>
concept BatchSource = requires(S& source, int epoch) {
    source.start_epoch(epoch);
    { source.next() } -> std::same_as<std::optional<Batch>>;
    { source.images_per_epoch() } -> std::convertible_to<long long>;
};

/// Fixed batches held in memory, in order (tests, small experiments, overfitting checks).
class FixedBatches {
public:
    explicit FixedBatches(std::vector<Batch> batches) : batches_(std::move(batches)) {}
    void start_epoch(int) { at_ = 0; }
    std::optional<Batch> next() {
        if (at_ >= batches_.size()) return std::nullopt;
        return batches_[at_++];
    }
    long long images_per_epoch() const {
        long long total = 0;
        for (const auto& b : batches_) total += b.size();
        return total;
    }

private:
    std::vector<Batch> batches_;
    std::size_t at_ = 0;
};

static_assert(BatchSource<FixedBatches>);

}  // namespace chroma::train
