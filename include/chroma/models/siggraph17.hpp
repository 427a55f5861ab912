#pragma once
// Zhang, Zhu, Isola, Geng, Lin, Yu and Efros's SIGGRAPH 2017 user-guided colourisation network
// ("Real-Time User-Guided Image Colorization with Learned Deep Priors"), with the module structure
// and parameter names of the official PyTorch port (github richzhang/colorization,
// colorizers/siggraph17.py), so its released weights load by name:
//   model1 ... model7           conv blocks, each ReLU after every conv and BatchNorm at the end
//                               (model1.0.weight, model1.4.running_mean, ...); model5 and model6
//                               dilated by 2
//   model8up, model9up, model10up   4x4 stride-2 transposed convs (model8up.0.weight)
//   model3short8, model2short9, model1short10   3x3 convs from the encoder, added to the
//                               upsampled decoder features (the U-Net's shortcuts)
//   model8, model9, model10     decoder blocks opening with ReLU; model10 ends in LeakyReLU(0.2)
//   model_out                   1x1 conv to 2 channels, tanh
// Subsampling between encoder blocks keeps every second pixel (x[:, :, ::2, ::2]), as the port
// does, rather than striding a convolution.
//
// The input has 4 channels: (L - 50) / 100, the hint ab / 110 and the hint mask (1 where a user
// gave a colour, 0 elsewhere); the output is ab / 110 in (-1, 1). Sides must be multiples of 8.
// The released state_dict also holds model_class (a 1x1 conv to 529 classes used only by the
// original training's classification loss, never by the forward); import_siggraph17 skips it.
#include <functional>
#include <set>
#include <string>

#include "../io/safetensors.hpp"
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/max_pool2d.hpp"
#include "../nn/merge.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/skip.hpp"
#include "inline.hpp"

namespace chroma::models {

/// The official port's constants: L is centred by 50 and scaled by 100, ab scaled by 110.
inline constexpr double siggraph17_l_cent = 50.0, siggraph17_l_norm = 100.0, siggraph17_ab_norm = 110.0;

namespace siggraph17 {

/// 3x3 convs (dilation d, padding d: the size is kept), ReLU after each, BatchNorm at the end.
template <int In, int Out, int Dilation = 1>
using TwoConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;
template <int In, int Out, int Dilation = 1>
using ThreeConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;

/// x[:, :, ::2, ::2]: a 1x1 max pool of stride 2 keeps every second pixel, with no parameters.
using KeepEverySecondPixel = MaxPool2d<1, 2>;

/// x2 learned upsampling, as a one-module Sequential ("model8up.0.weight").
template <int In, int Out>
using Up = Sequential<ConvTranspose2d<In, Out, 4, 2, 1>>;

/// A shortcut from the encoder: one 3x3 conv in a one-module Sequential ("model3short8.0.weight").
template <int In, int Out>
using Shortcut = Sequential<Conv2d<In, Out, 3, 1, 1>>;

/// Decoder features plus a shortcut, added (the port's `model8up(x) + model3short8(y)`).
template <class Decoder, class ShortcutSpec>
using Added = Inline<Skip<Decoder, ShortcutSpec, AddThen<Identity>>>;

}  // namespace siggraph17

/// (L, hint ab, hint mask), normalised [N,4,H,W] -> ab / 110 [N,2,H,W], with W channels at full
/// resolution, 2W, 4W and 8W below (the paper's W is 64). Written inside out, as ColorNetUNet:
/// each Added runs one encoder level ... its upsampling, beside its shortcut.
template <int W>
using Siggraph17Network = Sequential<
    Named<"model1", siggraph17::TwoConvBlock<4, W>>,
    siggraph17::Added<
        Sequential<
            siggraph17::KeepEverySecondPixel, Named<"model2", siggraph17::TwoConvBlock<W, 2 * W>>,
            siggraph17::Added<
                Sequential<
                    siggraph17::KeepEverySecondPixel, Named<"model3", siggraph17::ThreeConvBlock<2 * W, 4 * W>>,
                    siggraph17::Added<
                        Sequential<siggraph17::KeepEverySecondPixel,
                                   Named<"model4", siggraph17::ThreeConvBlock<4 * W, 8 * W>>,
                                   Named<"model5", siggraph17::ThreeConvBlock<8 * W, 8 * W, 2>>,
                                   Named<"model6", siggraph17::ThreeConvBlock<8 * W, 8 * W, 2>>,
                                   Named<"model7", siggraph17::ThreeConvBlock<8 * W, 8 * W>>,
                                   Named<"model8up", siggraph17::Up<8 * W, 4 * W>>>,
                        Named<"model3short8", siggraph17::Shortcut<4 * W, 4 * W>>>,
                    Named<"model8", Sequential<ReLU, Conv2d<4 * W, 4 * W, 3, 1, 1>, ReLU, Conv2d<4 * W, 4 * W, 3, 1, 1>,
                                               ReLU, BatchNorm2d<4 * W>>>,
                    Named<"model9up", siggraph17::Up<4 * W, 2 * W>>>,
                Named<"model2short9", siggraph17::Shortcut<2 * W, 2 * W>>>,
            Named<"model9", Sequential<ReLU, Conv2d<2 * W, 2 * W, 3, 1, 1>, ReLU, BatchNorm2d<2 * W>>>,
            Named<"model10up", siggraph17::Up<2 * W, 2 * W>>>,
        Named<"model1short10", siggraph17::Shortcut<W, 2 * W>>>,
    Named<"model10", Sequential<ReLU, Conv2d<2 * W, 2 * W, 3, 1, 1>, LeakyReLU<0.2f>>>,
    Named<"model_out", Sequential<Conv2d<2 * W, 2, 1>, Tanh>>>;

/// The paper's generator: 64 to 512 channels, 34 million parameters, the released weights' shape.
using Siggraph17Generator = Siggraph17Network<64>;

/// The same network at a quarter of the width (16 to 128 channels, about 1/16 of the parameters
/// and the arithmetic): a size that trains on a CPU in hours, as the bundled colouriser does.
using Siggraph17Small = Siggraph17Network<16>;

static_assert(Siggraph17Generator::in_channels == 4 && Siggraph17Generator::out_channels == 2,
              "Siggraph17Generator maps L, hint ab and hint mask (4 channels) to ab (2 channels)");

/// Loads the official port's state_dict (exported as safetensors) into a generator: every
/// tensor the generator has must be there, and the only others allowed are model_class's, which
/// the forward never uses.
template <class Net>
void import_siggraph17(const io::SafetensorsFile& file, Net& generator) {
    io::load_safetensors(file, generator, /*strict=*/false);
    std::set<std::string, std::less<>> own;
    generator.visit_parameters([&](std::string_view name, auto&) { own.emplace(name); });
    for (const auto& name : file.names()) {
        if (!own.contains(name) && !name.starts_with("model_class."))
            throw io::file_error("the SIGGRAPH17 file has tensor '" + name +
                                 "', which is neither the generator's nor model_class's");
    }
}

}  // namespace chroma::models
