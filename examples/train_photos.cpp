// Trains the ResNet-18 U-Net to colourise real photos: models::ResNetUNet regressing ab (--model
// resnet-unet, the default), the bundled model's models::ResNetUNetClassifier (--model
// resnet-unet-classifier: the same trunk, a 313-bin head), or the earlier models::PhotoUNet
// (--model photo-unet): a
// deterministic sample of a folder (200 photos by default, --images 0 for all), split 90/10 by
// file, decoded and augmented on worker threads while the model trains (or read from a file made
// by `chroma pack`), with a validation pass, a sample grid and a loss curve after every epoch.
// The loss is L1 on ab / 110: a mean squared error pulls every uncertain colour to the average,
// brown, where L1 keeps to the likelier colour. L1 still leans to the common desaturated
// colours; --rebalance LAMBDA weights each pixel by its colour's class-rebalancing weight
// (train/rebalanced_regression_task.hpp, prior estimated from the training images).
//
// The classifier learns a distribution over Zhang's 313 ab bins per pixel (soft targets,
// cross-entropy; --rebalance LAMBDA rebalances it by the estimated prior) and is validated with
// the annealed mean at --temperature T (0.38, Zhang's). --init-from FILE starts any of the
// networks from another model's file wherever names and shapes agree: the classifier from a
// trained resnet-unet, whose trunk it shares, so only its head starts from random weights.
//
// --pretrained FILE starts ResNetUNet's encoder from a torchvision resnet18 state_dict
// (models/pretrained_resnet.hpp), held frozen until the epoch given by --release-encoder (1-based;
// default: frozen throughout). Without --pretrained the encoder trains from random weights.
//
// --zoom F trains on random squares of F to all of each photo's shorter side, resized to --crop
// (scale augmentation: pack at 224 px, train at 160, and each epoch shows other views), and
// validates on the whole photo resized to --crop.
//
// --final-lr X anneals the rate from --lr to X over the run's epochs (cosine); without it the rate is
// --lr throughout. --anneal-from EPOCH (1-based) starts that cosine at a later epoch, a warm restart
// for fine-tuning a finished run (--resume --epochs 30 --anneal-from 23). Resumed runs follow the
// same rates (not the checkpoint's).
//
// Data-parallel (built with MPI, CMake's CHROMA_MPI): `mpirun -np N train_photos ...` trains one
// model on N ranks, each on its share of every batch (--batch is the global batch), with the
// result of one process on the same batches; rank 0 writes the run's files (docs/distributed.md).
// --sync-batch-norm has the BatchNorm layers normalise with the whole global batch's statistics
// rather than each rank's share's.
//
//   train_photos FOLDER [--model resnet-unet|resnet-unet-classifier|photo-unet] [--pretrained FILE]
//                [--release-encoder EPOCH] [--init-from MODEL.safetensors] [--temperature 0.38]
//                [--images 200] [--epochs 30] [--batch 16] [--lr X] [--final-lr X] [--anneal-from EPOCH]
//                [--crop 56] [--zoom 0.6] [--rebalance 0.5] [--out runs/photos] [--resume]
//   train_photos --packed photos.pack [...]
#include <chroma/chroma.hpp>
#include <chroma/models/photo_unet.hpp>
#include <chroma/models/pretrained_resnet.hpp>
#include <chroma/models/resnet_unet.hpp>

#include "example_support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace chroma;

namespace {

//
// --calibration-fraction F leaves that share of the training photos out (a seeded split by name,
// data::calibration_seed), so a decoding can be chosen afterwards on photos the model never saw:
// `chroma evaluate --split calibration --calibration-fraction F`.
struct Settings {
    std::string folder, packed, out = "runs/photos";
    std::string model = "resnet-unet", pretrained, init_from;
    int release_encoder = 0;  // the 1-based epoch from which a pretrained encoder trains; 0: never
    int images = 200, epochs = 30, batch = 16, threads = 2;
    double calibration_fraction = 0;  // > 0: this share of the training photos is left out
    int size = 0, crop = 0;  // 0: the model's own (resnet-unet 160 and 128 px, photo-unet 64 and 56)
    double learning_rate = 2e-3;
    double final_learning_rate = -1;  // < 0: a constant rate
    int anneal_from = 1;              // the 1-based epoch at which the cosine starts from --lr
    double rebalance = 0.0;  // lambda of the class rebalancing; 0: plain L1 (or cross-entropy)
    double temperature = 0.38;  // the classifier's annealed mean in validation
    int prior_batches = 100;
    double zoom = 0.0;  // > 0: random squares of zoom to all of the shorter side, resized to the crop
    bool resume = false;
    bool synchronise_batch_norm = false;  // under mpirun: BatchNorm over the whole global batch
    distributed::Communicator* ranks = nullptr;  // several under mpirun
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--model resnet-unet|resnet-unet-classifier|photo-unet] [--pretrained FILE]\n"
                 "                 [--release-encoder EPOCH] [--init-from MODEL.safetensors] [--temperature T]\n"
                 "                 [--images N] [--epochs N] [--batch N] [--lr X] [--final-lr X] [--anneal-from EPOCH]\n"
                 "                 [--crop PX] [--zoom MIN_FRACTION] [--rebalance LAMBDA] [--calibration-fraction F]\n"
                 "                 [--out DIR] [--resume] [--sync-batch-norm]\n"
                 "       %s --packed FILE [--epochs N] ...   (a file made by `chroma pack`)\n",
                 program, program);
    return 2;
}

