#pragma once
// Zhang, Isola and Efros's ECCV 2016 classifier (seed 001, table 1), with the module structure
// and parameter names of the official PyTorch port (github richzhang/colorization,
// colorizers/eccv16.py), so its released state_dict loads through io::load_safetensors:
//   model1 ... model8   conv blocks (model1.0.weight, model1.4.running_mean, model8.0.weight, ...)
//   model_out           1x1 conv 313 -> 2 without bias, weights = the bin centres / 110
//
// Table 1 of seed 001 gives the strides (2 at conv1_2, conv2_2, conv3_3), the dilations (2 in
// conv5 and conv6), BatchNorm after each of conv1-conv7 and the 313 outputs at a quarter of the
// input size. Where the table differs from the released network, the released one wins: conv7 is
// 512 wide (table: 256), conv8 is 256 wide (table: 128) and opens with a 4x4 stride-2 transposed
// conv (table: 3x3 at stride 1/2), and conv8 has no BatchNorm (table: after conv8_3).
//
// Eccv16Classifier      normalised L -> 313 logits at 1/4 size: the network one trains.
// Eccv16Colorizer       the official module's forward, L in [0, 100] -> ab:
//                       (L - 50) / 100, classifier, softmax, model_out, x4 bilinear, x 110.
// Eccv16CaffeColorizer  the Caffe release: logits x 2.606 before the softmax. Softmax(2.606 z)
//                       is p^2.606 renormalised, so this is the annealed mean at T = 1 / 2.606
//                       (about 0.38, the paper's temperature); the official port uses T = 1.
// The library's own decoding of the same logits is color::decode(softmax, AbBins::zhang(),
// Decoding::annealed_mean(0.38)) followed by Upsample<4, bilinear>: see eccv16_colorize below.
#include <string>

#include "../color/zhang_bins.hpp"
#include "../nn/activation.hpp"
#include "../nn/batch_norm2d.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/conv_transpose2d.hpp"
#include "../nn/model.hpp"
#include "../nn/named.hpp"
#include "../nn/sequential.hpp"
#include "../nn/softmax.hpp"
#include "../nn/upsample.hpp"
#include "affine.hpp"
#include "join.hpp"

