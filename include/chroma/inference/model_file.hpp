#pragma once
// Model files: a trained model found by its file and rebuilt as the right type.
//
//   *.ckpt         a training checkpoint (train/trainer.hpp, train/gan_trainer.hpp): the
//                  architecture is its "architecture" text, the weights are under "model."
//                  ("generator." for GANs).
//   *.safetensors  the weights alone, under the model's own names. Its __metadata__ may give
//                  "architecture", "decoding" (decoding_text.hpp), "native_size" (the shorter
//                  side of the photos it was trained on), "chroma_gain" and "mirror_average"
//                  (colorizer.hpp) and "description". A file with no architecture but the official PyTorch eccv16 tensors is read as
//                  "eccv16-official".
//
// Architectures (the names the example trainers record):
//   light64          seed 003's light classifier          native 64 px, top-2 decoding
//   eccv16           seed 001's classifier (Zhang et al.)  native 256 px, annealed mean T 0.38
//   eccv16-official  Zhang et al.'s released PyTorch eccv16, its own head (softmax mean)
//   colornet-ae, colornet-unet  seed 000's regression nets native 64 px
//   resnet-ae        seed 002's ResNet-18 autoencoder      native 224 px
//   gan-generator    seed 004's generator                  native 256 px
//   photo-unet       the previous bundled model's network (models/photo_unet.hpp)
//   resnet-unet      the ResNet-18 U-Net regressing ab (models/resnet_unet.hpp, examples/train_photos)
//   resnet-unet-classifier  the same trunk with a 313-bin head: the bundled model's network,
//                    native 160 px, annealed mean T 0.38 unless its file records another decoding
//   siggraph17       Zhang et al.'s user-guided generator (SIGGRAPH 2017), L and points of colour
//                    in (Colorizer::set_hints)                native 256 px
//   siggraph17-small the same network at a quarter of the width (examples/train_hints) 160 px
//
// This header instantiates every seed model: include it where a model is chosen at run time
// (the chroma program), not in code that uses one model type.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../models/colornet.hpp"
#include "../models/eccv16.hpp"
#include "../models/gan.hpp"
#include "../models/light_classifier.hpp"
#include "../models/photo_unet.hpp"
#include "../models/resnet_autoencoder.hpp"
#include "../models/resnet_unet.hpp"
#include "../models/siggraph17.hpp"
#include "colorizer.hpp"
#include "decoding_text.hpp"
#include "hint_colorizer.hpp"

