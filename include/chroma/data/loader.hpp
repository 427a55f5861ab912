#pragma once
// The loader: decodes and transforms images on worker threads while the model trains, and hands
// the trainer batches of CIELAB tensors (it meets train::BatchSource).
//
// Determinism. Epoch e visits the images in a permutation drawn from (seed, e); batch k holds
// positions [k*B, (k+1)*B) of it, and the image at position p is transformed with a generator
// seeded from (seed, e, p). A batch is therefore a pure function of (seed, epoch, k): the batches
// are the same, bit for bit, with 0, 1 or 8 worker threads. Workers build batches ahead of the
// trainer, at most `prefetch_batches` beyond the one it is waiting for (a bounded queue), and the
// trainer receives them in order.
//
// Unreadable images (missing, damaged, not an image, over the pixel limit) are skipped: the batch
// is built without them, they are not decoded again in later epochs, and at the end of each epoch
// the loader says how many it skipped and why (on `report`, stderr by default).
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../train/batch.hpp"
#include "dataset.hpp"
#include "image.hpp"
#include "transforms.hpp"

namespace chroma::data {

/// What happens to each decoded RGB image before it joins a batch. All images of a batch must
/// come out the same size (end with a crop or a fixed-size resize).
using Transform = std::function<FloatImage(const FloatImage&, Rng&)>;

/// Training augmentation as in seed 001: resize the shorter side to `resize` (0: keep the
/// size), take a random `crop` x `crop` window and flip it horizontally with probability 1/2.
inline Transform training_transform(int resize, int crop) {
    if (crop <= 0 || (resize > 0 && crop > resize))
        throw usage_error("training_transform: the crop (" + std::to_string(crop) +
                          ") must be positive and no larger than the resized side (" + std::to_string(resize) + ")");
    return [resize, crop](const FloatImage& image, Rng& rng) {
        const FloatImage sized = resize > 0 ? resize_shorter_side(image, resize) : image;
        return random_flip(random_crop(sized, crop, crop, rng), rng);
    };
}

/// Training augmentation with scale: random_resized_square (a window of min_fraction to all of the
/// shorter side, resized to crop x crop), flipped horizontally with probability 1/2.
inline Transform scale_augmented_training_transform(int crop, double min_fraction) {
    if (crop <= 0 || !(min_fraction > 0.0 && min_fraction <= 1.0))
        throw usage_error("scale_augmented_training_transform: the crop (" + std::to_string(crop) +
                          ") must be positive and min_fraction (" + std::to_string(min_fraction) + ") in (0, 1]");
    return [crop, min_fraction](const FloatImage& image, Rng& rng) {
        return random_flip(random_resized_square(image, crop, min_fraction, rng), rng);
    };
}

/// Evaluation: resize the shorter side to `resize` (0: keep), then the centre `crop` x `crop`.
inline Transform evaluation_transform(int resize, int crop) {
    if (crop <= 0 || (resize > 0 && crop > resize))
        throw usage_error("evaluation_transform: the crop (" + std::to_string(crop) +
                          ") must be positive and no larger than the resized side (" + std::to_string(resize) + ")");
    return [resize, crop](const FloatImage& image, Rng&) {
        const FloatImage sized = resize > 0 ? resize_shorter_side(image, resize) : image;
        return centre_crop(sized, crop, crop);
    };
}

struct LoaderOptions {
    int batch_size = 16;
    int threads = 2;                     // decoding threads; 0 decodes on the trainer's thread
    int prefetch_batches = 4;            // how far the workers may run ahead (bounded memory)
    std::uint64_t seed = 0;              // shuffle order and random transforms
    bool shuffle = true;                 // false: file order every epoch (validation)
    bool drop_last = false;              // drop the last, smaller batch
    // Data-parallel training: this process is `shard` of `shards` ranks. The ranks see the same
    // shuffled order and each global batch of batch_size x shards images in it; each takes its
    // own slice (rank r the r-th of `shards` near-equal parts), so together they train on what one
    // process with the global batch would, transforms included. A last global batch with fewer
    // images than ranks is dropped, and a slice whose images are all unreadable comes as an empty
    // batch rather than being skipped, so every rank takes the same number of steps.
    int shard = 0;
    int shards = 1;
    std::ostream* report = &std::cerr;   // where skipped images are reported; nullptr: nowhere
};

/// An image the loader could not use, and why.
struct SkippedImage {
    std::string name;
    std::string reason;
};

template <ImageDataset Dataset>
class Loader {
public:
    Loader(Dataset dataset, Transform transform, LoaderOptions options = {})
        : dataset_(std::move(dataset)), transform_(std::move(transform)), options_(options) {
        if (options_.batch_size < 1)
            throw usage_error("Loader: the batch size must be at least 1, got " + std::to_string(options_.batch_size));
        if (options_.threads < 0 || options_.prefetch_batches < 1)
            throw usage_error("Loader: threads must be >= 0 and prefetch_batches >= 1");
        if (options_.shards < 1 || options_.shard < 0 || options_.shard >= options_.shards)
            throw usage_error("Loader: shard " + std::to_string(options_.shard) + " of " +
                              std::to_string(options_.shards) + " does not exist (shards from 0 to shards - 1)");
        if (!transform_) throw usage_error("Loader: a transform is needed (e.g. training_transform(64, 56))");
        if (dataset_.size() == 0) throw usage_error("Loader: the dataset has no images");
    }
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;
    ~Loader() { stop_workers(); }

