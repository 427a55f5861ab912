#pragma once
// What the example trainers share: reading an option's value, the training and validation loaders
// over a folder of photos or a file made by `chroma pack`, and the closing summary of a run.
#include <chroma/chroma.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#if defined(CHROMA_HAS_MPI)
#include <chroma/distributed/mpi.hpp>
#endif

namespace examples {

/// The ranks of this run: MPI's when the program was built with MPI (CMake's CHROMA_MPI) and
/// started by mpirun with several ranks, else one process. Ranks other than 0 print nothing to
/// stdout (rank 0 reports for the job); their errors still reach stderr. nullptr, after saying
/// why, when mpirun started a program built without MPI, whose ranks would each train alone.
inline std::unique_ptr<chroma::distributed::Communicator> job_ranks(int& argc, char**& argv) {
#if defined(CHROMA_HAS_MPI)
    if (chroma::distributed::launched_by_mpi()) {
        auto ranks = std::make_unique<chroma::distributed::MpiCommunicator>(&argc, &argv);
        if (!ranks->is_root() && std::freopen("/dev/null", "w", stdout) == nullptr)
            std::fprintf(stderr, "%s: could not silence rank %d's output\n", argv[0], ranks->rank());
        return ranks;
    }
#else
    (void)argc;
    if (chroma::distributed::launched_by_mpi()) {
        std::fprintf(stderr, "%s was built without MPI, so under mpirun each process would train a model alone; "
                             "install libopenmpi-dev and rebuild (CMake option CHROMA_MPI)\n", argv[0]);
        return nullptr;
    }
#endif
    return std::make_unique<chroma::distributed::SingleProcess>();
}

/// The value of option argv[i], i.e. argv[i + 1] (i moves past it). Without one it says so,
/// prints the usage and exits with status 2.
inline const char* option_value(int argc, char** argv, int& i, int (*usage)(const char* program)) {
    if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(usage(argv[0]));
    }
    return argv[++i];
}

/// Where a trainer's photos come from and how they are batched.
struct PhotoSource {
    std::string folder;  // a folder: `images` photos of it (0: all), split 90/10 by file name
    std::string packed;  // or a file made by `chroma pack`: 10% of its images held out by name
    int images = 0;
    double calibration_fraction = 0;  // this share of the training part is left out (data::calibration_seed)
    int batch = 16;
    int threads = 2;  // decoding and augmenting threads
    chroma::distributed::Communicator* ranks = nullptr;  // several: `batch` is the global batch, shared out
};

/// Each loader's transform, by whether it is the training loader and whether the photos come
/// from a packed file (whose images are already at their stored size).
using MakeTransform = std::function<chroma::data::Transform(bool training, bool packed)>;

/// Photos resized to `size` (packed ones as they are), then `crop` px crops: random and flipped
/// for training, central for validation.
inline MakeTransform resize_and_crop(int size, int crop) {
    return [size, crop](bool training, bool packed) {
        const int resize = packed ? 0 : size;
        return training ? chroma::data::training_transform(resize, crop)
                        : chroma::data::evaluation_transform(resize, crop);
    };
}

/// Scale augmentation (--zoom): training sees a random square of `min_fraction` to all of each
/// photo's shorter side (after resizing it to `size`; packed photos as they are), resized to `crop`
/// and flipped; validation sees the whole centre square resized to `crop`, the view colourising has.
inline MakeTransform resize_and_zoom(int size, int crop, double min_fraction) {
    return [size, crop, min_fraction](bool training, bool packed) -> chroma::data::Transform {
        if (!training) return chroma::data::evaluation_transform(crop, crop);
        auto augment = chroma::data::scale_augmented_training_transform(crop, min_fraction);
        if (packed) return augment;
        return [size, augment](const chroma::FloatImage& image, chroma::Rng& rng) {
            return augment(chroma::data::resize_shorter_side(image, size), rng);
        };
    };
}

/// The training part without its calibration photos (`calibrated.validation`), saying how many.
template <class Split>
auto leave_out_calibration(Split calibrated, double fraction) {
    std::printf("leaving out %zu training images for calibration (--calibration-fraction %g)\n",
                calibrated.validation.size(), fraction);
    return std::move(calibrated.train);
}

