#pragma once
// The light 64x64 classifier of seed 003 (Dahlmann et al., "Back to the Future", section 2.2 and
// Figure 1): Zhang et al.'s network adapted to 64x64 inputs with narrower layers, one of the two
// atrous (dilated) blocks removed, and two transposed-conv blocks at the end that bring the 313
// bin logits back to the input size. Downsampling is by stride 2 in the last conv of a block;
// each block is convs with ReLU, then BatchNorm.
//
// Figure 1's widths are not in the text, so they are a reading, written down here: every ECCV16
// width halved (32, 64, 128, 256, 256, 256, then 128 in ECCV16's conv8), conv6 (the second atrous
// block) removed, and the two added blocks 4x4 stride-2 transposed conv + 3x3 conv, 64 wide.
// Sizes for a 64x64 input: 32, 16, 8, 8, 8, 8, 16, 32, 64; 313 logits per pixel at 64x64.
// Decode with color::decode(softmax, AbBins::zhang(), Decoding::top_k_mean(2)), the seed's
// choice. Works on any size that is a multiple of 8.
#include "../color/zhang_bins.hpp"
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"

namespace chroma::models {
namespace light {

template <int In, int Out, int LastStride = 1, int Dilation = 1>
using TwoConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                Conv2d<Out, Out, 3, LastStride, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;
template <int In, int Out, int LastStride = 1, int Dilation = 1>
using ThreeConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, LastStride, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;

/// x2 by a 4x4 stride-2 transposed conv, then a 3x3 conv, ReLU after each, then BatchNorm.
template <int In, int Out>
using UpBlock = Sequential<ConvTranspose2d<In, Out, 4, 2, 1>, ReLU, Conv2d<Out, Out, 3, 1, 1>, ReLU, BatchNorm2d<Out>>;

}  // namespace light

/// Seed 003: normalised L [N,1,H,W] -> 313 bin logits [N,313,H,W].
using LightClassifier = Sequential<
    Named<"model1", light::TwoConvBlock<1, 32, 2>>,
    Named<"model2", light::TwoConvBlock<32, 64, 2>>,
    Named<"model3", light::ThreeConvBlock<64, 128, 2>>,
    Named<"model4", light::ThreeConvBlock<128, 256>>,
    Named<"model5", light::ThreeConvBlock<256, 256, 1, 2>>,  // the one atrous block kept
    Named<"model6", light::ThreeConvBlock<256, 256>>,        // ECCV16's conv7
    Named<"model7", Sequential<ConvTranspose2d<256, 128, 4, 2, 1>, ReLU, Conv2d<128, 128, 3, 1, 1>, ReLU,
                               Conv2d<128, 128, 3, 1, 1>, ReLU, BatchNorm2d<128>>>,  // ECCV16's conv8
    Named<"model8", light::UpBlock<128, 64>>,
    Named<"model9", light::UpBlock<64, 64>>,
    Named<"model_out", Conv2d<64, color::zhang_bin_count, 1>>>;

static_assert(LightClassifier::in_channels == 1 && LightClassifier::out_channels == color::zhang_bin_count,
              "LightClassifier maps L (1 channel) to one logit per ab bin (313 channels)");

}  // namespace chroma::models
