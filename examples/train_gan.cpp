// Trains seed 004's conditional GAN: Zhang's network as a regression generator (normalised L ->
// ab / 110 through tanh, dropout as its noise) against a discriminator that sees (L, ab):
//
//   dcgan   patch discriminator, sigmoid cross-entropy (the generator minimises -log D(G), the
//           usual non-saturating form of the seed's minimax game)
//   lsgan   patch discriminator, least squares with a = 0, b = 1, c = 1
//   ebgan   autoencoder discriminator, energy = reconstruction error, margin 0.5
//   wgan    patch critic, weights clipped to [-0.01, 0.01], 5 critic updates per generator update
//
// The generator's loss is lambda_1 L_adv + lambda_2 L1 + lambda_3 L2 with 1, 100, 0 by default:
// the seed leaves the lambdas open; 100 x L1 is the authors' code's l1_weight (and pix2pix's).
// Batch 32 as the seed (section 3.2). The seed names no optimiser settings: Adam lr 2e-4,
// beta1 0.5 for both nets (pix2pix), 10 epochs (the authors' GAN_EPOCHS). Images as seed 001's
// Zhang network: 256 px, random 176 px crops and flips.
//
//   train_gan FOLDER [--objective dcgan|lsgan|ebgan|wgan] [--images N] [--epochs N] [--batch N]
//                    [--lr X] [--size PX] [--crop PX] [--l1 W] [--l2 W] [--adversarial W] [--out DIR]
//   train_gan --packed FILE [...]   (a file made by `chroma pack`)
//
// Data-parallel (built with MPI, CMake's CHROMA_MPI): `mpirun -np N train_gan ...` trains one
// pair of nets; --batch is the global batch, each rank takes batch / N of it.
#include <chroma/chroma.hpp>
#include <chroma/models/gan.hpp>
#include <chroma/train/gan_trainer.hpp>

#include "example_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace chroma;

namespace {

struct Settings {
    std::string objective = "dcgan", folder, packed, out;
    int images = 0, epochs = 10, batch = 32, size = 256, crop = 176, threads = 2;
    double learning_rate = 2e-4;
    loss::GeneratorWeights weights{.adversarial = 1.0, .l1 = 100.0, .l2 = 0.0};
    distributed::Communicator* ranks = nullptr;  // several under mpirun
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--objective dcgan|lsgan|ebgan|wgan] [--images N] [--epochs N] [--batch N]\n"
                 "                 [--lr X] [--size PX] [--crop PX] [--l1 W] [--l2 W] [--adversarial W] [--out DIR]\n"
                 "       %s --packed FILE [...]   (a file made by `chroma pack`)\n",
                 program, program);
    return 2;
}

template <class Discriminator, class Critic, class Adversarial, class TrainSource, class ValidationSource>
int train_with(Adversarial adversarial, train::GanOptions options, TrainSource& training, ValidationSource& validation,
               const Settings& s) {
    Model<models::ZhangRegressionGenerator> generator(1);
    Model<Discriminator> discriminator(2);
    optim::Adam<> generator_adam({.learning_rate = s.learning_rate, .beta1 = 0.5});
    optim::Adam<> critic_adam({.learning_rate = s.learning_rate, .beta1 = 0.5});
    options.epochs = s.epochs;
    options.output = s.out;
    options.weights = s.weights;
    options.sample_rows = 6;
    options.architecture = "gan-generator";
    options.communicator = s.ranks;
    train::GanTrainer trainer(generator, Critic(discriminator), adversarial, generator_adam, critic_adam, options);
    std::printf("recipe: gan-generator (seed 004, %s): %s; Adam lr %g, beta1 0.5 for both nets; critic steps %d%s; "
                "batch %d, %d epochs, %d px images, %d px crops; generator %lld parameters, discriminator %lld\n",
                s.objective.c_str(), Adversarial::describe().c_str(), s.learning_rate, options.critic_steps,
                options.weight_clip > 0 ? (", weights clipped to " + chroma::detail::number_text(options.weight_clip)).c_str()
                                        : "",
                s.batch, s.epochs, s.size, s.crop, static_cast<long long>(generator.parameter_count()),
                static_cast<long long>(discriminator.parameter_count()));
    std::printf("generator loss: %g adversarial + %g L1 + %g L2 (ab / 110)\n", s.weights.adversarial, s.weights.l1,
                s.weights.l2);
    return examples::finish(trainer.fit(training, validation), s.out);
}

template <class TrainSource, class ValidationSource>
int train_chosen(TrainSource& training, ValidationSource& validation, const Settings& s) {
    using models::EnergyDiscriminator;
    using models::PatchDiscriminator;
    using PatchCritic = train::ScoreCritic<Model<PatchDiscriminator>>;
    if (s.objective == "lsgan")
        return train_with<PatchDiscriminator, PatchCritic>(loss::LeastSquaresGan{}, {}, training, validation, s);
    if (s.objective == "ebgan")
        return train_with<EnergyDiscriminator, train::EnergyCritic<Model<EnergyDiscriminator>>>(
            loss::EnergyBasedGan(0.5), {}, training, validation, s);
    if (s.objective == "wgan")
        return train_with<PatchDiscriminator, PatchCritic>(loss::WassersteinGan{},
                                                           {.critic_steps = 5, .weight_clip = 0.01}, training,
                                                           validation, s);
    return train_with<PatchDiscriminator, PatchCritic>(loss::NonSaturatingGan{}, {}, training, validation, s);
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
        if (arg == "--objective") s.objective = value();
        else if (arg == "--images") s.images = std::atoi(value());
        else if (arg == "--epochs") s.epochs = std::atoi(value());
        else if (arg == "--batch") s.batch = std::atoi(value());
        else if (arg == "--lr") s.learning_rate = std::atof(value());
        else if (arg == "--size") s.size = std::atoi(value());
        else if (arg == "--crop") s.crop = std::atoi(value());
        else if (arg == "--l1") s.weights.l1 = std::atof(value());
        else if (arg == "--l2") s.weights.l2 = std::atof(value());
        else if (arg == "--adversarial") s.weights.adversarial = std::atof(value());
        else if (arg == "--out") s.out = value();
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.objective != "dcgan" && s.objective != "lsgan" && s.objective != "ebgan" && s.objective != "wgan") {
        std::fprintf(stderr, "--objective is dcgan, lsgan, ebgan or wgan, not '%s'\n", s.objective.c_str());
        return 2;
    }
    // The patch discriminator needs at least 32 px; the generator a multiple of 8.
    if (s.epochs < 1 || s.batch < 1 || s.crop < 32 || s.crop % 8 != 0 || s.crop > s.size || s.images < 0) {
        std::fprintf(stderr, "--epochs and --batch must be at least 1, --crop a multiple of 8 from 32 to --size\n");
        return 2;
    }
    if (s.out.empty()) s.out = "runs/gan-" + s.objective;

    const examples::PhotoSource source{
        .folder = s.folder, .packed = s.packed, .images = s.images, .batch = s.batch, .threads = s.threads,
        .ranks = s.ranks};
    auto train = [&](auto& training, auto& validation) { return train_chosen(training, validation, s); };
    return examples::with_photo_loaders("train_gan", source, examples::resize_and_crop(s.size, s.crop), train);
}
