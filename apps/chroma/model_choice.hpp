#pragma once
// The model options colorize and evaluate share: --model (the bundled model by default),
// --decode, --size, --backend, --chroma-gain and --mirror-average.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <chroma/inference/model_file.hpp>

#include "arguments.hpp"

#ifndef CHROMA_SOURCE_MODEL_DIR
#define CHROMA_SOURCE_MODEL_DIR ""
#endif
#ifndef CHROMA_INSTALLED_MODEL_DIR
#define CHROMA_INSTALLED_MODEL_DIR ""
#endif

namespace chroma::cli {

inline constexpr const char* bundled_model_name = "chroma-resnet-unet-classifier.safetensors";

inline const char* model_options_help =
    "  --model FILE          a model: .safetensors or a training checkpoint (default: the bundled\n"
    "                        model, models/chroma-resnet-unet-classifier.safetensors;\n"
    "                        $CHROMA_MODEL overrides)\n"
    "  --decode D            classifiers only: annealed:T | topk:K | mean | mode, optionally followed by\n"
    "                        ,rebalance:LAMBDA (more colour as LAMBDA falls from 1; default: the model's)\n"
    "  --size N              the shorter side the model sees, in pixels (default: its training size)\n"
    "  --backend cpu|cuda    where the model runs (default cpu)\n"
    "  --chroma-gain X       multiply the predicted ab by X (default: the model's, 1 unless it was\n"
    "                        calibrated; chroma evaluate prints the least-squares gain)\n"
    "  --mirror-average yes|no  also run the model on the mirrored photo and average the two\n"
    "                        predictions (twice the model time; default: the model's)\n";

/// The bundled model: $CHROMA_MODEL, else the installed copy, else the source tree's.
inline std::filesystem::path bundled_model() {
    if (const char* env = std::getenv("CHROMA_MODEL"); env && *env) return env;
    for (const char* dir : {CHROMA_INSTALLED_MODEL_DIR, CHROMA_SOURCE_MODEL_DIR}) {
        if (!*dir) continue;
        const std::filesystem::path candidate = std::filesystem::path(dir) / bundled_model_name;
        if (std::filesystem::exists(candidate)) return candidate;
    }
    throw usage_failure(std::string("the bundled model ") + bundled_model_name +
                        " was not found (looked in the installed and source models/ folders); give --model FILE");
}

/// The model the options name, with their decoding and size applied.
inline std::unique_ptr<inference::Colorizer> chosen_model(const Arguments& a) {
    const std::string backend = a.text("--backend", "cpu");
    if (backend == "cuda")
        throw usage_failure("--backend cuda: this chroma program runs models on the CPU; the CUDA policy "
                            "(chroma::cuda) is available to programs built with nvcc");
    if (backend != "cpu") throw usage_failure("--backend must be cpu or cuda, got '" + backend + "'");
    const std::filesystem::path file = a.has("--model") ? std::filesystem::path(a.text("--model", "")) : bundled_model();
    auto model = inference::load_colorizer(file);
    if (a.has("--decode")) {
        if (!model->traits().classifier)
            throw usage_failure("--decode applies to the 313-bin classifiers; " + file.string() + " holds " +
                                model->traits().architecture + ", which predicts ab directly");
        model->set_decoding(inference::parse_decoding(a.text("--decode", "")));
    }
    if (a.has("--chroma-gain")) {
        const std::string text = a.text("--chroma-gain", "");
        const auto gain = inference::chroma_gain_from_text(text);
        if (!gain) throw usage_failure("--chroma-gain must be a number in (0, 10], got '" + text + "'");
        model->set_chroma_gain(*gain);
    }
    if (a.has("--mirror-average")) {
        const std::string text = a.text("--mirror-average", "");
        if (text != "yes" && text != "no") throw usage_failure("--mirror-average must be yes or no, got '" + text + "'");
        model->set_mirror_average(text == "yes");
    }
    if (a.has("--size")) {
        const int m = model->traits().size_multiple;
        model->traits().native_size = static_cast<int>(a.integer("--size", 0, m, 4096));
    }
    return model;
}

/// "light64 (6,107,579 parameters, top-2 mean, 72 px)".
inline std::string model_summary(inference::Colorizer& model) {
    std::string count = std::to_string(model.parameter_count());
    for (int i = static_cast<int>(count.size()) - 3; i > 0; i -= 3) count.insert(static_cast<std::size_t>(i), ",");
    std::string text = model.traits().architecture + " (" + count + " parameters";
    if (model.traits().classifier) text += ", " + model.decoding().describe();
    text += ", " + std::to_string(model.traits().native_size) + " px";
    if (model.chroma_gain() != 1.0f) {
        char gain[48];
        std::snprintf(gain, sizeof gain, ", chroma gain %.3g", static_cast<double>(model.chroma_gain()));
        text += gain;
    }
    if (model.mirror_average()) text += ", mirror-averaged";
    return text + ")";
}

}  // namespace chroma::cli
