#pragma once
// Part of a dataset: the images at chosen indices, sharing the underlying dataset (a packed
// file's memory map, CIFAR-10's records) rather than copying it. split_dataset divides any
// dataset into train and validation by image name, as split_by_file does for files.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "file_split.hpp"

namespace chroma::data {

template <ImageDataset Dataset>
class Subset {
public:
    Subset(std::shared_ptr<const Dataset> dataset, std::vector<std::size_t> indices)
        : dataset_(std::move(dataset)), indices_(std::move(indices)) {
        for (const std::size_t i : indices_)
            if (i >= dataset_->size())
                throw usage_error("Subset: index " + std::to_string(i) + " is outside a dataset of " +
                                  std::to_string(dataset_->size()) + " images");
    }
    std::size_t size() const { return indices_.size(); }
    std::string name(std::size_t index) const { return dataset_->name(indices_.at(index)); }
    FloatImage load(std::size_t index) const { return dataset_->load(indices_.at(index)); }
    const std::shared_ptr<const Dataset>& dataset() const { return dataset_; }
    const std::vector<std::size_t>& indices() const { return indices_; }

private:
    std::shared_ptr<const Dataset> dataset_;
    std::vector<std::size_t> indices_;
};

template <ImageDataset Dataset>
struct DatasetSplit {
    Subset<Dataset> train;
    Subset<Dataset> validation;
};

/// Splits by image name (seeded, deterministic; see choose_validation).
template <ImageDataset Dataset>
DatasetSplit<Dataset> split_dataset(std::shared_ptr<const Dataset> dataset, double validation_fraction = 0.1,
                                    std::uint64_t seed = 0) {
    const std::vector<bool> in_validation = choose_validation(
        dataset->size(), [&](std::size_t i) { return dataset->name(i); }, validation_fraction, seed);
    std::vector<std::size_t> train, validation;
    for (std::size_t i = 0; i < in_validation.size(); ++i) (in_validation[i] ? validation : train).push_back(i);
    return {Subset<Dataset>(dataset, std::move(train)), Subset<Dataset>(dataset, std::move(validation))};
}

/// Splits a subset again by image name (as split_dataset), e.g. a run's calibration photos out
/// of its training part. Both parts index the subset's own dataset, so the type stays the same.
template <ImageDataset Dataset>
DatasetSplit<Dataset> split_subset(const Subset<Dataset>& subset, double fraction, std::uint64_t seed) {
    const std::vector<bool> chosen =
        choose_validation(subset.size(), [&](std::size_t i) { return subset.name(i); }, fraction, seed);
    std::vector<std::size_t> kept, held_out;
    for (std::size_t i = 0; i < chosen.size(); ++i) (chosen[i] ? held_out : kept).push_back(subset.indices()[i]);
    return {Subset<Dataset>(subset.dataset(), std::move(kept)), Subset<Dataset>(subset.dataset(), std::move(held_out))};
}

}  // namespace chroma::data
