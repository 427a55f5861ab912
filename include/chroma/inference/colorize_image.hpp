#pragma once
// Colourising a photo at its full resolution with a model that runs at a small size.
//
//   1. The photo is area-averaged to the model's size (shorter side = the model's native size,
//      the other side in proportion, both multiples of its size_multiple) and its L computed.
//   2. The model predicts ab at that size.
//   3. Every full-resolution pixel keeps its own L (and alpha); its ab is sampled bilinearly
//      from the small prediction (PyTorch's align_corners = false). Colour varies slowly, detail
//      lives in L, so no detail is lost.
//
// Memory: the decoded 8-bit photo, plus an output buffer only when the channel count changes
// (grey -> RGB); RGB and RGBA photos are colourised in place. Everything else is at the model's
// size. So a W x H photo needs about W x H x (input channels + output channels) bytes at most:
// 12000 x 8000 RGB, 288 MB.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../color/lab.hpp"
#include "../color/lab_space.hpp"
#include "../color/srgb8.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../data/image.hpp"
#include "colorizer.hpp"

namespace chroma::inference {

struct InputSize {
    int width = 0;
    int height = 0;
};

/// The size the model sees for a width x height photo: the shorter side becomes the native size,
/// the longer one keeps the aspect ratio up to `max_aspect` : 1 (panoramas are squeezed beyond
/// that), each rounded to the nearest multiple of the model's size_multiple.
inline InputSize model_input_size(int width, int height, const ModelTraits& traits, double max_aspect = 4.0) {
    if (width < 1 || height < 1)
        throw usage_error("model_input_size: the photo is " + std::to_string(width) + " x " + std::to_string(height));
    const int m = std::max(1, traits.size_multiple);
    const int native = std::max(m, traits.native_size / m * m);
    const double aspect = std::min(max_aspect, static_cast<double>(std::max(width, height)) / std::min(width, height));
    const int longer = std::max(m, static_cast<int>(std::lround(native * aspect / m)) * m);
    return width >= height ? InputSize{longer, native} : InputSize{native, longer};
}

namespace detail {

/// One output coordinate's source samples along an axis and their weights.
struct AxisTaps {
    std::vector<int> first;       // per output: first source index
    std::vector<int> count;       // per output: how many source indices
    std::vector<float> weights;   // per output: `count` weights, stored at offsets[o]
    std::vector<int> offsets;
};

/// Exact box (area) averaging of `in` samples into `out`, with fractional edge weights.
inline AxisTaps area_taps(int in, int out) {
    AxisTaps taps;
    const double scale = static_cast<double>(in) / out;
    for (int o = 0; o < out; ++o) {
        const double begin = o * scale, end = (o + 1) * scale;
        const int first = static_cast<int>(std::floor(begin));
        const int last = std::min(in - 1, static_cast<int>(std::ceil(end)) - 1);
        taps.first.push_back(first);
        taps.count.push_back(last - first + 1);
        taps.offsets.push_back(static_cast<int>(taps.weights.size()));
        for (int i = first; i <= last; ++i) {
            const double covered = std::min<double>(end, i + 1) - std::max<double>(begin, i);
            taps.weights.push_back(static_cast<float>(covered / scale));
        }
    }
    return taps;
}

/// Bilinear sampling positions with align_corners = false: the two neighbours and the weight of
/// the second, for each of `out` positions over `in` samples.
struct LinearTaps {
    std::vector<int> low, high;
    std::vector<float> weight_high;
};

inline LinearTaps linear_taps(int in, int out) {
    LinearTaps taps;
    const double scale = static_cast<double>(in) / out;
    for (int o = 0; o < out; ++o) {
        const double source = std::max(0.0, (o + 0.5) * scale - 0.5);
        const int low = std::min(in - 1, static_cast<int>(source));
        taps.low.push_back(low);
        taps.high.push_back(std::min(in - 1, low + 1));
        taps.weight_high.push_back(static_cast<float>(source - low));
    }
    return taps;
}

/// The sRGB colour (encoded, 0..1) of pixel i of an 8-bit image of 1 to 4 channels.
inline color::Rgb<float> pixel_rgb(const Image& image, std::size_t i) {
    const std::uint8_t* p = image.pixels.data() + i * static_cast<std::size_t>(image.channels);
    constexpr float unit = 1.0f / 255.0f;
    if (image.channels <= 2) return {p[0] * unit, p[0] * unit, p[0] * unit};
    return {p[0] * unit, p[1] * unit, p[2] * unit};
}

inline void require_photo(const char* what, const Image& image) {
    if (image.width < 1 || image.height < 1 || image.channels < 1 || image.channels > 4 ||
        image.pixels.size() != image.pixel_count() * static_cast<std::size_t>(image.channels))
        throw usage_error(std::string(what) + ": expects an 8-bit image of 1 to 4 channels, got " +
                          std::to_string(image.width) + " x " + std::to_string(image.height) + " x " +
                          std::to_string(image.channels) + " with " + std::to_string(image.pixels.size()) + " values");
}

}  // namespace detail

/// L [1,1,h,w] (CIELAB units) of the photo area-averaged to width x height in sRGB, as the
/// training transforms resize before converting. Alpha is ignored.
inline Tensor<float> lightness_at(const Image& image, InputSize size) {
    detail::require_photo("lightness_at", image);
    const auto across = detail::area_taps(image.width, size.width);
    const auto down = detail::area_taps(image.height, size.height);
    // Rows first: each source row shrinks to `size.width` RGB samples, so the buffer is small.
    std::vector<float> rows(static_cast<std::size_t>(image.height) * size.width * 3, 0.0f);
#pragma omp parallel for schedule(static)
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < size.width; ++x) {
            float sum[3] = {0, 0, 0};
            const int offset = across.offsets[static_cast<std::size_t>(x)];
            for (int k = 0; k < across.count[static_cast<std::size_t>(x)]; ++k) {
                const std::size_t source = static_cast<std::size_t>(y) * image.width + across.first[static_cast<std::size_t>(x)] + k;
                const color::Rgb<float> c = detail::pixel_rgb(image, source);
                const float w = across.weights[static_cast<std::size_t>(offset + k)];
                sum[0] += w * c.r;
                sum[1] += w * c.g;
                sum[2] += w * c.b;
            }
            float* out = rows.data() + (static_cast<std::size_t>(y) * size.width + x) * 3;
            out[0] = sum[0], out[1] = sum[1], out[2] = sum[2];
        }
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = size.height, .w = size.width});
    const auto space = color::lab_space<float>();
    for (int y = 0; y < size.height; ++y) {
        const int offset = down.offsets[static_cast<std::size_t>(y)];
        for (int x = 0; x < size.width; ++x) {
            float sum[3] = {0, 0, 0};
            for (int k = 0; k < down.count[static_cast<std::size_t>(y)]; ++k) {
                const float* in = rows.data() + (static_cast<std::size_t>(down.first[static_cast<std::size_t>(y)] + k) * size.width + x) * 3;
                const float w = down.weights[static_cast<std::size_t>(offset + k)];
                sum[0] += w * in[0], sum[1] += w * in[1], sum[2] += w * in[2];
            }
            lightness.data()[y * size.width + x] = color::srgb_to_lab(color::Rgb<float>{sum[0], sum[1], sum[2]}, space).l;
        }
    }
    return lightness;
}

