#pragma once
// The ResNet-18-encoder autoencoder of seed 002 (Hossain, section 3.1): the first six children
// of torchvision's resnet18 as the encoder, and "the same type of convolutional layers in
// reverse, with upsampling" as the decoder, after Luke Melas-Kyriazi's colorizer (the seed's
// reference [2]), whose decoder widths are taken here: 128, 64, 64, 32, 2 with three x2
// nearest-neighbour upsamplings. The seed gives no widths itself.
//
// The encoder's first conv takes one channel: Melas-Kyriazi sums torchvision's RGB weights over
// the input channels (resnet.conv1.weight.sum(dim=1)); only the 1-channel shape matters here.
//
// Names. ResNet18Encoder alone is nn.Sequential(*list(resnet18().children())[:6]): 0.weight
// (conv1), 1.* (bn1), 4.0.conv1.weight (layer1), 5.0.downsample.0.weight (layer2). A torchvision
// state_dict maps onto it by conv1 -> 0, bn1 -> 1, layer1 -> 4, layer2 -> 5. ResNetAutoencoder
// keeps Melas-Kyriazi's attribute names: midlevel_resnet.<encoder name>, upsample.<index>.
// The output is ab at the input size with no final activation, in whatever scale the training
// targets used (the seed does not say). Works for any size that is a multiple of 8: the seed
// trains at 224 and then 608.
#include <type_traits>

#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/max_pool2d.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/skip.hpp"
#include "../nn/upsample.hpp"

namespace chroma::models {
namespace resnet {

/// torchvision's BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the shortcut, then ReLU. Convs have
/// no bias (BatchNorm follows). With Stride 2 or a change of width, the shortcut is the 1x1
/// strided conv + BatchNorm named "downsample"; otherwise it is the identity.
template <int In, int Out, int Stride = 1>
using BasicBlockBody = Sequential<Named<"conv1", Conv2d<In, Out, 3, Stride, 1, 1, false>>, Named<"bn1", BatchNorm2d<Out>>,
                                  ReLU, Named<"conv2", Conv2d<Out, Out, 3, 1, 1, 1, false>>,
                                  Named<"bn2", BatchNorm2d<Out>>>;
template <int In, int Out, int Stride = 1>
using BasicBlock = std::conditional_t<
    Stride == 1 && In == Out, Residual<BasicBlockBody<In, Out, Stride>>,
    Residual<BasicBlockBody<In, Out, Stride>,
             Named<"downsample", Sequential<Conv2d<In, Out, 1, Stride, 0, 1, false>, BatchNorm2d<Out>>>>>;

}  // namespace resnet

/// resnet18's conv1, bn1, relu, maxpool, layer1, layer2 on one input channel: [N,1,H,W] ->
/// [N,128,H/8,W/8]. 676,800 parameters.
using ResNet18Encoder = Sequential<Conv2d<1, 64, 7, 2, 3, 1, false>, BatchNorm2d<64>, ReLU, MaxPool2d<3, 2, 1>,
                                   Sequential<resnet::BasicBlock<64, 64>, resnet::BasicBlock<64, 64>>,
                                   Sequential<resnet::BasicBlock<64, 128, 2>, resnet::BasicBlock<128, 128>>>;

/// [N,128,H/8,W/8] -> ab [N,2,H,W]. 277,922 parameters.
using ResNetDecoder = Sequential<Conv2d<128, 128, 3, 1, 1>, BatchNorm2d<128>, ReLU, Upsample<2>,
                                 Conv2d<128, 64, 3, 1, 1>, BatchNorm2d<64>, ReLU,
                                 Conv2d<64, 64, 3, 1, 1>, BatchNorm2d<64>, ReLU, Upsample<2>,
                                 Conv2d<64, 32, 3, 1, 1>, BatchNorm2d<32>, ReLU,
                                 Conv2d<32, 2, 3, 1, 1>, Upsample<2>>;

/// Seed 002: L [N,1,H,W] -> ab [N,2,H,W]. 954,722 parameters.
using ResNetAutoencoder = Sequential<Named<"midlevel_resnet", ResNet18Encoder>, Named<"upsample", ResNetDecoder>>;

static_assert(ResNet18Encoder::out_channels == 128, "ResNet-18's layer2 gives 128 channels, the decoder's input");
static_assert(ResNetAutoencoder::in_channels == 1 && ResNetAutoencoder::out_channels == 2,
              "ResNetAutoencoder maps L (1 channel) to ab (2 channels)");

}  // namespace chroma::models
