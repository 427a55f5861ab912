#pragma once
// ResNetUNet: the bundled model's network. Seed 002's idea (an ImageNet-pretrained ResNet-18
// encoder knows sky from foliage before it has seen a single colour photo) with a U-Net decoder
// that keeps edges: every pretrained stage also feeds the decoder at its own scale.
//
// Encoder: torchvision resnet18's conv1, layer1 and layer2 (pretrained, models/pretrained_resnet.hpp)
// with each BatchNorm folded into the convolution before it, so the convs carry biases and the
// encoder is exact in training mode too. The encoder stages are Frozen (nn/frozen.hpp) until
// released for fine-tuning.
//   stem    conv1 7x7/2 + ReLU            H/2, 64 channels
//   layer1  max-pool 3x3/2 + 2 blocks     H/4, 64
//   layer2  2 blocks, the first /2        H/8, 128
// Decoder: one more stride-2 stage with a dilated conv (H/16, 256 channels: a 128 px crop is seen
// whole), then back up with 4x4 stride-2 transposed convs; at H/8, H/4 and H/2 the upsampled path
// is added to a 1x1 projection of the encoder's features there and passed through ReLU
// (ColorNet's U-Net merge, as PhotoUNet). ab is predicted at H/2 (tanh, ab / 110) and upsampled
// bilinearly to H: colour is smooth, and the colorizer joins it with the photo's own L anyway.
// L in as (L - 50) / 100. Any input whose sides are multiples of 16.
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/frozen.hpp"
#include "../nn/max_pool2d.hpp"
#include "../nn/merge.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/skip.hpp"
#include "../nn/upsample.hpp"
#include "../color/zhang_bins.hpp"
#include "photo_unet.hpp"

namespace chroma::models {
namespace resnet_unet {

/// torchvision's BasicBlock with its BatchNorms folded into the convs (which so gain biases):
/// relu(conv2(relu(conv1(x))) + shortcut(x)); the shortcut is a 1x1 strided conv named
/// "downsample" when the block halves the size or changes the width.
template <int In, int Out, int Stride = 1>
using FoldedBlockBody = Sequential<Named<"conv1", Conv2d<In, Out, 3, Stride, 1>>, ReLU, Named<"conv2", Conv2d<Out, Out, 3, 1, 1>>>;
template <int In, int Out, int Stride = 1>
using FoldedBlock = std::conditional_t<Stride == 1 && In == Out, Residual<FoldedBlockBody<In, Out, Stride>>,
                                       Residual<FoldedBlockBody<In, Out, Stride>, Named<"downsample", Conv2d<In, Out, 1, Stride, 0>>>>;

using Stem = Sequential<Named<"conv1", Conv2d<1, 64, 7, 2, 3>>, ReLU>;
using Layer1 = Sequential<MaxPool2d<3, 2, 1>, Named<"layer1", Sequential<FoldedBlock<64, 64>, FoldedBlock<64, 64>>>>;
using Layer2Blocks = Sequential<FoldedBlock<64, 128, 2>, FoldedBlock<128, 128>>;

/// H/8 -> H/16 and back: the decoder's view of the whole crop.
using Bottom = photo::Down<128, 256, 2>;
/// Each scale: the frozen encoder stage, the level below added back through a skip, a 3x3 conv.
using Eighth = Sequential<Named<"layer2", Frozen<Layer2Blocks>>, photo::Level<128, Bottom, 256>, Conv2d<128, 128, 3, 1, 1>, ReLU>;
using Quarter = Sequential<Frozen<Layer1>, photo::Level<64, Eighth, 128>, Conv2d<64, 64, 3, 1, 1>, ReLU>;
using Half = Sequential<Frozen<Stem>, photo::Level<64, Quarter, 64>, Conv2d<64, 32, 3, 1, 1>, ReLU>;

/// Where torchvision's tensors live in ResNetUNet: its "conv1.weight" is stem_prefix +
/// "conv1.weight", its "layer1.0.conv1.weight" layer1_prefix + "layer1.0.conv1.weight", and so on.
inline constexpr const char* stem_prefix = "0.0.";
inline constexpr const char* layer1_prefix = "0.1.0.0.";
inline constexpr const char* layer2_prefix = "0.1.0.1.0.";

}  // namespace resnet_unet

/// The folded, pretrained-able ResNet-18 encoder alone (stem, layer1, layer2: [N,1,H,W] ->
/// [N,128,H/8,W/8]), not frozen.
/// Prefixes: "0." for the stem, "1." for layer1 and none for layer2.
using FoldedResNet18Encoder = Sequential<resnet_unet::Stem, resnet_unet::Layer1, Named<"layer2", resnet_unet::Layer2Blocks>>;

/// L normalised as (L - 50) / 100 -> tanh, ab / 110.
using ResNetUNet = Sequential<resnet_unet::Half, Conv2d<32, 2, 1>, Tanh, Upsample<2, upsample_mode::bilinear>>;

static_assert(ResNetUNet::in_channels == 1 && ResNetUNet::out_channels == 2,
              "ResNetUNet maps L (1 channel) to ab (2 channels)");

/// The same trunk with Zhang's 313-bin head in place of the ab regression: logits at H/2 through
/// a 1x1 hidden layer of 128 (32 features alone would give the logits a rank of 33). A regression
/// model's file starts it: the trunk's names ("0.") are the same (io::load_matching_safetensors).
/// Trained with cross-entropy on soft-encoded targets, decoded by annealed mean: where the
/// photo says which colour, the distribution is narrow and the decoded colour saturated; where it
/// does not, the mean of a wide distribution stays muted, as a regression's would everywhere.
using ResNetUNetClassifier = Sequential<resnet_unet::Half, Conv2d<32, 128, 1>, ReLU, Conv2d<128, color::zhang_bin_count, 1>>;

static_assert(ResNetUNetClassifier::in_channels == 1 && ResNetUNetClassifier::out_channels == color::zhang_bin_count,
              "ResNetUNetClassifier maps L (1 channel) to one logit per ab bin (313 channels)");

}  // namespace chroma::models