/// The model's ab [1,2,h,w] for the photo, at the model's input size for it.
inline Tensor<float> predict_ab_map(Colorizer& colorizer, const Image& image) {
    const InputSize size = model_input_size(image.width, image.height, colorizer.traits());
    return colorizer.predict_ab(lightness_at(image, size));
}

/// Samples a small ab map [1,2,h,w] at any full-resolution pixel (bilinear, align_corners = false).
class AbSampler {
public:
    AbSampler(const Tensor<float>& ab, int width, int height)
        : ab_(ab), across_(detail::linear_taps(static_cast<int>(ab.shape().w), width)),
          down_(detail::linear_taps(static_cast<int>(ab.shape().h), height)) {
        if (ab.shape().n != 1 || ab.shape().c != 2)
            throw shape_error("AbSampler: expects ab [1,2,h,w], got " + ab.shape().str());
    }
    /// ab at full-resolution pixel (x, y).
    void at(int x, int y, float& a, float& b) const {
        const auto xs = static_cast<std::size_t>(x), ys = static_cast<std::size_t>(y);
        const index_t w = ab_.shape().w, plane = ab_.shape().plane();
        const float fx = across_.weight_high[xs], fy = down_.weight_high[ys];
        const index_t i00 = down_.low[ys] * w + across_.low[xs], i01 = down_.low[ys] * w + across_.high[xs];
        const index_t i10 = down_.high[ys] * w + across_.low[xs], i11 = down_.high[ys] * w + across_.high[xs];
        const float* p = ab_.data();
        auto mix = [&](const float* c) {
            const float top = c[i00] + fx * (c[i01] - c[i00]);
            const float bottom = c[i10] + fx * (c[i11] - c[i10]);
            return top + fy * (bottom - top);
        };
        a = mix(p);
        b = mix(p + plane);
    }

private:
    const Tensor<float>& ab_;
    detail::LinearTaps across_, down_;
};