namespace chroma::models {

/// The official port's constants (base_color.py): L is centred by 50 and scaled by 100, ab by 110.
inline constexpr double eccv16_l_cent = 50.0, eccv16_l_norm = 100.0, eccv16_ab_norm = 110.0;
/// The Caffe release's logit scale before the softmax (its conv8_313_rh layer).
inline constexpr double eccv16_caffe_logit_scale = 2.606;

namespace eccv16 {

/// Convs of kernel 3 with ReLU after each, then BatchNorm; the last conv has LastStride. Dilation
/// d comes with padding d, which keeps the size.
template <int In, int Out, int LastStride = 1, int Dilation = 1>
using TwoConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                Conv2d<Out, Out, 3, LastStride, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;
template <int In, int Out, int LastStride = 1, int Dilation = 1>
using ThreeConvBlock = Sequential<Conv2d<In, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, 1, Dilation, Dilation>, ReLU,
                                  Conv2d<Out, Out, 3, LastStride, Dilation, Dilation>, ReLU, BatchNorm2d<Out>>;

/// conv8: x2 learned upsampling, two 3x3 convs, and the 1x1 conv to the 313 bin logits.
using Conv8Block = Sequential<ConvTranspose2d<512, 256, 4, 2, 1>, ReLU, Conv2d<256, 256, 3, 1, 1>, ReLU,
                              Conv2d<256, 256, 3, 1, 1>, ReLU, Conv2d<256, color::zhang_bin_count, 1>>;

}  // namespace eccv16

/// Normalised L [N,1,H,W] -> 313 bin logits [N,313,H/4,W/4] (H, W multiples of 8 keep the
/// quarter exact). 32,235,385 parameters; with model_out (626 more) the released state_dict.
using Eccv16Classifier = Sequential<
    Named<"model1", eccv16::TwoConvBlock<1, 64, 2>>,
    Named<"model2", eccv16::TwoConvBlock<64, 128, 2>>,
    Named<"model3", eccv16::ThreeConvBlock<128, 256, 2>>,
    Named<"model4", eccv16::ThreeConvBlock<256, 512>>,
    Named<"model5", eccv16::ThreeConvBlock<512, 512, 1, 2>>,
    Named<"model6", eccv16::ThreeConvBlock<512, 512, 1, 2>>,
    Named<"model7", eccv16::ThreeConvBlock<512, 512>>,
    Named<"model8", eccv16::Conv8Block>>;

/// The 313 -> 2 projection by the bin centres (set them with set_eccv16_bin_centres).
using Eccv16Projection = Named<"model_out", Conv2d<color::zhang_bin_count, 2, 1, 1, 0, 1, false>>;

/// Logits -> ab at 4x their size: softmax, model_out, x4 bilinear, x 110 (eccv16.py's forward).
using Eccv16Head = Sequential<Softmax, Eccv16Projection, Upsample<4, upsample_mode::bilinear>,
                              Affine<eccv16_ab_norm>>;
/// The same with the Caffe release's logit scale before the softmax.
using Eccv16CaffeHead = join_t<Sequential<Affine<eccv16_caffe_logit_scale>>, Eccv16Head>;

/// (L - 50) / 100 as a layer, so that the colorizers take L in [0, 100] as eccv16.py does.
using Eccv16NormalizeL = Affine<1.0 / eccv16_l_norm, -eccv16_l_cent / eccv16_l_norm>;

/// L [N,1,H,W] in [0, 100] -> ab [N,2,H,W]: the official PyTorch module, names and all.
using Eccv16Colorizer = join_t<Sequential<Eccv16NormalizeL>, Eccv16Classifier, Eccv16Head>;
/// L -> ab as the Caffe release computes it (annealed mean at T = 1 / 2.606).
using Eccv16CaffeColorizer = join_t<Sequential<Eccv16NormalizeL>, Eccv16Classifier, Eccv16CaffeHead>;

static_assert(Eccv16Classifier::in_channels == 1 && Eccv16Classifier::out_channels == color::zhang_bin_count,
              "Eccv16Classifier maps L (1 channel) to one logit per ab bin (313 channels)");
static_assert(Eccv16Colorizer::out_channels == 2 && Eccv16CaffeColorizer::out_channels == 2,
              "the ECCV16 colorizers end in ab (2 channels)");

/// Writes the bin centres / 110 into `model_out.weight` of any model that has it (a colorizer or
/// a head), the values the released weights hold, so that the head's x 110 gives ab.
template <class M>
void set_eccv16_bin_centres(M& model) {
    auto& weight = model.parameter("model_out.weight").value;
    for (int q = 0; q < color::zhang_bin_count; ++q) {
        weight(0, q, 0, 0) = static_cast<typename M::value_type>(color::zhang_bin_centres[q][0] / eccv16_ab_norm);
        weight(1, q, 0, 0) = static_cast<typename M::value_type>(color::zhang_bin_centres[q][1] / eccv16_ab_norm);
    }
}

/// Logits [N,313,h,w] -> ab [N,2,4h,4w] by the official head (caffe = false) or the Caffe one.
template <class T>
Tensor<T, cpu> eccv16_colorize(const Tensor<T, cpu>& logits, bool caffe = false) {
    if (caffe) {
        Model<Eccv16CaffeHead, cpu, T> head;
        set_eccv16_bin_centres(head);
        head.eval();
        return head.forward(logits).clone();
    }
    Model<Eccv16Head, cpu, T> head;
    set_eccv16_bin_centres(head);
    head.eval();
    return head.forward(logits).clone();
}

}  // namespace chroma::models