/// ResNetUNet's encoder from --pretrained, frozen until --release-encoder; or all from random weights.
template <class Net>
constexpr bool has_resnet_encoder = std::is_same_v<Net, models::ResNetUNet> || std::is_same_v<Net, models::ResNetUNetClassifier>;

/// --init-from: every tensor the file holds under the model's name and shape; the rest stays as initialised.
template <class Net>
void start_from_model_file(Model<Net>& model, const Settings& s) {
    if (s.init_from.empty()) return;
    const auto loaded = io::load_matching_safetensors(io::SafetensorsFile::load(s.init_from), model);
    if (loaded.loaded.empty())
        throw io::file_error(s.init_from + ": no tensor of the file has a name and shape of " + s.model + "'s");
    std::string fresh;
    for (const auto* names : {&loaded.not_in_file, &loaded.other_shape})
        for (const auto& name : *names) fresh += (fresh.empty() ? "" : ", ") + name;
    std::printf("started from %s: %zu tensors read; from random weights: %s\n", s.init_from.c_str(),
                loaded.loaded.size(), fresh.empty() ? "none" : fresh.c_str());
}

template <class Net>
void prepare_encoder(Model<Net>& model, train::TrainerOptions& options, const Settings& s) {
    if constexpr (has_resnet_encoder<Net>) {
        if (s.pretrained.empty()) {
            set_frozen_parameters(model, false, "");
            std::printf("encoder: random weights, trained with the rest (give --pretrained FILE to start from ImageNet's)\n");
            return;
        }
        models::import_resnet18(s.pretrained, model, models::resnet_unet_import());
        std::printf("encoder: torchvision resnet18 conv1..layer2 from %s, %s\n", s.pretrained.c_str(),
                    s.release_encoder > 0 ? ("frozen until epoch " + std::to_string(s.release_encoder)).c_str()
                                          : "frozen");
        if (s.release_encoder > 0)
            options.before_epoch = [&model, release = s.release_encoder](int epoch) {
                set_frozen_parameters(model, epoch + 1 < release, "");
            };
    }
}

template <class Net, class Task, class TrainSource, class ValidationSource>
int run_training(Task& task, TrainSource& training, ValidationSource& validation, const Settings& s) {
    Model<Net> model(1);
    train::TrainerOptions options{.epochs = s.epochs, .output = s.out, .sample_rows = 6, .architecture = s.model};
    options.communicator = s.ranks;
    options.synchronise_batch_norm = s.synchronise_batch_norm;
    prepare_encoder(model, options, s);
    start_from_model_file(model, s);
    std::printf("%s, %lld parameters to train, %d CPU threads; Adam lr %g, batch %d, %d x %d crops of %d px\n%s\n",
                s.model.c_str(), static_cast<long long>(model.parameter_count()), cpu::threads(), s.learning_rate,
                s.batch, s.crop, s.crop, s.size, task.describe().c_str());
    optim::Adam<> adam({.learning_rate = s.learning_rate});
    options.resume = s.resume;
    // The rate always comes from the options, so --lr means the same on a resumed run as on a new one.
    const double final_rate = s.final_learning_rate >= 0 ? s.final_learning_rate : s.learning_rate;
    const int first = s.anneal_from - 1;  // 0-based, as the trainer counts epochs
    const optim::CosineAnnealing cosine(s.learning_rate, s.epochs - first, final_rate);
    options.learning_rate_at = [cosine, first](int epoch) { return cosine.rate(std::max(0, epoch - first)); };
    if (final_rate != s.learning_rate)
        std::printf("learning rate: cosine from %g to %g over epochs %d to %d\n", s.learning_rate, final_rate,
                    s.anneal_from, s.epochs);
    train::Trainer trainer(model, task, adam, options);
    return examples::finish(trainer.fit(training, validation), s.out);
}

template <class Task, class TrainSource, class ValidationSource>
int run_training(Task& task, TrainSource& training, ValidationSource& validation, const Settings& s) {
    if (s.model == "photo-unet") return run_training<models::PhotoUNet>(task, training, validation, s);
    return run_training<models::ResNetUNet>(task, training, validation, s);
}

