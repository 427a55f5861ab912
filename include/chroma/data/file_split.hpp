#pragma once
// A deterministic train/validation split by file: the same files and seed always give the same
// split, on any machine, whatever order the file system lists them in.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace chroma::data {

struct FileSplit {
    std::vector<std::filesystem::path> train;
    std::vector<std::filesystem::path> validation;
};

namespace detail {
// FNV-1a over the seed and the name, then a 64-bit finaliser: a stable hash that does not depend
// on std::hash (which differs between standard libraries).
inline std::uint64_t stable_hash(std::uint64_t seed, const std::string& text) {
    std::uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
    for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}
}  // namespace detail

/// Which of `count` items go to validation: each item gets a rank from a hash of its key and
/// the seed, and the lowest-ranked round(fraction x count) are chosen. Ranks depend only on an
/// item's own key, so adding items moves few existing ones between the sets.
template <class KeyOf>
std::vector<bool> choose_validation(std::size_t count, KeyOf&& key_of, double validation_fraction, std::uint64_t seed) {
    if (!(validation_fraction >= 0.0 && validation_fraction <= 1.0))
        throw usage_error("the validation fraction must be between 0 and 1, got " + std::to_string(validation_fraction));
    std::vector<std::pair<std::uint64_t, std::size_t>> ranked;
    ranked.reserve(count);
    for (std::size_t i = 0; i < count; ++i) ranked.emplace_back(detail::stable_hash(seed, key_of(i)), i);
    std::sort(ranked.begin(), ranked.end());
    const auto chosen = static_cast<std::size_t>(std::llround(validation_fraction * static_cast<double>(count)));
    std::vector<bool> in_validation(count, false);
    for (std::size_t r = 0; r < chosen; ++r) in_validation[ranked[r].second] = true;
    return in_validation;
}

/// Splits `files` into train and validation by choose_validation, keyed by each file's path
/// relative to `root` (or its file name when root is empty). Both halves keep the input's order.
inline FileSplit split_by_file(const std::vector<std::filesystem::path>& files, double validation_fraction = 0.1,
                               std::uint64_t seed = 0, const std::filesystem::path& root = {}) {
    const std::vector<bool> in_validation = choose_validation(
        files.size(),
        [&](std::size_t i) {
            return root.empty() ? files[i].filename().generic_string() : files[i].lexically_relative(root).generic_string();
        },
        validation_fraction, seed);
    FileSplit split;
    for (std::size_t i = 0; i < files.size(); ++i) (in_validation[i] ? split.validation : split.train).push_back(files[i]);
    return split;
}

/// The seed of the calibration split: a share of the training part that a run can leave out
/// (the trainers' --calibration-fraction) so that what is chosen after training, such as a
/// classifier's decoding, is chosen on photos the model never saw, without looking at validation.
inline constexpr std::uint64_t calibration_seed = 0xCA1;

/// The training part of split_by_file(files, validation_fraction, 0, root), divided again:
/// `train` keeps what a calibrated run trains on, `validation` holds its calibration photos.
inline FileSplit split_off_calibration(const std::vector<std::filesystem::path>& files, double validation_fraction,
                                       double calibration_fraction, const std::filesystem::path& root = {}) {
    return split_by_file(split_by_file(files, validation_fraction, 0, root).train, calibration_fraction,
                         calibration_seed, root);
}

/// A deterministic sample of `count` files spread over the whole list (the lowest-ranked by the
/// same hash as split_by_file), in the input's order: a small, varied subset for quick runs.
inline std::vector<std::filesystem::path> sample_files(const std::vector<std::filesystem::path>& files,
                                                       std::size_t count, std::uint64_t seed = 0,
                                                       const std::filesystem::path& root = {}) {
    if (count >= files.size()) return files;
    return split_by_file(files, static_cast<double>(count) / static_cast<double>(files.size()), seed ^ 0x5EED, root)
        .validation;
}

}  // namespace chroma::data
