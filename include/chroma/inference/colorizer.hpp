#pragma once
// Colorizer: a trained model behind one small interface, so that tools which colourise photos
// (chroma colorize, chroma evaluate) need not know which network they hold.
//
//   predict_ab(L)  L [N,1,h,w] in CIELAB units (0..100) -> ab [N,2,h,w] in CIELAB units,
//                  at the same size; the model's own input scaling, softmax, decoding and
//                  upsampling happen inside, then the chroma gain.
//
// The chroma gain (1 by default) multiplies every predicted ab. Models trained to regress ab
// predict a conditional median or mean, which pulls uncertain colours toward grey; a gain fitted
// on training photos (chroma evaluate prints the least-squares one) undoes part of that shrinkage.
// It is saved with the model (metadata "chroma_gain").
//
// Mirror averaging (off by default) runs the model on the photo and on its mirror image and
// averages the two predictions: a photo's colours do not depend on which way it faces, so the
// average cancels part of each prediction's error, at twice the model time. Classifiers average
// the bin probabilities before decoding (so the annealed mean and the rebalancing see one
// distribution), regression models the ab. It is saved with the model (metadata
// "mirror_average").
//
// ClassifierColorizer wraps a 313-bin classifier (decoding chosen by set_decoding),
// RegressionColorizer a network that outputs normalised ab. Both run the model in eval mode
// (BatchNorm statistics, no dropout). models/zoo.hpp builds them by architecture name.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../color/decoding.hpp"
#include "../color/normalization.hpp"
#include "../core/error.hpp"
#include "../io/checkpoint.hpp"
#include "../io/safetensors.hpp"
#include "../nn/model.hpp"
#include "../train/batch.hpp"
#include "../train/classification_task.hpp"
#include "../train/regression_task.hpp"
#include "hint_points.hpp"

namespace chroma::inference {

/// What a caller needs to know to feed a model well.
struct ModelTraits {
    std::string architecture;  // "light64", "eccv16", "colornet-unet", ...
    int native_size = 64;      // the shorter side of the images it was trained on, in pixels
    int size_multiple = 8;     // input sides must be multiples of this
    bool classifier = false;   // a 313-bin classifier: decoding applies
    bool takes_hints = false;  // a user-guided model: set_hints applies
};

/// A chroma gain written as text ("1.25"), or nothing when it is not a number in (0, 10].
inline std::optional<float> chroma_gain_from_text(const std::string& text) {
    char* end = nullptr;
    const float gain = std::strtof(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(gain > 0.0f && gain <= 10.0f)) return std::nullopt;
    return gain;
}

class Colorizer {
public:
    explicit Colorizer(ModelTraits traits) : traits_(std::move(traits)) {}
    virtual ~Colorizer() = default;
    Colorizer(const Colorizer&) = delete;
    Colorizer& operator=(const Colorizer&) = delete;

    const ModelTraits& traits() const noexcept { return traits_; }
    ModelTraits& traits() noexcept { return traits_; }
    virtual long long parameter_count() = 0;

    /// Every parameter and statistic from a training checkpoint (names under `prefix`).
    virtual void load(const io::Checkpoint& checkpoint, const std::string& prefix) = 0;
    /// Every parameter and statistic from a safetensors file with the model's names.
    virtual void load(const io::SafetensorsFile& file) = 0;
    /// The parameters alone, with `metadata`, as a safetensors file.
    virtual void save(const std::filesystem::path& path, const std::map<std::string, std::string>& metadata) = 0;

    /// How a classifier turns its bin probabilities into ab; an error for regression models.
    virtual void set_decoding(const color::Decoding& decoding) = 0;
    virtual color::Decoding decoding() const = 0;

    /// Every predicted ab is multiplied by `gain` (> 0; 1 leaves the model's output alone).
    void set_chroma_gain(float gain) {
        if (!(gain > 0.0f && gain <= 10.0f))
            throw usage_error(traits_.architecture + ": the chroma gain must be in (0, 10], got " + std::to_string(gain));
        chroma_gain_ = gain;
    }
    float chroma_gain() const noexcept { return chroma_gain_; }