template <class TrainSource, class ValidationSource>
int train_with_chosen_task(TrainSource& training, ValidationSource& validation, const Settings& s) {
    if (s.model == "resnet-unet-classifier") {
        train::ClassificationOptions options{.architecture = s.model};
        options.rebalance = s.rebalance > 0.0;
        options.lambda = s.rebalance;
        options.decoding = color::Decoding::annealed_mean(s.temperature);
        if (options.rebalance) {
            std::printf("estimating the colour prior from %d training batches...\n", s.prior_batches);
            options.prior = examples::prior_of_all_ranks(training, s.prior_batches, s.ranks);
            options.prior_name = "prior estimated from the training images";
        }
        train::ClassificationTask task(std::move(options));
        return run_training<models::ResNetUNetClassifier>(task, training, validation, s);
    }
    if (s.rebalance <= 0.0) {
        train::RegressionTask<loss::L1Loss> task;
        return run_training(task, training, validation, s);
    }
    std::printf("estimating the colour prior from %d training batches...\n", s.prior_batches);
    train::RebalancedRegressionTask task(examples::prior_of_all_ranks(training, s.prior_batches, s.ranks), s.rebalance);
    return run_training(task, training, validation, s);
}

}  // namespace

int main(int argc, char** argv) {
    const auto ranks = examples::job_ranks(argc, argv);
    if (!ranks) return 2;
    Settings s;
    s.ranks = ranks.get();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&] { return examples::option_value(argc, argv, i, usage); };
        if (arg == "--images") s.images = std::atoi(value());
        else if (arg == "--calibration-fraction") s.calibration_fraction = std::atof(value());
        else if (arg == "--model") s.model = value();
        else if (arg == "--pretrained") s.pretrained = value();
        else if (arg == "--init-from") s.init_from = value();
        else if (arg == "--temperature") s.temperature = std::atof(value());
        else if (arg == "--release-encoder") s.release_encoder = std::atoi(value());
        else if (arg == "--epochs") s.epochs = std::atoi(value());
        else if (arg == "--batch") s.batch = std::atoi(value());
        else if (arg == "--lr") s.learning_rate = std::atof(value());
        else if (arg == "--final-lr") s.final_learning_rate = std::atof(value());
        else if (arg == "--anneal-from") s.anneal_from = std::atoi(value());
        else if (arg == "--out") s.out = value();
        else if (arg == "--crop") s.crop = std::atoi(value());
        else if (arg == "--zoom") s.zoom = std::atof(value());
        else if (arg == "--rebalance") s.rebalance = std::atof(value());
        else if (arg == "--resume") s.resume = true;
        else if (arg == "--sync-batch-norm") s.synchronise_batch_norm = true;
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.model != "resnet-unet" && s.model != "resnet-unet-classifier" && s.model != "photo-unet") {
        std::fprintf(stderr, "--model must be resnet-unet, resnet-unet-classifier or photo-unet, not '%s'\n", s.model.c_str());
        return 2;
    }
    if (!(s.temperature > 0.0 && s.temperature <= 1.0)) {
        std::fprintf(stderr, "--temperature must be in (0, 1], got %g\n", s.temperature);
        return 2;
    }
    const bool resnet = s.model != "photo-unet";
    if (s.size == 0) s.size = resnet ? 160 : 64;
    if (s.crop == 0) s.crop = resnet ? 128 : 56;
    const int multiple = resnet ? 16 : 8;
    if (s.crop % multiple != 0 || (!s.pretrained.empty() && !resnet) || s.release_encoder < 0) {
        std::fprintf(stderr, "%s needs --crop a multiple of %d; --pretrained is for resnet-unet; --release-encoder is "
                             "an epoch (1-based)\n", s.model.c_str(), multiple);
        return 2;
    }
    if ((s.images != 0 && s.images < 10) || s.epochs < 1 || s.batch < 1 || s.crop < 8 || s.crop % 8 != 0 ||
        !(s.rebalance >= 0.0 && s.rebalance <= 1.0) || s.anneal_from < 1 || s.anneal_from > s.epochs ||
        !(s.zoom >= 0.0 && s.zoom <= 1.0) || !(s.calibration_fraction >= 0.0 && s.calibration_fraction < 1.0)) {
        std::fprintf(stderr, "--images must be 0 (all) or at least 10, --epochs and --batch at least 1, --crop a "
                             "multiple of 8, --rebalance and --zoom in [0, 1], --calibration-fraction in [0, 1), "
                             "--anneal-from an epoch of the run\n");
        return 2;
    }

    const examples::PhotoSource source{.folder = s.folder, .packed = s.packed, .images = s.images,
                                       .calibration_fraction = s.calibration_fraction, .batch = s.batch,
                                       .threads = s.threads, .ranks = s.ranks};
    auto train = [&](auto& training, auto& validation) { return train_with_chosen_task(training, validation, s); };
    const auto transform = s.zoom > 0.0 ? examples::resize_and_zoom(s.size, s.crop, s.zoom)
                                        : examples::resize_and_crop(s.size, s.crop);
    return examples::with_photo_loaders("train_photos", source, transform, train);
}
