#pragma once
// A task tells the trainer how a model sees a batch: its input, its target, its loss and how to
// read its output back as ab. RegressionTask predicts ab directly (ColorNet, the ResNet
// autoencoder, a GAN's generator): input L normalised, target ab normalised, any regression loss
// from loss/regression.hpp.
//
// A task offers: input(batch) -> model input; loss(prediction, batch, grad) -> value (writing
// the gradient w.r.t. the prediction); predicted_ab(prediction) -> ab in CIELAB units;
// describe() -> a line for logs; optionally start_pass(validation), called before each training
// and validation pass (HintsTask restarts its validation hints there).
#include <string>

#include "../color/normalization.hpp"
#include "../loss/regression.hpp"
#include "batch.hpp"

namespace chroma::train {

template <class Loss = loss::MSELoss>
class RegressionTask {
public:
    explicit RegressionTask(color::Normalization lightness = color::lightness_centered,
                            color::Normalization ab = color::ab_over_110, Loss loss = {})
        : lightness_(lightness), ab_(ab), loss_(loss) {}

    const Tensor<float>& input(const Batch& batch) {
        scaled_copy(batch.lightness, input_);
        color::normalize_in_place(input_, lightness_);
        return input_;
    }
    double loss(const Tensor<float>& prediction, const Batch& batch, Tensor<float>& grad) {
        return loss_.forward_backward(prediction, normalized_target(batch), grad);
    }
    const Tensor<float>& predicted_ab(const Tensor<float>& prediction) {
        scaled_copy(prediction, ab_out_);
        color::denormalize_in_place(ab_out_, ab_);
        return ab_out_;
    }
    std::string describe() const { return "regression of ab"; }

protected:
    /// The batch's ab, normalised like the prediction, in a buffer kept across steps.
    const Tensor<float>& normalized_target(const Batch& batch) {
        scaled_copy(batch.ab, target_);
        color::normalize_in_place(target_, ab_);
        return target_;
    }

private:
    // Copies into a buffer kept across steps, so a training step does not allocate.
    static void scaled_copy(const Tensor<float>& from, Tensor<float>& to) {
        to.resize(from.shape());
        kernels::copy(from, to);
    }

    color::Normalization lightness_, ab_;
    Loss loss_;
    Tensor<float> input_, target_, ab_out_;
};

}  // namespace chroma::train
