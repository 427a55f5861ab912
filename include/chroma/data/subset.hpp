#pragma once
// Part of a dataset: the images at chosen indices, sharing the underlying dataset (a packed
// file's memory map, CIFAR-10's records) rather than copying it. split_dataset divides any
// dataset into train and validation by image name, as split_by_file does for files.
#include <cstdint>
#include <memory>
#include <numeric>
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

/// Splits a subset by image name (seeded, deterministic; see choose_validation): `validation`
/// holds the chosen fraction. Both parts index the subset's own dataset, so a part can be split
/// again, as a run's calibration photos are out of its training part.
template <ImageDataset Dataset>
DatasetSplit<Dataset> split_subset(const Subset<Dataset>& subset, double fraction, std::uint64_t seed) {
    const std::vector<bool> chosen =
        choose_validation(subset.size(), [&](std::size_t i) { return subset.name(i); }, fraction, seed);
    std::vector<std::size_t> kept, held_out;
    for (std::size_t i = 0; i < chosen.size(); ++i) (chosen[i] ? held_out : kept).push_back(subset.indices()[i]);
    return {Subset<Dataset>(subset.dataset(), std::move(kept)), Subset<Dataset>(subset.dataset(), std::move(held_out))};
}

/// Splits a whole dataset by image name.
template <ImageDataset Dataset>
DatasetSplit<Dataset> split_dataset(std::shared_ptr<const Dataset> dataset, double validation_fraction = 0.1,
                                    std::uint64_t seed = 0) {
    std::vector<std::size_t> all(dataset->size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    return split_subset(Subset<Dataset>(dataset, std::move(all)), validation_fraction, seed);
}

}  // namespace chroma::data