    const Dataset& dataset() const { return dataset_; }

    /// Rewinds to the start of `epoch` with that epoch's order, and starts the workers.
    void start_epoch(int epoch) {
        stop_workers();
        epoch_ = epoch;
        order_.resize(dataset_.size());
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
        if (options_.shuffle) {
            Rng rng(mix(options_.seed, static_cast<std::uint64_t>(epoch), 0x5A17));
            for (std::size_t i = order_.size(); i > 1; --i) {
                const auto j = static_cast<std::size_t>(rng.uniform() * static_cast<double>(i));
                std::swap(order_[i - 1], order_[std::min(j, i - 1)]);
            }
        }
        batch_count_ = global_batch_count();
        next_claim_ = next_deliver_ = 0;
        ready_.clear();
        skipped_this_epoch_.clear();
        stopping_ = false;
        started_ = true;
        for (int t = 0; t < options_.threads; ++t) workers_.emplace_back([this] { work(); });
    }

    /// The next batch of the epoch, or nothing when the epoch is over.
    std::optional<train::Batch> next() {
        if (!started_) start_epoch(0);
        while (true) {
            if (next_deliver_ >= batch_count_) {
                finish_epoch();
                return std::nullopt;
            }
            Built built;
            if (options_.threads == 0) {
                built = build(next_deliver_);
            } else {
                std::unique_lock lock(mutex_);
                ready_changed_.wait(lock, [&] { return ready_.count(next_deliver_) != 0; });
                built = std::move(ready_[next_deliver_]);
                ready_.erase(next_deliver_);
            }
            {
                std::lock_guard lock(mutex_);
                ++next_deliver_;
            }
            space_changed_.notify_all();
            if (built.failure) {
                stop_workers();
                std::rethrow_exception(built.failure);
            }
            if (built.batch) return std::move(built.batch);
            if (options_.shards > 1) return train::Batch{};  // in step with the other ranks
            // Every image of this batch was unreadable: go on to the next one.
        }
    }

    /// The images this loader (this shard) gives in an epoch, unreadable ones included.
    long long images_per_epoch() const {
        long long total = 0;
        for (std::size_t k = 0, count = global_batch_count(); k < count; ++k) {
            const auto [first, last] = slice(k);
            total += static_cast<long long>(last - first);
        }
        return total;
    }

    /// Every image skipped so far (each once), with the reason.
    std::vector<SkippedImage> skipped() const {
        std::lock_guard lock(mutex_);
        std::vector<SkippedImage> all;
        for (const auto& [index, reason] : unreadable_) all.push_back({dataset_.name(index), reason});
        return all;
    }
    /// How many images the current (or last finished) epoch skipped.
    std::size_t skipped_this_epoch() const {
        std::lock_guard lock(mutex_);
        return skipped_this_epoch_.size();
    }

private:
    struct Built {
        std::optional<train::Batch> batch;
        std::exception_ptr failure;
    };

    std::size_t global_batch() const {
        return static_cast<std::size_t>(options_.batch_size) * static_cast<std::size_t>(options_.shards);
    }
    std::size_t global_batch_count() const {
        const std::size_t n = dataset_.size(), batch = global_batch();
        std::size_t count = options_.drop_last ? n / batch : (n + batch - 1) / batch;
        const std::size_t shards = static_cast<std::size_t>(options_.shards);
        if (shards > 1 && count > 0 && n - (count - 1) * batch < shards) --count;  // a slice for every rank
        return count;
    }
    // Positions [first, last) in the epoch's order of this shard's part of global batch k.
    std::pair<std::size_t, std::size_t> slice(std::size_t k) const {
        const std::size_t begin = k * global_batch(), end = std::min(begin + global_batch(), dataset_.size());
        const std::size_t m = end - begin, shards = static_cast<std::size_t>(options_.shards),
                          r = static_cast<std::size_t>(options_.shard);
        return {begin + r * m / shards, begin + (r + 1) * m / shards};
    }

