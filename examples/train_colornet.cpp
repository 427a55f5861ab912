// Trains ColorNet (seed 000) on a folder of photos with the seed's recipe: the autoencoder or the
// U-Net, L -> ab regression on 64x64 images, (L - 50) / 100 in, tanh x 110 out, the seed's L2
// loss (half the sum of squared errors per image), Adam at 5e-5 for 64 epochs. The seed gives no
// batch size; 64 is used.
//
//   train_colornet FOLDER [--model ae|unet] [--images N] [--epochs 64] [--batch 64] [--lr 5e-5]
//                         [--size 64] [--crop 64] [--out runs/colornet-unet]
//   train_colornet --packed FILE [...]   (a file made by `chroma pack`)
#include <chroma/chroma.hpp>
#include <chroma/models/colornet.hpp>
#include <chroma/train/regression_task.hpp>
#include <chroma/train/trainer.hpp>

#include "example_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace chroma;

namespace {

struct Settings {
    std::string model = "unet", folder, packed, out;
    int images = 0, epochs = 64, batch = 64, size = 64, crop = 64, threads = 2;
    double learning_rate = 5e-5;
};

int usage(const char* program) {
    std::fprintf(stderr,
                 "usage: %s FOLDER [--model ae|unet] [--images N] [--epochs N] [--batch N] [--lr X]\n"
                 "                 [--size PX] [--crop PX] [--out DIR]\n"
                 "       %s --packed FILE [...]   (a file made by `chroma pack`)\n",
                 program, program);
    return 2;
}

template <class Net, class TrainSource, class ValidationSource>
int train_model(TrainSource& training, ValidationSource& validation, const Settings& s) {
    Model<Net> model(1);
    const std::string name = s.model == "ae" ? "colornet-ae" : "colornet-unet";
    std::printf("recipe: %s (seed 000): L (L-50)/100 -> tanh ab x 110, half sum of squared errors per image, "
                "Adam lr %g, batch %d, %d epochs, %d px images, %d px crops; %lld parameters\n",
                name.c_str(), s.learning_rate, s.batch, s.epochs, s.size, s.crop,
                static_cast<long long>(model.parameter_count()));
    train::RegressionTask<loss::HalfSumSquaredError> task(models::colornet_lightness, models::colornet_ab,
                                                          loss::HalfSumSquaredError(loss::batch_reduction::mean));
    optim::Adam<> adam({.learning_rate = s.learning_rate});
    train::Trainer trainer(model, task, adam,
                           {.epochs = s.epochs, .output = s.out, .sample_rows = 6, .architecture = name});
    return examples::finish(trainer.fit(training, validation), s.out);
}

template <class TrainSource, class ValidationSource>
int train_chosen(TrainSource& training, ValidationSource& validation, const Settings& s) {
    if (s.model == "ae") return train_model<models::ColorNetAutoencoder>(training, validation, s);
    return train_model<models::ColorNetUNet>(training, validation, s);
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
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
        else if (arg == "--out") s.out = value();
        else if (arg == "--packed") s.packed = value();
        else if (arg == "--help" || arg == "-h") return usage(argv[0]) - 2;
        else if (!arg.empty() && arg[0] == '-') return usage(argv[0]);
        else s.folder = arg;
    }
    if (s.folder.empty() == s.packed.empty()) return usage(argv[0]);
    if (s.model != "ae" && s.model != "unet") {
        std::fprintf(stderr, "--model is ae or unet, not '%s'\n", s.model.c_str());
        return 2;
    }
    if (s.epochs < 1 || s.batch < 1 || s.crop < 8 || s.crop % 8 != 0 || s.crop > s.size || s.images < 0) {
        std::fprintf(stderr, "--epochs and --batch must be at least 1, --crop a multiple of 8 no larger than --size\n");
        return 2;
    }
    if (s.out.empty()) s.out = "runs/colornet-" + s.model;

    const examples::PhotoSource source{
        .folder = s.folder, .packed = s.packed, .images = s.images, .batch = s.batch, .threads = s.threads};
    auto train = [&](auto& training, auto& validation) { return train_chosen(training, validation, s); };
    return examples::with_photo_loaders("train_colornet", source, examples::resize_and_crop(s.size, s.crop), train);
}