    /// Points of colour for a user-guided model (traits().takes_hints), in the pixels of a
    /// photo_width x photo_height photo; every predict_ab of that photo follows them until they
    /// change. Other models have no use for them, and say so.
    virtual void set_hints(std::vector<HintPoint> points, int photo_width, int photo_height) {
        (void)points, (void)photo_width, (void)photo_height;
        throw usage_error(traits_.architecture + " takes no hints; the user-guided models (siggraph17, "
                          "siggraph17-small) do");
    }

    /// Also predict from the mirrored photo and average the two (see above).
    void set_mirror_average(bool on) noexcept { mirror_average_ = on; }
    bool mirror_average() const noexcept { return mirror_average_; }

    /// L [N,1,h,w] (0..100) -> ab [N,2,h,w]; h and w multiples of traits().size_multiple.
    const Tensor<float>& predict_ab(const Tensor<float>& lightness) {
        check_input(lightness);
        const Tensor<float>& ab = model_ab(lightness);
        if (chroma_gain_ == 1.0f) return ab;
        if (scaled_.shape() != ab.shape()) scaled_ = Tensor<float>(ab.shape());
        const float* in = ab.data();
        float* out = scaled_.data();
        for (index_t i = 0; i < ab.size(); ++i) out[i] = chroma_gain_ * in[i];
        return scaled_;
    }

protected:
    /// The model's own ab for a checked input, before the chroma gain.
    virtual const Tensor<float>& model_ab(const Tensor<float>& lightness) = 0;

    void check_input(const Tensor<float>& lightness) const {
        const Shape s = lightness.shape();
        const int m = traits_.size_multiple;
        if (s.c != 1 || s.h < m || s.w < m || s.h % m != 0 || s.w % m != 0)
            throw shape_error(traits_.architecture + ": expects lightness [N,1,H,W] with H and W multiples of " +
                              std::to_string(m) + ", got " + s.str());
    }

private:
    ModelTraits traits_;
    float chroma_gain_ = 1.0f;
    bool mirror_average_ = false;
    Tensor<float> scaled_;
};

namespace detail {

/// `in` [N,C,H,W] mirrored left to right into `out` (its own storage, not `in`'s).
inline void mirror_width(const Tensor<float>& in, Tensor<float>& out) {
    const Shape s = in.shape();
    out.resize(s);
    const index_t rows = s.n * s.c * s.h;
    for (index_t r = 0; r < rows; ++r) {
        const float* from = in.data() + r * s.w;
        float* to = out.data() + r * s.w;
        for (index_t x = 0; x < s.w; ++x) to[x] = from[s.w - 1 - x];
    }
}

/// What every colorizer holding a Model<Net> does the same way.
template <class Net>
class NetColorizer : public Colorizer {
public:
    explicit NetColorizer(ModelTraits traits) : Colorizer(std::move(traits)), model_(1) { model_.inference(); }
    Model<Net>& model() noexcept { return model_; }
    /// Every learnt value, frozen ones too (a pretrained encoder is part of the model).
    long long parameter_count() override {
        long long total = 0;
        model_.visit_parameters([&](std::string_view, auto& p) {
            if (p.role != parameter_role::statistic) total += static_cast<long long>(p.value.size());
        });
        return total;
    }
    void load(const io::Checkpoint& checkpoint, const std::string& prefix) override {
        io::load_parameters(checkpoint, model_, prefix);
    }
    void load(const io::SafetensorsFile& file) override { io::load_safetensors(file, model_); }
    void save(const std::filesystem::path& path, const std::map<std::string, std::string>& metadata) override {
        io::save_safetensors(path, model_, metadata);
    }

protected:
    Model<Net> model_;
};

}  // namespace detail

/// A 313-bin classifier: normalised L in, logits out, decoded to ab at the input size.
template <class Net>
class ClassifierColorizer final : public detail::NetColorizer<Net> {
public:
    ClassifierColorizer(ModelTraits traits, train::ClassificationOptions options)
        : detail::NetColorizer<Net>(std::move(traits)), task_(std::move(options)) {}

