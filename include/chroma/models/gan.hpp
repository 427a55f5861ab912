#pragma once
// The conditional-GAN parts of seed 004 (Fabbri and Islam, sections 3.2 and 4). The report names
// the objectives (loss/adversarial.hpp has them) but not the networks, so these follow the
// authors' code (github cameronfabbri/Colorizing-Images-Using-Adversarial-Networks, ColColGAN.py)
// where it is clear and pix2pix (Isola et al., which the seed cites) where it is not:
//
// PatchDiscriminator  D(L, ab): the input is L and ab stacked (3 channels, see condition_on_l);
//                     4x4 convs 64 (stride 2, no BatchNorm), 128 (2), 256 (2), 512 (1), each
//                     with BatchNorm but the first and LeakyReLU(0.2), then a 4x4 conv to one
//                     score per patch. Padding 1 as pix2pix (TensorFlow's "same" is
//                     asymmetric for even kernels); convs before BatchNorm have no bias. A 64x64
//                     input gives a 6x6 map of scores (raw: the objectives apply the sigmoid).
// EnergyDiscriminator EBGAN's discriminator is an autoencoder (section 4.3) whose energy is its
//                     reconstruction error (loss/reconstruction_energy.hpp). The seed gives no
//                     layers; this one is two stride-2 4x4 convs (64, 128) down and two
//                     transposed convs back to 3 channels. A reading, not the authors'.
// ZhangRegressionGenerator  section 3.2: Zhang et al.'s network with its output layer changed to
//                     predict ab (L1/L2 trained), and section 4.1: "we provide noise in the form
//                     of dropout in the generator". conv1-conv7 as eccv16.hpp, conv8 with
//                     Dropout(0.5) after each ReLU, a 1x1 conv to 2 channels with tanh (ab / 110)
//                     and x4 bilinear upsampling to the input size.
#include "../core/tensor.hpp"
#include "../backend/cpu/elementwise.hpp"
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/dropout.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/upsample.hpp"
#include "eccv16.hpp"

namespace chroma::models {

using DiscriminatorReLU = LeakyReLU<0.2f>;

/// Seed 004: the conditional patch discriminator, [N,3,H,W] (L, a, b) -> [N,1,H/8-2,W/8-2].
using PatchDiscriminator = Sequential<
    Conv2d<3, 64, 4, 2, 1>, DiscriminatorReLU,
    Conv2d<64, 128, 4, 2, 1, 1, false>, BatchNorm2d<128>, DiscriminatorReLU,
    Conv2d<128, 256, 4, 2, 1, 1, false>, BatchNorm2d<256>, DiscriminatorReLU,
    Conv2d<256, 512, 4, 1, 1, 1, false>, BatchNorm2d<512>, DiscriminatorReLU,
    Conv2d<512, 1, 4, 1, 1>>;

/// Seed 004, EBGAN: [N,3,H,W] -> its reconstruction [N,3,H,W] (H, W multiples of 4).
using EnergyDiscriminator = Sequential<
    Named<"encoder", Sequential<Conv2d<3, 64, 4, 2, 1>, DiscriminatorReLU,
                                Conv2d<64, 128, 4, 2, 1, 1, false>, BatchNorm2d<128>, DiscriminatorReLU>>,
    Named<"decoder", Sequential<ConvTranspose2d<128, 64, 4, 2, 1, 0, 1, false>, BatchNorm2d<64>, ReLU,
                                ConvTranspose2d<64, 3, 4, 2, 1>>>>;

/// Seed 004: normalised L [N,1,H,W] -> ab / 110 [N,2,H,W], with dropout noise in conv8.
using ZhangRegressionGenerator = Sequential<
    Named<"model1", eccv16::TwoConvBlock<1, 64, 2>>,
    Named<"model2", eccv16::TwoConvBlock<64, 128, 2>>,
    Named<"model3", eccv16::ThreeConvBlock<128, 256, 2>>,
    Named<"model4", eccv16::ThreeConvBlock<256, 512>>,
    Named<"model5", eccv16::ThreeConvBlock<512, 512, 1, 2>>,
    Named<"model6", eccv16::ThreeConvBlock<512, 512, 1, 2>>,
    Named<"model7", eccv16::ThreeConvBlock<512, 512>>,
    Named<"model8", Sequential<ConvTranspose2d<512, 256, 4, 2, 1>, ReLU, Dropout<0.5>,
                               Conv2d<256, 256, 3, 1, 1>, ReLU, Dropout<0.5>,
                               Conv2d<256, 256, 3, 1, 1>, ReLU, Dropout<0.5>>>,
    Named<"model_out", Sequential<Conv2d<256, 2, 1>, Tanh>>,
    Upsample<4, upsample_mode::bilinear>>;

static_assert(PatchDiscriminator::in_channels == 3 && EnergyDiscriminator::out_channels == 3,
              "the discriminators see L and ab stacked: 3 channels (condition_on_l)");
static_assert(ZhangRegressionGenerator::in_channels == 1 && ZhangRegressionGenerator::out_channels == 2,
              "ZhangRegressionGenerator maps L (1 channel) to ab (2 channels)");

/// The discriminators' input: L [N,1,H,W] and ab [N,2,H,W] stacked into [N,3,H,W].
template <class T>
Tensor<T, cpu> condition_on_l(const Tensor<T, cpu>& l, const Tensor<T, cpu>& ab) {
    const Shape a = l.shape(), b = ab.shape();
    if (a.c != 1 || b.c != 2 || a.n != b.n || a.h != b.h || a.w != b.w)
        throw shape_error("condition_on_l expects L [N,1,H,W] and ab [N,2,H,W] of one size, got " + a.str() +
                          " and " + b.str());
    Tensor<T, cpu> out(Shape{.n = a.n, .c = 3, .h = a.h, .w = a.w});
    kernels::concat_channels(l, ab, out);
    return out;
}

}  // namespace chroma::models
