#pragma once
// ColorNet (seed 000, Avva 2023, "System Design and Implementation"): L -> ab regression on
// ImageNet 64x64 with an autoencoder and a U-Net. The paper gives the blocks in words and the
// parameter counts; the author's released code (github pranavavva/image-colorizer, model3raw.py
// and model4.py) fixes the rest, and with it both counts come out exactly:
//   ColorNetAutoencoder  31,091,010 parameters (paper: 31,091,010)
//   ColorNetUNet         31,104,450 parameters (paper: 31,104,450)
// Readings taken from that code where the text is silent or says otherwise:
//   * block widths 64, 128, 256, 512, 512, 512, 512, then 256, 128, and 128 (autoencoder) or 64
//     (U-Net) in block 10; blocks 1, 2, 8 have two convs, 3-7 three, 9 and 10 one;
//   * blocks 1-9 end in BatchNorm; block 10 has none and ends in LeakyReLU(0.2), not ReLU;
//   * blocks 8-10 start with x2 nearest-neighbour upsampling;
//   * the autoencoder's "downsampling in the spatial dimension" keeps every second pixel
//     (x[:, :, ::2, ::2]), which is MaxPool2d<1, 2> here;
//   * the U-Net's 1x1 skip convs are followed by BatchNorm (the count needs them).
// Parameter names are the code's (model1.0.weight, skip3_8.1.running_var, model_out.0.weight), so
// a state_dict of those scripts loads through io::load_safetensors.
//
// Scaling lives outside the nets: feed colornet_lightness-normalised L ((L - 50) / 100, the
// paper's "normalize input images"; note that the released training scripts pass L in [0, 100]
// unscaled) and multiply the tanh output by 110 (colornet_ab, the code's unnormalize_ab) for ab.
// Both nets work on any size that is a multiple of 8; the U-Net needs that, the autoencoder
// returns 8 * ceil(size / 8) otherwise.
#include "../color/normalization.hpp"
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/max_pool2d.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/skip.hpp"
#include "../nn/upsample.hpp"
#include "inline.hpp"

namespace chroma::models {

inline constexpr color::Normalization colornet_lightness = color::lightness_centered;
inline constexpr color::Normalization colornet_ab = color::ab_over_110;

namespace colornet {

/// Two "same" 3x3 convs, each followed by ReLU, then BatchNorm; the last conv has LastStride.
template <int In, int Out, int LastStride = 1>
using TwoConvBlock = Sequential<Conv2d<In, Out, 3, 1, same>, ReLU, Conv2d<Out, Out, 3, LastStride, same>, ReLU,
                                BatchNorm2d<Out>>;

/// Three "same" 3x3 convs with ReLU, then BatchNorm; the last conv has LastStride.
template <int In, int Out, int LastStride = 1>
using ThreeConvBlock = Sequential<Conv2d<In, Out, 3, 1, same>, ReLU, Conv2d<Out, Out, 3, 1, same>, ReLU,
                                  Conv2d<Out, Out, 3, LastStride, same>, ReLU, BatchNorm2d<Out>>;

/// Keeps every second row and column (PyTorch's x[:, :, ::2, ::2]): a 1x1 max-pool of stride 2.
using KeepEverySecondPixel = MaxPool2d<1, 2>;

/// The 1x1 "same" conv of a U-Net skip and the BatchNorm the released code puts after it.
template <int Channels>
using SkipProjection = Sequential<Conv2d<Channels, Channels, 1>, BatchNorm2d<Channels>>;

/// Blocks 5-7: three 512-wide three-conv blocks at the latent size (8x8 for a 64x64 input).
using Block5 = Named<"model5", ThreeConvBlock<512, 512>>;
using Block6 = Named<"model6", ThreeConvBlock<512, 512>>;
using Block7 = Named<"model7", ThreeConvBlock<512, 512>>;

}  // namespace colornet

/// Seed 000, Approach 1. 64x64 L -> 64x64 normalised ab in (-1, 1).
using ColorNetAutoencoder = Sequential<
    Named<"model1", colornet::TwoConvBlock<1, 64>>, colornet::KeepEverySecondPixel,
    Named<"model2", colornet::TwoConvBlock<64, 128>>, colornet::KeepEverySecondPixel,
    Named<"model3", colornet::ThreeConvBlock<128, 256>>, colornet::KeepEverySecondPixel,
    Named<"model4", colornet::ThreeConvBlock<256, 512>>,
    colornet::Block5, colornet::Block6, colornet::Block7,
    Upsample<2>, Named<"model8", colornet::TwoConvBlock<512, 256>>,
    Upsample<2>, Named<"model9", Sequential<Conv2d<256, 128, 3, 1, same>, ReLU, BatchNorm2d<128>>>,
    Upsample<2>, Named<"model10", Sequential<Conv2d<128, 128, 3, 1, same>, LeakyReLU<0.2f>>>,
    Named<"model_out", Sequential<Conv2d<128, 2, 1>, Tanh>>>;

/// Seed 000, Approach 2: stride 2 in the last conv of blocks 2-4 instead of subsampling, and
/// 1x1-conv skips 1 -> 10, 2 -> 9, 3 -> 8, each added to the deeper block's output, then ReLU.
/// Written inside out: each Skip runs one encoder block ... its decoder block, beside its skip.
using ColorNetUNet = Sequential<
    Named<"model1", colornet::TwoConvBlock<1, 64>>,
    Inline<Skip<
        Sequential<
            Named<"model2", colornet::TwoConvBlock<64, 128, 2>>,
            Inline<Skip<
                Sequential<
                    Named<"model3", colornet::ThreeConvBlock<128, 256, 2>>,
                    Inline<Skip<
                        Sequential<Named<"model4", colornet::ThreeConvBlock<256, 512, 2>>,
                                   colornet::Block5, colornet::Block6, colornet::Block7,
                                   Named<"model8", Sequential<Upsample<2>, Conv2d<512, 256, 3, 1, same>, ReLU,
                                                              Conv2d<256, 256, 3, 1, same>, ReLU, BatchNorm2d<256>>>>,
                        Named<"skip3_8", colornet::SkipProjection<256>>, AddThen<ReLU>>>,
                    Named<"model9",
                          Sequential<Upsample<2>, Conv2d<256, 128, 3, 1, same>, ReLU, BatchNorm2d<128>>>>,
                Named<"skip2_9", colornet::SkipProjection<128>>, AddThen<ReLU>>>,
            Named<"model10", Sequential<Upsample<2>, Conv2d<128, 64, 3, 1, same>, LeakyReLU<0.2f>>>>,
        Named<"skip1_10", colornet::SkipProjection<64>>, AddThen<ReLU>>>,
    Named<"model_out", Sequential<Conv2d<64, 2, 1>, Tanh>>>;

static_assert(ColorNetAutoencoder::in_channels == 1 && ColorNetAutoencoder::out_channels == 2,
              "ColorNetAutoencoder maps L (1 channel) to ab (2 channels)");
static_assert(ColorNetUNet::in_channels == 1 && ColorNetUNet::out_channels == 2,
              "ColorNetUNet maps L (1 channel) to ab (2 channels)");

}  // namespace chroma::models
