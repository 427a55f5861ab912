#pragma once
// Starting a model's ResNet-18 encoder from a torchvision resnet18 state_dict (a safetensors
// file under torchvision's names: conv1.weight, bn1.*, layer1.0.conv1.weight, ...,
// layer2.0.downsample.1.running_var), as seed 002 does with the ImageNet weights.
//
// What the import does to the tensors:
// - conv1 sees L, not RGB. torchvision's network expects each of R, G, B in [0, 1] normalised by
//   ImageNet's mean and std; a grey photo has R = G = B = g, taken here as L / 100 (L* follows
//   sRGB's gamma closely). For a model whose input is x = (L - offset) / scale, channel c of
//   torchvision's input is (x * scale / 100 + offset / 100 - mean_c) / std_c, so conv1's kernel
//   for x is sum_c W_c * (scale / 100) / std_c, and the constant part, sum_c W_c (offset / 100 -
//   mean_c) / std_c summed over the kernel, is moved into the next BatchNorm's mean (or the folded
//   bias). This is exact away from the 3-pixel border, where torchvision pads its normalised
//   input with 0 and the model pads x with 0. (Melas-Kyriazi's colorizer sums the RGB kernels
//   without the normalisation.) A conv1 that already has one input channel is taken as it is.
// - resnet_layout::batch_norm (models::ResNet18Encoder, ResNetAutoencoder): BatchNorms are copied;
//   a missing num_batches_tracked reads as 0, as PyTorch loads such files.
// - resnet_layout::folded (models::ResNetUNet, FoldedResNet18Encoder): each BatchNorm is folded
//   into the conv before it, w * gamma / sqrt(var + eps) and beta - mean * gamma / sqrt(var +
//   eps), so the encoder computes in training mode what torchvision's computes in evaluation
//   mode.
// Tensors of the file beyond layer2 (layer3, layer4, fc) are ignored; a missing or misshapen one
// that the encoder needs is an error naming the file and the tensor.
#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../color/normalization.hpp"
#include "../io/safetensors.hpp"
#include "resnet_autoencoder.hpp"
#include "resnet_unet.hpp"

