// Trains a 313-bin classifier with its seed's recipe:
//
//   eccv16   seed 001 (Zhang et al.'s network in Keras): 256 px images, random 176 px crops and
//            flips, He-normal init, soft targets (5 nearest bins, sigma 5), cross-entropy without
//            rebalancing (the seed leaves it out), Adam lr 1e-4, beta2 0.99, Keras decay 1e-3, L2
//            1e-4 (Keras' l2(1e-4) adds 1e-4 |w|^2, so a weight decay of 2e-4 on the gradient; it
//            reaches every parameter here, Keras only the kernels), learning rate x 0.2 after 10
//            epochs without a better validation loss, annealed-mean decoding at T = 0.38.
//            Seed 001's other model trains on 64 px images with 56 px crops: --size 64 --crop 56.
//   light64  seed 003: 64 px images, hard targets (its "naive quantization"), rebalanced
//            cross-entropy (lambda 0.5, prior estimated from the training images) plus the
//            distribution loss with alpha 0.4, Adam lr 2e-4 for 100 epochs, top-2 decoding.
// Neither seed gives a batch size: 16 and 32 are used.
//
//   train_zhang FOLDER [--model eccv16|light64] [--images N] [--epochs N] [--batch N] [--lr X]
//                      [--size PX] [--crop PX] [--rebalance none|estimated|zhang|uniform]
//                      [--encoding soft|hard] [--alpha X] [--threads N] [--out DIR] [--resume]
//                      [--sync-batch-norm]   (under mpirun: BatchNorm statistics of the global batch)
// --encoding and --alpha override the seed's target encoding and distribution-loss weight (the
// bundled model mixes the light network with seed 001's soft targets).
//   train_zhang --packed FILE [...]   (a file made by `chroma pack`)
#include <chroma/chroma.hpp>
#include <chroma/models/eccv16.hpp>
#include <chroma/models/light_classifier.hpp>
#include <chroma/train/classification_task.hpp>
#include <chroma/train/trainer.hpp>

#include "example_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

using namespace chroma;

namespace {

struct Settings {
    std::string model = "eccv16", folder, packed, out, rebalance, encoding;
    double alpha = -1;  // negative: the seed's
    bool resume = false;
    bool synchronise_batch_norm = false;  // under mpirun: BatchNorm over the whole global batch
    distributed::Communicator* ranks = nullptr;  // several under mpirun
    int images = 0, epochs = 0, batch = 0, size = 0, crop = 0, threads = 2;
    int prior_batches = 100;  // how much of the training data the prior is estimated from
    double learning_rate = 0;

    // The seed's recipe for whatever was not given.
    void fill_defaults() {
        const bool eccv16 = model == "eccv16";
        if (epochs == 0) epochs = eccv16 ? 90 : 100;
        if (batch == 0) batch = eccv16 ? 16 : 32;
        if (size == 0) size = eccv16 ? 256 : 64;
        if (crop == 0) crop = eccv16 ? (size == 256 ? 176 : size * 7 / 8) : size;
        if (learning_rate == 0) learning_rate = eccv16 ? 1e-4 : 2e-4;
        if (rebalance.empty()) rebalance = eccv16 ? "none" : "estimated";
        if (out.empty()) out = "runs/" + model;
        if (encoding.empty()) encoding = eccv16 ? "soft" : "hard";
        if (alpha < 0) alpha = eccv16 ? 0.0 : 0.4;
    }
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--model eccv16|light64] [--images N] [--epochs N] [--batch N] [--lr X]\n"
                 "                 [--size PX] [--crop PX] [--rebalance none|estimated|zhang|uniform]\n"
                 "                 [--encoding soft|hard] [--alpha X] [--threads N] [--out DIR] [--resume]\n"
                 "                 [--sync-batch-norm]\n"
                 "       %s --packed FILE [...]   (a file made by `chroma pack`)\n",
                 program, program);
    return 2;
}

template <class TrainSource>
train::ClassificationOptions task_options(const Settings& s, TrainSource& training) {
    train::ClassificationOptions o{.architecture = s.model};
    o.encoding = s.encoding == "hard" ? train::BinEncoding::hard : train::BinEncoding::soft;
    o.alpha = s.alpha;
    if (s.model == "light64") o.decoding = color::Decoding::top_k_mean(2);
    o.rebalance = s.rebalance != "none";
    // The distribution loss needs a prior even without rebalancing.
    const std::string prior = s.rebalance == "none" && o.alpha > 0 ? "estimated" : s.rebalance;
    if (prior == "estimated") {
        o.prior = examples::prior_of_all_ranks(training, s.prior_batches, s.ranks);
        o.prior_name = "prior estimated from the training images";
    } else if (prior == "zhang") {
        o.prior = color::zhang_prior_vector();
        o.prior_name = "Zhang's ImageNet prior";
    }
    return o;
}