    void set_decoding(const color::Decoding& decoding) override {
        auto options = task_.options();
        options.decoding = decoding;
        task_ = train::ClassificationTask(std::move(options));
    }
    color::Decoding decoding() const override { return task_.options().decoding; }

protected:
    const Tensor<float>& model_ab(const Tensor<float>& lightness) override {
        batch_.lightness = lightness;
        const Tensor<float>& logits = this->model_.forward(task_.input(batch_));
        if (!this->mirror_average()) return task_.predicted_ab(logits);
        probabilities_.resize(logits.shape());
        kernels::softmax_channels_forward(logits, probabilities_);
        detail::mirror_width(lightness, mirrored_lightness_);
        batch_.lightness = mirrored_lightness_;
        detail::mirror_width(this->model_.forward(task_.input(batch_)), mirrored_);
        mirrored_probabilities_.resize(mirrored_.shape());
        kernels::softmax_channels_forward(mirrored_, mirrored_probabilities_);
        float* mean = probabilities_.data();
        const float* other = mirrored_probabilities_.data();
        for (index_t i = 0; i < probabilities_.size(); ++i) mean[i] = 0.5f * (mean[i] + other[i]);
        return task_.ab_from_probabilities(probabilities_);
    }

private:
    train::ClassificationTask task_;
    train::Batch batch_;
    Tensor<float> probabilities_, mirrored_lightness_, mirrored_, mirrored_probabilities_;
};

namespace detail {

/// A network that outputs ab itself (no bins to decode): decoding is refused, and mirror
/// averaging is the mean of two ab maps.
template <class Net>
class DirectAbColorizer : public NetColorizer<Net> {
public:
    using NetColorizer<Net>::NetColorizer;

    void set_decoding(const color::Decoding&) override {
        throw usage_error(this->traits().architecture + " predicts ab directly (regression); decoding applies only to "
                          "the 313-bin classifiers");
    }
    color::Decoding decoding() const override { return {}; }

protected:
    /// `ab` with mirror averaging off; else its mean with predict(mirrored input), mirrored back.
    /// `predict` maps a model input to ab; `input` is what gave `ab`.
    template <class Predict>
    const Tensor<float>& with_mirror_average(const Tensor<float>& ab, const Tensor<float>& input, Predict&& predict) {
        if (!this->mirror_average()) return ab;
        averaged_.resize(ab.shape());
        std::copy(ab.data(), ab.data() + ab.size(), averaged_.data());
        mirror_width(input, mirrored_input_);
        mirror_width(predict(mirrored_input_), mirrored_);
        float* mean = averaged_.data();
        const float* other = mirrored_.data();
        for (index_t i = 0; i < averaged_.size(); ++i) mean[i] = 0.5f * (mean[i] + other[i]);
        return averaged_;
    }

private:
    Tensor<float> averaged_, mirrored_input_, mirrored_;
};

}  // namespace detail

/// A network whose output is ab scaled by `ab` normalisation (tanh x 110 for ColorNet).
template <class Net>
class RegressionColorizer final : public detail::DirectAbColorizer<Net> {
public:
    RegressionColorizer(ModelTraits traits, color::Normalization lightness, color::Normalization ab)
        : detail::DirectAbColorizer<Net>(std::move(traits)), task_(lightness, ab) {}

protected:
    const Tensor<float>& model_ab(const Tensor<float>& lightness) override {
        return this->with_mirror_average(predict(lightness), lightness, [&](const Tensor<float>& l) -> const Tensor<float>& {
            return predict(l);
        });
    }

private:
    const Tensor<float>& predict(const Tensor<float>& lightness) {
        batch_.lightness = lightness;
        return task_.predicted_ab(this->model_.forward(task_.input(batch_)));
    }

    train::RegressionTask<> task_;
    train::Batch batch_;
};

}  // namespace chroma::inference
