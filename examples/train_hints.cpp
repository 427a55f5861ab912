// Trains a user-guided colouriser (Zhang et al., SIGGRAPH 2017): models::Siggraph17Small
// (--model siggraph17-small, the default, 2.1 million parameters, a size that trains on a CPU)
// or the paper's models::Siggraph17Generator (--model siggraph17, 34 million). Each batch gets
// simulated hints from its own truth (a geometric number of points, 7 on average, each the mean
// ab of a 1-9 px patch; data::simulate_hints), and the network regresses ab under the paper's
// smooth L1 loss (train::HintsTask). Validation draws the same hints every epoch.
//
// Photos come from a folder (--images N of it, 0 for all, split 90/10 by file name as every
// trainer splits) or a file made by `chroma pack`; --zoom F trains on random squares of F to all
// of the shorter side, resized to --crop. The checkpoint becomes a model file with
// `chroma export`, which `chroma colorize --hints FILE` and `--hints-from PHOTO N` then use.
//
// Data-parallel (built with MPI, CMake's CHROMA_MPI): `mpirun -np N train_hints ...` trains one
// model; --batch is the global batch, each rank takes batch / N of it.
#include <chroma/chroma.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "example_support.hpp"

using namespace chroma;

namespace {

struct Settings {
    std::string folder, packed, out = "runs/hints";
    std::string model = "siggraph17-small";
    int images = 0, epochs = 20, batch = 16, threads = 2;
    int size = 160, crop = 128;
    double learning_rate = 1e-3, final_learning_rate = 1e-5;
    double zoom = 0.0;
    bool resume = false;
    distributed::Communicator* ranks = nullptr;  // several under mpirun
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--model siggraph17-small|siggraph17] [--images N] [--epochs N] [--batch N]\n"
                 "                 [--lr X] [--final-lr X] [--size PX] [--crop PX] [--zoom MIN_FRACTION]\n"
                 "                 [--out DIR] [--resume]\n"
                 "       %s --packed FILE [--epochs N] ...   (a file made by `chroma pack`)\n",
                 program, program);
    return 2;
}

template <class Net, class TrainSource, class ValidationSource>
int run_training(TrainSource& training, ValidationSource& validation, const Settings& s) {
    Model<Net> model(1);
    train::HintsTask task;
    train::TrainerOptions options{.epochs = s.epochs, .output = s.out, .sample_rows = 6, .architecture = s.model};
    options.resume = s.resume;
    options.communicator = s.ranks;
    const optim::CosineAnnealing cosine(s.learning_rate, s.epochs, s.final_learning_rate);
    options.learning_rate_at = [cosine](int epoch) { return cosine.rate(epoch); };
    std::printf("%s, %lld parameters, %d CPU threads; Adam lr %g to %g (cosine), batch %d, %d px crops\n%s\n",
                s.model.c_str(), static_cast<long long>(model.parameter_count()), cpu::threads(), s.learning_rate,
                s.final_learning_rate, s.batch, s.crop, task.describe().c_str());
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
        if (arg == "--model") s.model = value();
        else if (arg == "--images") s.images = std::atoi(value());
        else if (arg == "--epochs") s.epochs = std::atoi(value());
        else if (arg == "--batch") s.batch = std::atoi(value());
        else if (arg == "--lr") s.learning_rate = std::atof(value());
        else if (arg == "--final-lr") s.final_learning_rate = std::atof(value());
        else if (arg == "--size") s.size = std::atoi(value());
        else if (arg == "--crop") s.crop = std::atoi(value());
        else if (arg == "--zoom") s.zoom = std::atof(value());
        else if (arg == "--out") s.out = value();
        else if (arg == "--resume") s.resume = true;
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.model != "siggraph17-small" && s.model != "siggraph17") {
        std::fprintf(stderr, "--model must be siggraph17-small or siggraph17, not '%s'\n", s.model.c_str());
        return 2;
    }
    if ((s.images != 0 && s.images < 10) || s.epochs < 1 || s.batch < 1 || s.crop < 8 || s.crop % 8 != 0 ||
        s.size < s.crop || !(s.learning_rate > 0.0) || !(s.final_learning_rate > 0.0) || !(s.zoom >= 0.0 && s.zoom <= 1.0)) {
        std::fprintf(stderr, "--images must be 0 (all) or at least 10, --epochs and --batch at least 1, --crop a "
                             "multiple of 8 no larger than --size, the rates above 0, --zoom in [0, 1]\n");
        return 2;
    }
    const examples::PhotoSource source{.folder = s.folder, .packed = s.packed, .images = s.images, .batch = s.batch,
                                       .threads = s.threads, .ranks = s.ranks};
    const auto transform = s.zoom > 0.0 ? examples::resize_and_zoom(s.size, s.crop, s.zoom)
                                        : examples::resize_and_crop(s.size, s.crop);
    return examples::with_photo_loaders("train_hints", source, transform, [&](auto& training, auto& validation) {
        if (s.model == "siggraph17") return run_training<models::Siggraph17Generator>(training, validation, s);
        return run_training<models::Siggraph17Small>(training, validation, s);
    });
}