/// Builds the training and validation loaders and returns run(training, validation). Errors
/// are printed after the program's name and give status 1.
template <class Run>
int with_photo_loaders(const char* program, const PhotoSource& source, const MakeTransform& make_transform, Run run) {
    using namespace chroma;
    try {
        const int shards = source.ranks ? source.ranks->size() : 1;
        if (source.batch % shards != 0)
            throw usage_error("the batch (" + std::to_string(source.batch) + ") is the global batch and must divide "
                              "evenly among the " + std::to_string(shards) + " ranks");
        if (shards > 1)
            std::printf("%s: each of %d ranks takes %d images of every batch of %d\n", source.ranks->describe().c_str(),
                        shards, source.batch / shards, source.batch);
        const data::LoaderOptions train_options{.batch_size = source.batch / shards, .threads = source.threads,
                                                .seed = 1, .shard = source.ranks ? source.ranks->rank() : 0,
                                                .shards = shards};
        const data::LoaderOptions validation_options{.batch_size = source.batch, .threads = source.threads,
                                                     .shuffle = false};
        if (!source.packed.empty()) {
            const auto packed = std::make_shared<const data::PackedDataset>(source.packed);
            std::printf("%s: %zu images of %d x %d\n", source.packed.c_str(), packed->size(), packed->width(),
                        packed->height());
            auto split = data::split_dataset(packed, 0.1);
            if (source.calibration_fraction > 0)
                split.train = leave_out_calibration(
                    data::split_subset(split.train, source.calibration_fraction, data::calibration_seed),
                    source.calibration_fraction);
            data::Loader training(std::move(split.train), make_transform(true, true), train_options);
            data::Loader validation(std::move(split.validation), make_transform(false, true), validation_options);
            return run(training, validation);
        }
        const auto all = data::list_images(source.folder);
        const auto chosen =
            source.images > 0 ? data::sample_files(all, static_cast<std::size_t>(source.images), 0, source.folder) : all;
        data::FileSplit split = data::split_by_file(chosen, 0.1, 0, source.folder);
        if (source.calibration_fraction > 0)
            split.train = leave_out_calibration(
                data::split_by_file(split.train, source.calibration_fraction, data::calibration_seed, source.folder),
                source.calibration_fraction);
        std::printf("%s: %zu images, using %zu: %zu to train, %zu to validate\n", source.folder.c_str(), all.size(),
                    chosen.size(), split.train.size(), split.validation.size());
        data::Loader training(data::ImageFiles(split.train), make_transform(true, false), train_options);
        data::Loader validation(data::ImageFiles(split.validation), make_transform(false, false), validation_options);
        return run(training, validation);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 1;
    }
}

/// The colour prior of the training images (train::estimate_prior over `batches` batches). With
/// several ranks each estimates it from its shares of the same batches and the ranks average
/// theirs, so every rank rebalances alike.
template <class Source>
std::vector<double> prior_of_all_ranks(Source& training, int batches, chroma::distributed::Communicator* ranks) {
    auto prior = chroma::train::estimate_prior(training, batches);
    if (ranks != nullptr && ranks->size() > 1) {
        ranks->all_reduce_sum(std::span<double>(prior));
        for (auto& p : prior) p /= ranks->size();
    }
    return prior;
}

/// Prints the last epoch's validation loss and scores and where the run's files are. Returns the
/// exit status: 1 when no epoch finished or a loss became NaN or infinite, else 0. For the
/// results of train::Trainer and train::GanTrainer.
template <class Result>
int finish(const Result& result, const std::string& out) {
    if (result.epochs.empty()) return 1;
    const auto& last = result.epochs.back();
    std::printf("epoch %d: validation loss %.5f  %s\nsee %s/samples_epoch_%03d.png, %s/loss.png and %s/log.csv\n",
                last.epoch, last.validation_loss, chroma::train::scores_text(last.model, last.gray).c_str(),
                out.c_str(), last.epoch, out.c_str(), out.c_str());
    return result.reason == chroma::train::stop_reason::non_finite_loss ? 1 : 0;
}

}  // namespace examples