/// ab [1,2,H,W] at the photo's full size, from a small map.
inline Tensor<float> upsample_ab(const Tensor<float>& ab, int width, int height) {
    const AbSampler sampler(ab, width, height);
    Tensor<float> out(Shape{.n = 1, .c = 2, .h = height, .w = width});
    const index_t plane = out.shape().plane();
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            const index_t i = static_cast<index_t>(y) * width + x;
            sampler.at(x, y, out.data()[i], out.data()[plane + i]);
        }
    return out;
}

/// The photo in colour: each pixel's own L (and alpha) with ab from the small map. Grey photos
/// become RGB (grey + alpha: RGBA); RGB and RGBA photos are recoloured in place.
inline Image join_lightness_and_ab(Image image, const Tensor<float>& ab) {
    detail::require_photo("join_lightness_and_ab", image);
    const bool alpha = image.channels == 2 || image.channels == 4;
    const int out_channels = alpha ? 4 : 3;
    Image grown;
    if (image.channels != out_channels) {
        grown = Image{.width = image.width, .height = image.height, .channels = out_channels, .pixels = {}};
        grown.pixels.resize(image.pixel_count() * static_cast<std::size_t>(out_channels));
    }
    Image& out = image.channels == out_channels ? image : grown;
    const AbSampler sampler(ab, image.width, image.height);
    const auto space = color::lab_space<float>();
    const auto& linear = color::srgb8_to_linear_table<float>();
    const float* y_row = space.rgb_to_xyz + 3;  // Y of linear sRGB: L depends on Y alone
#pragma omp parallel for schedule(dynamic, 16)
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * image.width + x;
            const std::uint8_t* in = image.pixels.data() + i * static_cast<std::size_t>(image.channels);
            const float luminance = image.channels <= 2
                                        ? (y_row[0] + y_row[1] + y_row[2]) * linear[in[0]]
                                        : y_row[0] * linear[in[0]] + y_row[1] * linear[in[1]] + y_row[2] * linear[in[2]];
            const float l = 116.0f * color::detail::lab_f(luminance * space.inverse_white[1]) - 16.0f;
            float a = 0, b = 0;
            sampler.at(x, y, a, b);
            const std::uint8_t kept_alpha = alpha ? in[image.channels - 1] : 255;
            const color::Rgb<float> rgb = color::lab_to_srgb(color::Lab<float>{l, a, b}, space);
            std::uint8_t* o = out.pixels.data() + i * static_cast<std::size_t>(out_channels);
            o[0] = color::to_srgb8(rgb.r);
            o[1] = color::to_srgb8(rgb.g);
            o[2] = color::to_srgb8(rgb.b);
            if (alpha) o[3] = kept_alpha;
        }
    return image.channels == out_channels ? std::move(image) : std::move(grown);
}

/// predict_ab_map + join_lightness_and_ab: the photo colourised at its full resolution.
inline Image colorize(Colorizer& colorizer, Image image) {
    const Tensor<float> ab = predict_ab_map(colorizer, image);
    return join_lightness_and_ab(std::move(image), ab);
}

/// A copy at most `max_height` tall (a whole-factor box average, then area to the exact size is
/// not needed for previews), for side-by-side comparisons of large photos.
inline Image preview(const Image& image, int max_height) {
    detail::require_photo("preview", image);
    const int factor = std::max(1, (image.height + max_height - 1) / std::max(1, max_height));
    if (factor == 1) return image;
    Image out{.width = std::max(1, image.width / factor), .height = std::max(1, image.height / factor),
                    .channels = image.channels, .pixels = {}};
    out.pixels.resize(out.pixel_count() * static_cast<std::size_t>(out.channels));
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < out.channels; ++c) {
                unsigned sum = 0, n = 0;
                for (int dy = 0; dy < factor && y * factor + dy < image.height; ++dy)
                    for (int dx = 0; dx < factor && x * factor + dx < image.width; ++dx, ++n)
                        sum += image.pixels[(static_cast<std::size_t>(y * factor + dy) * image.width + x * factor + dx) *
                                                image.channels + c];
                out.pixels[(static_cast<std::size_t>(y) * out.width + x) * out.channels + c] =
                    static_cast<std::uint8_t>((sum + n / 2) / n);
            }
    return out;
}

/// The CIELAB lightness of a colour photo shown as grey (what the model was given), RGB.
inline Image lightness_picture(const Image& image) {
    return join_lightness_and_ab(image, Tensor<float>(Shape{.n = 1, .c = 2, .h = 1, .w = 1}));
}

}  // namespace chroma::inference
