// Trains the ResNet-18-encoder autoencoder (seed 002) with the seed's recipe: photos padded to
// black squares and resized to 224 px (the seed's first stage; --size 608 for its second), batch
// 15, learning rate 1e-4, 16 epochs. The seed names neither the optimiser nor the loss nor the
// scaling; they follow its reference [2] (Melas-Kyriazi): Adam, mean squared error, L / 100 in and
// ab as (ab + 128) / 255 out.
//
// --pretrained FILE starts the encoder from a torchvision resnet18 state_dict, as the seed does
// with the ImageNet weights (models/pretrained_resnet.hpp: conv1's RGB kernels folded to L, the
// BatchNorms copied); --freeze-encoder N keeps the encoder's parameters fixed for the first N
// epochs, then all train (its BatchNorms keep training mode, as in the seed).
//
//   train_resnet_ae FOLDER [--images N] [--epochs 16] [--batch 15] [--lr 1e-4] [--size 224]
//                          [--pretrained FILE] [--freeze-encoder EPOCHS] [--out runs/resnet-ae]
//                          [--sync-batch-norm]   (under mpirun: BatchNorm statistics of the global batch)
//   train_resnet_ae --packed FILE [...]   (e.g. `chroma pack FOLDER -o f.pack --size 224 --fit pad`)
#include <chroma/chroma.hpp>
#include <chroma/models/pretrained_resnet.hpp>
#include <chroma/models/resnet_autoencoder.hpp>
#include <chroma/train/regression_task.hpp>
#include <chroma/train/trainer.hpp>

#include "example_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace chroma;

namespace {

/// Melas-Kyriazi's ab scaling: (ab + 128) / 255, in [0, 1].
constexpr color::Normalization ab_shifted_unit{.offset = -128.0, .scale = 255.0};

struct Settings {
    std::string folder, packed, out = "runs/resnet-ae", pretrained;
    int images = 0, epochs = 16, batch = 15, size = 224, threads = 2;
    int freeze_encoder = 0;  // epochs with the encoder's parameters fixed
    double learning_rate = 1e-4;
    distributed::Communicator* ranks = nullptr;  // several under mpirun
    bool synchronise_batch_norm = false;         // under mpirun: BatchNorm over the whole global batch
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--images N] [--epochs N] [--batch N] [--lr X] [--size PX] [--pretrained FILE]\n"
                 "                 [--freeze-encoder EPOCHS] [--out DIR] [--sync-batch-norm]\n"
                 "       %s --packed FILE [...]   (a file made by `chroma pack --fit pad`)\n",
                 program, program);
    return 2;
}

/// Seed 002's preprocessing: pad to a black square, resize to size x size; flips for training.
data::Transform padded_square(int size, bool flip) {
    return [size, flip](const FloatImage& image, Rng& rng) {
        const FloatImage square = data::resize(data::pad_to_square(image), size, size);
        return flip ? data::random_flip(square, rng) : square;
    };
}

template <class TrainSource, class ValidationSource>
int train_model(TrainSource& training, ValidationSource& validation, const Settings& s) {
    Model<models::ResNetAutoencoder> model(1);
    train::TrainerOptions options{.epochs = s.epochs, .output = s.out, .sample_rows = 6, .architecture = "resnet-ae"};
    options.communicator = s.ranks;
    options.synchronise_batch_norm = s.synchronise_batch_norm;
    if (!s.pretrained.empty()) {
        models::import_resnet18(s.pretrained, model, models::resnet_autoencoder_import());
        std::printf("encoder: torchvision resnet18 conv1..layer2 from %s, its parameters fixed for %d epochs\n",
                    s.pretrained.c_str(), s.freeze_encoder);
        options.before_epoch = [&model, epochs = s.freeze_encoder](int epoch) {
            set_frozen_parameters(model, epoch < epochs, "midlevel_resnet.");
        };
    }
    std::printf("recipe: resnet-ae (seed 002): L/100 -> ab (ab+128)/255, mean squared error, Adam lr %g, batch %d, "
                "%d epochs, photos padded to %d px squares; %lld parameters\n",
                s.learning_rate, s.batch, s.epochs, s.size, static_cast<long long>(model.parameter_count()));
    train::RegressionTask<loss::MSELoss> task(color::lightness_unit, ab_shifted_unit);
    optim::Adam<> adam({.learning_rate = s.learning_rate});
    train::Trainer trainer(model, task, adam, options);
    return examples::finish(trainer.fit(training, validation), s.out);
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
        else if (arg == "--epochs") s.epochs = std::atoi(value());
        else if (arg == "--batch") s.batch = std::atoi(value());
        else if (arg == "--lr") s.learning_rate = std::atof(value());
        else if (arg == "--size") s.size = std::atoi(value());
        else if (arg == "--out") s.out = value();
        else if (arg == "--pretrained") s.pretrained = value();
        else if (arg == "--freeze-encoder") s.freeze_encoder = std::atoi(value());
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--sync-batch-norm") s.synchronise_batch_norm = true;
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.epochs < 1 || s.batch < 1 || s.size < 8 || s.size % 8 != 0 || s.images < 0 || s.freeze_encoder < 0 ||
        (s.freeze_encoder > 0 && s.pretrained.empty())) {
        std::fprintf(stderr, "--epochs and --batch must be at least 1, --size a multiple of 8, --freeze-encoder a number "
                             "of epochs with --pretrained\n");
        return 2;
    }

    // Packed with --fit pad the images are squares already; they are resized to --size.
    const examples::PhotoSource source{.folder = s.folder, .packed = s.packed, .images = s.images, .batch = s.batch,
                                       .threads = s.threads, .ranks = s.ranks};
    auto train = [&](auto& training, auto& validation) { return train_model(training, validation, s); };
    auto transform = [&](bool training, bool) { return padded_square(s.size, training); };
    return examples::with_photo_loaders("train_resnet_ae", source, transform, train);
}