namespace chroma::models {

enum class resnet_layout { batch_norm, folded };

/// Where a model keeps torchvision's tensors: each pair renames a torchvision prefix ("conv1.",
/// "bn1.", "layer1.", "layer2.") to the model's; its layout; and the normalisation of its L input.
struct ResNetImport {
    std::vector<std::pair<std::string, std::string>> prefixes;
    resnet_layout layout = resnet_layout::batch_norm;
    color::Normalization lightness = color::lightness_centered;
    double batch_norm_eps = 1e-5;  // torchvision's
};

/// ImageNet's per-channel mean and std of RGB in [0, 1], as torchvision normalises its input.
inline constexpr double imagenet_mean[3] = {0.485, 0.456, 0.406};
inline constexpr double imagenet_std[3] = {0.229, 0.224, 0.225};

/// models::ResNet18Encoder on its own (seed 002's names by index), L in as `lightness`.
inline ResNetImport resnet18_encoder_import(color::Normalization lightness = color::lightness_unit,
                                            const std::string& prefix = "") {
    return {.prefixes = {{"conv1.", prefix + "0."}, {"bn1.", prefix + "1."}, {"layer1.", prefix + "4."},
                         {"layer2.", prefix + "5."}},
            .layout = resnet_layout::batch_norm,
            .lightness = lightness};
}
/// models::ResNetAutoencoder: the encoder under "midlevel_resnet.", L / 100 in (seed 002).
inline ResNetImport resnet_autoencoder_import() { return resnet18_encoder_import(color::lightness_unit, "midlevel_resnet."); }
/// models::ResNetUNet: the folded encoder inside the U-Net, (L - 50) / 100 in.
inline ResNetImport resnet_unet_import() {
    return {.prefixes = {{"conv1.", resnet_unet::stem_prefix + std::string("conv1.")},
                         {"layer1.", resnet_unet::layer1_prefix + std::string("layer1.")},
                         {"layer2.", resnet_unet::layer2_prefix + std::string("layer2.")}},
            .layout = resnet_layout::folded,
            .lightness = color::lightness_centered};
}
/// models::FoldedResNet18Encoder alone.
inline ResNetImport folded_encoder_import(color::Normalization lightness = color::lightness_centered) {
    return {.prefixes = {{"conv1.", "0.conv1."}, {"layer1.", "1.layer1."}, {"layer2.", "layer2."}},
            .layout = resnet_layout::folded,
            .lightness = lightness};
}

namespace detail {

/// resnet18's convs up to layer2 and the BatchNorm after each, under torchvision's names.
inline std::vector<std::pair<std::string, std::string>> resnet18_conv_batch_norm_pairs() {
    std::vector<std::pair<std::string, std::string>> pairs{{"conv1", "bn1"}};
    for (const char* layer : {"layer1", "layer2"})
        for (int block = 0; block < 2; ++block)
            for (int k = 1; k <= 2; ++k) {
                const std::string b = std::string(layer) + "." + std::to_string(block) + ".";
                pairs.emplace_back(b + "conv" + std::to_string(k), b + "bn" + std::to_string(k));
            }
    pairs.emplace_back("layer2.0.downsample.0", "layer2.0.downsample.1");
    return pairs;
}

/// The model's name for torchvision's module `name` ("conv1", "layer1.0.bn2"), without a dot at the end.
inline std::string renamed(const ResNetImport& import, const std::string& name) {
    const std::string dotted = name + ".";
    for (const auto& [from, to] : import.prefixes)
        if (dotted.starts_with(from)) {
            std::string out = to + dotted.substr(from.size());
            out.pop_back();
            return out;
        }
    throw usage_error("ResNet-18 import: no prefix of the model is given for torchvision's '" + name + "'");
}

/// The model's name for the folded conv of torchvision's conv `conv` (its downsample.0 is the
/// model's downsample).
inline std::string folded_conv_name(const ResNetImport& import, const std::string& conv) {
    std::string name = renamed(import, conv);
    if (name.ends_with(".downsample.0")) name.resize(name.size() - 2);
    return name;
}

/// A tensor of the file as doubles, its shape checked against `dims`.
inline std::vector<double> read_tensor(const io::SafetensorsFile& file, const std::string& where,
                                       const std::string& name, const std::vector<std::int64_t>& dims) {
    if (!file.contains(name))
        throw io::file_error(where + ": no tensor '" + name + "' (a torchvision resnet18 state_dict holds it)");
    Tensor<double> t(Shape{.n = dims[0], .c = dims.size() > 1 ? dims[1] : 1, .h = dims.size() > 2 ? dims[2] : 1,
                           .w = dims.size() > 3 ? dims[3] : 1});
    file.get(name, t, static_cast<int>(dims.size()));
    return std::vector<double>(t.data(), t.data() + t.size());
}

}  // namespace detail

/// Copies torchvision resnet18's conv1 .. layer2 from `file` into `model` as `import` says (see
/// the top of this header). `where` names the file in errors.
template <class Net>
void import_resnet18(const io::SafetensorsFile& file, Net& model, const ResNetImport& import,
                     const std::string& where = "the ResNet-18 state_dict") {
    for (const auto& [conv, bn] : detail::resnet18_conv_batch_norm_pairs()) {
        const bool first = conv == "conv1";
        const std::string weight_name = conv + ".weight";
        if (!file.contains(weight_name))
            throw io::file_error(where + ": no tensor '" + weight_name + "' (a torchvision resnet18 state_dict holds it)");
        const auto& dims = file.tensor_info(weight_name).dims;
        const std::string target_conv =
            import.layout == resnet_layout::folded ? detail::folded_conv_name(import, conv) : detail::renamed(import, conv);
        auto& target_weight = model.parameter(target_conv + ".weight");
        const Shape target = target_weight.value.shape();
        const std::int64_t in_file = first && dims.size() == 4 && dims[1] == 3 ? 3 : target.c;
        const std::vector<std::int64_t> expected{target.n, in_file, target.h, target.w};
        std::vector<double> w = detail::read_tensor(file, where, weight_name, expected);
        const index_t out = target.n, taps = target.h * target.w, per_out = target.c * taps;

        // conv1 on RGB -> on the model's normalised L, with the constant part set aside per output.
        std::vector<double> input_offset(static_cast<std::size_t>(out), 0.0);
        if (first && in_file == 3) {
            const double scale = import.lightness.scale / 100.0, offset = import.lightness.offset / 100.0;
            std::vector<double> summed(static_cast<std::size_t>(out * taps), 0.0);
            for (index_t o = 0; o < out; ++o)
                for (int c = 0; c < 3; ++c)
                    for (index_t k = 0; k < taps; ++k) {
                        const double v = w[(o * 3 + c) * taps + k];
                        summed[o * taps + k] += v * scale / imagenet_std[c];
                        input_offset[o] += v * (offset - imagenet_mean[c]) / imagenet_std[c];
                    }
            w = std::move(summed);
        }

        const std::vector<std::int64_t> vector_dims{out};
        const auto gamma = detail::read_tensor(file, where, bn + ".weight", vector_dims);
        const auto beta = detail::read_tensor(file, where, bn + ".bias", vector_dims);
        auto mean = detail::read_tensor(file, where, bn + ".running_mean", vector_dims);
        const auto var = detail::read_tensor(file, where, bn + ".running_var", vector_dims);
        for (index_t o = 0; o < out; ++o) mean[o] -= input_offset[o];  // conv(x) + offset - mean

        using T = typename std::remove_reference_t<decltype(target_weight.value)>::value_type;
        if (import.layout == resnet_layout::batch_norm) {
            for (index_t i = 0; i < out * per_out; ++i) target_weight.value.data()[i] = static_cast<T>(w[i]);
            const std::string target_bn = detail::renamed(import, bn);
            const auto put = [&](const char* field, const std::vector<double>& values) {
                auto& p = model.parameter(target_bn + "." + field);
                for (index_t o = 0; o < out; ++o) p.value.data()[o] = static_cast<T>(values[o]);
            };
            put("weight", gamma);
            put("bias", beta);
            put("running_mean", mean);
            put("running_var", var);
            auto& counter = model.parameter(target_bn + ".num_batches_tracked");
            const std::string counter_name = bn + ".num_batches_tracked";
            if (file.contains(counter_name))
                file.get(counter_name, counter.value, counter.rank);
            else
                counter.value.fill(T(0));
        } else {
            auto& bias = model.parameter(target_conv + ".bias");
            for (index_t o = 0; o < out; ++o) {
                const double factor = gamma[o] / std::sqrt(var[o] + import.batch_norm_eps);
                for (index_t i = 0; i < per_out; ++i)
                    target_weight.value.data()[o * per_out + i] = static_cast<T>(w[o * per_out + i] * factor);
                bias.value.data()[o] = static_cast<T>(beta[o] - mean[o] * factor);
            }
        }
    }
}

template <class Net>
void import_resnet18(const std::filesystem::path& path, Net& model, const ResNetImport& import) {
    import_resnet18(io::SafetensorsFile::load(path), model, import, path.string());
}

}  // namespace chroma::models
