#pragma once
// HintColorizer: a user-guided model (models::Siggraph17Network) behind the Colorizer
// interface. Its input is the photo's L plus the points of colour set by set_hints, drawn at the
// model's input size (rasterize_hints); without points it colourises from L alone, as the paper's
// network does with an empty mask. Mirror averaging mirrors the hints with the photo.
#include <string>
#include <utility>
#include <vector>

#include "../train/hints_task.hpp"
#include "colorizer.hpp"
#include "hint_points.hpp"

namespace chroma::inference {

template <class Net>
class HintColorizer final : public detail::DirectAbColorizer<Net> {
public:
    explicit HintColorizer(ModelTraits traits) : detail::DirectAbColorizer<Net>(with_hints(std::move(traits))) {}

    void set_hints(std::vector<HintPoint> points, int photo_width, int photo_height) override {
        if (photo_width < 1 || photo_height < 1)
            throw usage_error(this->traits().architecture + ": hints need the photo's size, got " +
                              std::to_string(photo_width) + " x " + std::to_string(photo_height));
        points_ = std::move(points);
        photo_width_ = photo_width;
        photo_height_ = photo_height;
    }

protected:
    const Tensor<float>& model_ab(const Tensor<float>& lightness) override {
        const Shape s = lightness.shape();
        const int width = static_cast<int>(s.w), height = static_cast<int>(s.h);
        // Without a photo size the points are read in the model's own pixels; every image of a
        // batch gets the same points.
        const data::Hints hints = rasterize_hints(points_, photo_width_ > 0 ? photo_width_ : width,
                                                  photo_height_ > 0 ? photo_height_ : height, width, height, s.n);
        const Tensor<float>& input = task_.input_with(lightness, hints);
        const auto predict = [&](const Tensor<float>& x) -> const Tensor<float>& {
            return task_.predicted_ab(this->model_.forward(x));
        };
        // The mirrored input mirrors the points with the photo.
        return this->with_mirror_average(predict(input), input, predict);
    }

private:
    static ModelTraits with_hints(ModelTraits traits) {
        traits.takes_hints = true;
        return traits;
    }

    train::HintsTask task_;
    std::vector<HintPoint> points_;
    int photo_width_ = 0, photo_height_ = 0;
};

}  // namespace chroma::inference
