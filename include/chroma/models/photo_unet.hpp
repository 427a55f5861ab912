#pragma once
// PhotoUNet: the network of the bundled model. Not a seed system: a U-Net sized for what a
// 2-core CPU can train in an hour on a few thousand photos (1.9M parameters, about 0.7 GFLOP per
// 64x64 image), deep enough that its 8x8 bottleneck sees the whole 64 px photo (sky, water and
// foliage are told apart by context, not by texture alone).
//
// Three stride-2 stages (64 -> 32 -> 16 -> 8 for a 64 px input), a dilated 3x3 conv at the
// bottom, 4x4 stride-2 transposed convs back up, and at each scale a 1x1-conv skip added to the
// upsampled path and passed through ReLU (ColorNet's U-Net merge). Output: tanh, ab / 110.
// Any input whose sides are multiples of 8.
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/merge.hpp"
#include "../nn/sequential.hpp"
#include "../nn/skip.hpp"

namespace chroma::models {
namespace photo {

/// A stride-2 conv, BatchNorm, ReLU, then a 3x3 conv and ReLU: half the size, `Out` channels.
template <int In, int Out, int Dilation = 1>
using Down = Sequential<Conv2d<In, Out, 3, 2, 1>, BatchNorm2d<Out>, ReLU, Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU>;

/// `Inner` at half the size, brought back by a transposed conv and added to a 1x1 projection.
template <int Channels, class Inner, int InnerChannels>
using Level = Skip<Sequential<Inner, ConvTranspose2d<InnerChannels, Channels, 4, 2, 1>, BatchNorm2d<Channels>>,
                   Conv2d<Channels, Channels, 1>, AddThen<ReLU>>;

using Bottom = Down<128, 256, 2>;                                    // 8x8, dilation 2: sees it all
using Third = Sequential<Down<64, 128>, Level<128, Bottom, 256>>;    // 16x16
using Second = Sequential<Down<32, 64>, Level<64, Third, 128>>;      // 32x32

}  // namespace photo

/// L normalised as (L - 50) / 100 -> tanh, ab / 110.
using PhotoUNet = Sequential<Conv2d<1, 32, 3, 1, 1>, ReLU, Conv2d<32, 32, 3, 1, 1>, ReLU,
                             photo::Level<32, photo::Second, 64>,
                             Conv2d<32, 32, 3, 1, 1>, ReLU, Conv2d<32, 2, 1>, Tanh>;

static_assert(PhotoUNet::in_channels == 1 && PhotoUNet::out_channels == 2,
              "PhotoUNet maps L (1 channel) to ab (2 channels)");

}  // namespace chroma::models