    static std::uint64_t mix(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
        std::uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full ^ c;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        return h;
    }

    void work() {
        while (true) {
            std::size_t k;
            {
                std::unique_lock lock(mutex_);
                space_changed_.wait(lock, [&] {
                    return stopping_ || next_claim_ >= batch_count_ ||
                           next_claim_ < next_deliver_ + static_cast<std::size_t>(options_.prefetch_batches);
                });
                if (stopping_ || next_claim_ >= batch_count_) return;
                k = next_claim_++;
            }
            Built built = build(k);
            {
                std::lock_guard lock(mutex_);
                ready_[k] = std::move(built);
            }
            ready_changed_.notify_all();
        }
    }

    // Batch k of the current epoch; a pure function of (seed, epoch, k) and the dataset.
    Built build(std::size_t k) {
        Built built;
        try {
            const auto [first, last] = slice(k);
            std::vector<FloatImage> images;
            images.reserve(last - first);
            for (std::size_t position = first; position < last; ++position) {
                const std::size_t index = order_[position];
                if (known_unreadable(index)) continue;
                Rng rng(mix(options_.seed, static_cast<std::uint64_t>(epoch_) + 1, position));
                FloatImage image;
                try {
                    image = dataset_.load(index);
                } catch (const image_error& e) {
                    remember_unreadable(index, e.what());
                    continue;
                }
                image = transform_(to_rgb(image), rng);
                if (!images.empty() && (image.width != images.front().width || image.height != images.front().height))
                    throw shape_error("Loader: the transform made '" + dataset_.name(index) + "' " +
                                      std::to_string(image.width) + " x " + std::to_string(image.height) +
                                      " but earlier images of its batch " + std::to_string(images.front().width) +
                                      " x " + std::to_string(images.front().height) +
                                      "; end the transform with a fixed-size crop");
                images.push_back(std::move(image));
            }
            if (images.empty()) return built;
            const auto n = static_cast<index_t>(images.size());
            const index_t h = images.front().height, w = images.front().width;
            train::Batch out{Tensor<float>(Shape{.n = n, .c = 1, .h = h, .w = w}),
                             Tensor<float>(Shape{.n = n, .c = 2, .h = h, .w = w})};
            for (index_t i = 0; i < n; ++i) write_lab(images[static_cast<std::size_t>(i)], out.lightness, out.ab, i);
            built.batch = std::move(out);
        } catch (...) {
            built.failure = std::current_exception();
        }
        return built;
    }

    bool known_unreadable(std::size_t index) const {
        std::lock_guard lock(mutex_);
        if (!unreadable_.count(index)) return false;
        skipped_this_epoch_.insert(index);
        return true;
    }
    void remember_unreadable(std::size_t index, std::string reason) {
        std::lock_guard lock(mutex_);
        unreadable_.emplace(index, std::move(reason));
        skipped_this_epoch_.insert(index);
    }

    void finish_epoch() {
        stop_workers();
        if (!options_.report || skipped_this_epoch_.empty() || reported_epoch_ == epoch_) return;
        reported_epoch_ = epoch_;
        auto& out = *options_.report;
        out << "loader: skipped " << skipped_this_epoch_.size() << " unreadable image"
            << (skipped_this_epoch_.size() == 1 ? "" : "s") << " of " << dataset_.size() << " in epoch " << epoch_
            << ":\n";
        std::size_t shown = 0;
        for (const std::size_t index : skipped_this_epoch_) {
            if (shown++ == 5) {
                out << "  ... and " << skipped_this_epoch_.size() - 5 << " more\n";
                break;
            }
            out << "  " << unreadable_.at(index) << "\n";
        }
    }

    void stop_workers() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        space_changed_.notify_all();
        for (auto& worker : workers_) worker.join();
        workers_.clear();
    }

    Dataset dataset_;
    Transform transform_;
    LoaderOptions options_;

    int epoch_ = 0;
    int reported_epoch_ = -1;
    bool started_ = false;
    std::vector<std::size_t> order_;
    std::size_t batch_count_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable ready_changed_, space_changed_;
    std::size_t next_claim_ = 0, next_deliver_ = 0;
    bool stopping_ = false;
    std::map<std::size_t, Built> ready_;
    std::map<std::size_t, std::string> unreadable_;
    mutable std::set<std::size_t> skipped_this_epoch_;
    std::vector<std::thread> workers_;
};

}  // namespace chroma::data