namespace chroma::inference {

/// Every architecture make_colorizer knows, in the order help texts list them.
inline const std::vector<std::string>& architectures() {
    static const std::vector<std::string> names{"light64",     "eccv16",       "eccv16-official", "colornet-ae",
                                                "colornet-unet", "resnet-ae", "gan-generator", "photo-unet",
                                                "resnet-unet", "resnet-unet-classifier", "siggraph17",
                                                "siggraph17-small"};
    return names;
}

/// A model of `architecture` with default-initialised weights (load them next).
inline std::unique_ptr<Colorizer> make_colorizer(const std::string& architecture) {
    using namespace chroma::models;
    const auto classifier = [&](int native, color::Decoding decoding) {
        train::ClassificationOptions options{.architecture = architecture};
        options.decoding = decoding;
        return std::pair{ModelTraits{.architecture = architecture, .native_size = native, .size_multiple = 8,
                                     .classifier = true},
                         options};
    };
    const auto regression = [&](int native) {
        return ModelTraits{.architecture = architecture, .native_size = native, .size_multiple = 8};
    };
    if (architecture == "light64") {
        auto [traits, options] = classifier(64, color::Decoding::top_k_mean(2));
        return std::make_unique<ClassifierColorizer<LightClassifier>>(traits, options);
    }
    if (architecture == "eccv16") {
        auto [traits, options] = classifier(256, color::Decoding::annealed_mean(0.38));
        return std::make_unique<ClassifierColorizer<Eccv16Classifier>>(traits, options);
    }
    constexpr color::Normalization identity{.offset = 0.0, .scale = 1.0};
    if (architecture == "eccv16-official")  // L in, ab out: the network scales both itself
        return std::make_unique<RegressionColorizer<Eccv16Colorizer>>(regression(256), identity, identity);
    if (architecture == "colornet-ae")
        return std::make_unique<RegressionColorizer<ColorNetAutoencoder>>(regression(64), colornet_lightness, colornet_ab);
    if (architecture == "colornet-unet")
        return std::make_unique<RegressionColorizer<ColorNetUNet>>(regression(64), colornet_lightness, colornet_ab);
    if (architecture == "resnet-ae")  // seed 002: L / 100 in, (ab + 128) / 255 out
        return std::make_unique<RegressionColorizer<ResNetAutoencoder>>(
            regression(224), color::lightness_unit, color::Normalization{.offset = -128.0, .scale = 255.0});
    if (architecture == "gan-generator")
        return std::make_unique<RegressionColorizer<ZhangRegressionGenerator>>(regression(256), color::lightness_centered,
                                                                               color::ab_over_110);
    if (architecture == "photo-unet")
        return std::make_unique<RegressionColorizer<PhotoUNet>>(regression(64), color::lightness_centered,
                                                               color::ab_over_110);
    if (architecture == "resnet-unet-classifier") {
        auto [traits, options] = classifier(160, color::Decoding::annealed_mean(0.38));
        traits.size_multiple = 16;
        return std::make_unique<ClassifierColorizer<ResNetUNetClassifier>>(traits, options);
    }
    if (architecture == "resnet-unet") {
        auto traits = regression(160);
        traits.size_multiple = 16;
        return std::make_unique<RegressionColorizer<ResNetUNet>>(traits, color::lightness_centered, color::ab_over_110);
    }
    if (architecture == "siggraph17")  // user-guided: L and points of colour in (set_hints)
        return std::make_unique<HintColorizer<Siggraph17Generator>>(regression(256));
    if (architecture == "siggraph17-small")
        return std::make_unique<HintColorizer<Siggraph17Small>>(regression(160));
    std::string known;
    for (const auto& name : architectures()) known += (known.empty() ? "" : ", ") + name;
    throw usage_error("unknown architecture '" + architecture + "'; known: " + known);
}

namespace detail {

inline bool is_checkpoint(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[8] = {};
    in.read(magic, sizeof magic);
    return in.gcount() == 8 && std::string(magic, 8) == "CHROMACK";
}

/// A loading error with the file named once and the architecture the file claims.
inline io::file_error loading_error(const error& e, const std::string& where, const std::string& architecture) {
    std::string reason = e.what();
    if (reason.find(where) == std::string::npos) reason = where + ": " + reason;
    return io::file_error(reason + " (the file says it holds " + architecture + ")");
}

inline void apply_metadata(Colorizer& colorizer, const std::map<std::string, std::string>& metadata,
                           const std::string& where) {
    if (const auto it = metadata.find("decoding"); it != metadata.end() && colorizer.traits().classifier)
        colorizer.set_decoding(parse_decoding(it->second));
    if (const auto it = metadata.find("native_size"); it != metadata.end()) {
        const int size = std::atoi(it->second.c_str());
        if (size < colorizer.traits().size_multiple || size > 4096)
            throw io::file_error(where + ": native_size '" + it->second + "' is not a size in pixels");
        colorizer.traits().native_size = size;
    }
    if (const auto it = metadata.find("chroma_gain"); it != metadata.end()) {
        const auto gain = chroma_gain_from_text(it->second);
        if (!gain) throw io::file_error(where + ": chroma_gain '" + it->second + "' is not a gain in (0, 10]");
        colorizer.set_chroma_gain(*gain);
    }
    if (const auto it = metadata.find("mirror_average"); it != metadata.end()) {
        if (it->second != "true" && it->second != "false")
            throw io::file_error(where + ": mirror_average '" + it->second + "' is neither true nor false");
        colorizer.set_mirror_average(it->second == "true");
    }
}

}  // namespace detail

/// The model in `path` (a checkpoint or a safetensors file), ready to colourise.
inline std::unique_ptr<Colorizer> load_colorizer(const std::filesystem::path& path) {
    const std::string where = path.string();
    if (!std::filesystem::exists(path)) throw io::file_error("no model file " + where);
    if (std::filesystem::is_directory(path))
        throw io::file_error(where + " is a folder; give a model file (.safetensors or a checkpoint.ckpt)");
    if (detail::is_checkpoint(path)) {
        const auto checkpoint = io::Checkpoint::load(path);
        if (!checkpoint.contains("architecture"))
            throw io::file_error(where + ": the checkpoint does not say which model it holds (no 'architecture'); "
                                     "it was trained without TrainerOptions::architecture");
        const std::string architecture = checkpoint.get_text("architecture");
        auto colorizer = make_colorizer(architecture);
        try {
            colorizer->load(checkpoint, architecture.starts_with("gan") ? "generator." : "model.");
        } catch (const error& e) {
            throw detail::loading_error(e, where, architecture);
        }
        return colorizer;
    }
    const auto file = io::SafetensorsFile::load(path);
    const auto& metadata = file.metadata();
    std::string architecture;
    if (const auto it = metadata.find("architecture"); it != metadata.end())
        architecture = it->second;
    else if (file.contains("model_out.weight") && file.contains("model1.0.weight") &&
             file.tensor_info("model_out.weight").dims.size() == 4 && file.tensor_info("model_out.weight").dims[0] == 2)
        architecture = "eccv16-official";
    else
        throw io::file_error(where + ": the safetensors file does not say which model it holds (no 'architecture' in "
                                 "its __metadata__) and is not the official eccv16 export");
    auto colorizer = make_colorizer(architecture);
    try {
        colorizer->load(file);
        detail::apply_metadata(*colorizer, metadata, where);
    } catch (const error& e) {
        throw detail::loading_error(e, where, architecture);
    }
    return colorizer;
}

/// Writes the weights of `colorizer` with what load_colorizer needs to rebuild it.
inline void save_model_file(const std::filesystem::path& path, Colorizer& colorizer, const std::string& description = {}) {
    std::map<std::string, std::string> metadata{{"architecture", colorizer.traits().architecture},
                                                {"native_size", std::to_string(colorizer.traits().native_size)}};
    if (colorizer.traits().classifier) metadata["decoding"] = decoding_text(colorizer.decoding());
    if (colorizer.chroma_gain() != 1.0f) {
        char gain[32];
        std::snprintf(gain, sizeof gain, "%.9g", static_cast<double>(colorizer.chroma_gain()));
        metadata["chroma_gain"] = gain;
    }
    if (colorizer.mirror_average()) metadata["mirror_average"] = "true";
    if (!description.empty()) metadata["description"] = description;
    colorizer.save(path, metadata);
}

}  // namespace chroma::inference