template <class Net, class TrainSource, class ValidationSource>
int train_model(TrainSource& training, ValidationSource& validation, const Settings& s) {
    Model<Net> model(1);
    const bool eccv16 = s.model == "eccv16";
    if (eccv16) init::he_normal(model, 1);
    train::ClassificationTask task(task_options(s, training));
    optim::AdamOptions adam_options{.learning_rate = s.learning_rate};
    if (eccv16) adam_options = {.learning_rate = s.learning_rate, .beta2 = 0.99, .weight_decay = 2e-4, .decay = 1e-3};
    optim::Adam<> adam(adam_options);
    std::printf("recipe: %s (seed %s): %s; Adam lr %g, beta2 %g, weight decay %g, decay %g%s; batch %d, %d epochs, "
                "%d px images, %d px crops; %lld parameters\n",
                s.model.c_str(), eccv16 ? "001" : "003", task.describe().c_str(), s.learning_rate, adam_options.beta2,
                adam_options.weight_decay, adam_options.decay,
                eccv16 ? ", He-normal init, x0.2 on a 10-epoch plateau" : "", s.batch, s.epochs, s.size, s.crop,
                static_cast<long long>(model.parameter_count()));

    optim::ReduceOnPlateau plateau({.factor = 0.2, .patience = 10});
    train::TrainerOptions options{.epochs = s.epochs, .output = s.out, .sample_rows = 6, .architecture = s.model};
    options.resume = s.resume;  // continues from OUT/checkpoint.ckpt, also under a changed loss
    options.communicator = s.ranks;
    options.synchronise_batch_norm = s.synchronise_batch_norm;
    if (eccv16)
        options.on_epoch_end = [&](const train::EpochRecord& record) {
            if (plateau.step(record.validation_loss, adam))
                std::printf("learning rate lowered to %g\n", adam.learning_rate());
        };
    train::Trainer trainer(model, task, adam, options);
    return examples::finish(trainer.fit(training, validation), s.out);
}

template <class TrainSource, class ValidationSource>
int train_chosen(TrainSource& training, ValidationSource& validation, const Settings& s) {
    if (s.model == "eccv16") return train_model<models::Eccv16Classifier>(training, validation, s);
    return train_model<models::LightClassifier>(training, validation, s);
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
        if (arg == "--model") s.model = value();
        else if (arg == "--images") s.images = std::atoi(value());
        else if (arg == "--epochs") s.epochs = std::atoi(value());
        else if (arg == "--batch") s.batch = std::atoi(value());
        else if (arg == "--lr") s.learning_rate = std::atof(value());
        else if (arg == "--size") s.size = std::atoi(value());
        else if (arg == "--crop") s.crop = std::atoi(value());
        else if (arg == "--rebalance") s.rebalance = value();
        else if (arg == "--out") s.out = value();
        else if (arg == "--encoding") s.encoding = value();
        else if (arg == "--alpha") s.alpha = std::atof(value());
        else if (arg == "--threads") s.threads = std::atoi(value());
        else if (arg == "--resume") s.resume = true;
        else if (arg == "--sync-batch-norm") s.synchronise_batch_norm = true;
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.model != "eccv16" && s.model != "light64") {
        std::fprintf(stderr, "--model is eccv16 or light64, not '%s'\n", s.model.c_str());
        return 2;
    }
    s.fill_defaults();
    if (s.rebalance != "none" && s.rebalance != "estimated" && s.rebalance != "zhang" && s.rebalance != "uniform") {
        std::fprintf(stderr, "--rebalance is none, estimated, zhang or uniform, not '%s'\n", s.rebalance.c_str());
        return 2;
    }
    if (s.encoding != "soft" && s.encoding != "hard") {
        std::fprintf(stderr, "--encoding is soft or hard, not '%s'\n", s.encoding.c_str());
        return 2;
    }
    if (s.alpha > 1 || s.threads < 0) {
        std::fprintf(stderr, "--alpha is between 0 and 1, --threads at least 0\n");
        return 2;
    }
    if (s.epochs < 1 || s.batch < 1 || s.crop < 8 || s.crop % 8 != 0 || s.crop > s.size || s.images < 0) {
        std::fprintf(stderr, "--epochs and --batch must be at least 1, --crop a multiple of 8 no larger than --size\n");
        return 2;
    }

    const examples::PhotoSource source{.folder = s.folder, .packed = s.packed, .images = s.images, .batch = s.batch,
                                       .threads = s.threads, .ranks = s.ranks};
    auto train = [&](auto& training, auto& validation) { return train_chosen(training, validation, s); };
    return examples::with_photo_loaders("train_zhang", source, examples::resize_and_crop(s.size, s.crop), train);
}
