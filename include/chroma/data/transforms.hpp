#pragma once
// Image transforms for training and packing datasets: resizing, cropping, padding, flipping, and
// the conversion to the L and ab planes a network consumes. Each is a pure function on a
// FloatImage (float values in [0, 1], interleaved) returning a new image, for any channel count
// unless it says otherwise. An 8-bit Image goes through to_float (image.hpp) first; this header
// calls no stb, so the decoding stays in image.hpp.
//
// Bin targets for the classifiers are not made here: they come later from the ab planes, by
// color/encoding.hpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../color/lab.hpp"
#include "../color/lab_space.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "image.hpp"

namespace chroma::data {

/// How resize computes each output pixel.
enum class ResizeFilter {
    automatic,  // per axis: area where the axis shrinks, bilinear where it grows
    area,       // the exact average of the input area each output pixel covers (box filter)
    bilinear,   // half-pixel centres, no antialiasing: PyTorch's align_corners=False, cv2.INTER_LINEAR
};

/// Whether fit_square crops or pads an image that is not square.
enum class FitMode {
    crop,  // resize the shorter side to the size, then take the centre square
    pad,   // pad to a square (centred, black), then resize
};

namespace detail {

inline std::string image_size_text(const FloatImage& image) {
    return std::to_string(image.width) + " x " + std::to_string(image.height) + " x " + std::to_string(image.channels);
}

// Throws unless the image's sizes and values agree, so that the loops below never read outside it.
inline void check_image(const char* what, const FloatImage& image) {
    if (image.width <= 0 || image.height <= 0 || image.channels <= 0)
        throw usage_error(std::string(what) + ": the image is empty (" + image_size_text(image) + ")");
    if (image.values.size() != image.pixel_count() * static_cast<std::size_t>(image.channels))
        throw usage_error(std::string(what) + ": a " + image_size_text(image) + " image needs " +
                          std::to_string(image.pixel_count() * static_cast<std::size_t>(image.channels)) +
                          " values, it has " + std::to_string(image.values.size()));
}

inline void check_size(const char* what, int width, int height) {
    if (width <= 0 || height <= 0)
        throw usage_error(std::string(what) + ": the size must be positive, got " + std::to_string(width) + " x " +
                          std::to_string(height));
}

// Where pixel (x, y) of a width-wide image of `channels` channels starts in its values.
inline std::size_t value_offset(int width, int channels, int x, int y) {
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
           static_cast<std::size_t>(channels);
}

inline FloatImage blank_like(const FloatImage& image, int width, int height) {
    FloatImage out{.width = width, .height = height, .channels = image.channels, .values = {}};
    out.values.resize(out.pixel_count() * static_cast<std::size_t>(image.channels));
    return out;
}

// The input samples one output position reads along one axis, and their weights.
struct Taps {
    int first = 0;
    std::vector<float> weights;
};

// Area: output pixel i covers the input interval [i s, (i + 1) s) with s = in / out; each input
// pixel j weighs by the length of [j, j + 1) inside that interval, divided by s.
inline std::vector<Taps> area_taps(int in, int out) {
    std::vector<Taps> taps(static_cast<std::size_t>(out));
    const double scale = static_cast<double>(in) / out;
    for (int i = 0; i < out; ++i) {
        const double start = i * scale, end = std::min<double>((i + 1) * scale, in);
        Taps& t = taps[static_cast<std::size_t>(i)];
        t.first = std::min(static_cast<int>(std::floor(start)), in - 1);
        for (int j = t.first; j < in && j < end; ++j) {
            const double overlap = std::min<double>(j + 1, end) - std::max<double>(j, start);
            t.weights.push_back(static_cast<float>(std::max(overlap, 0.0) / scale));
        }
    }
    return taps;
}

// Bilinear with half-pixel centres: output i samples the input at (i + 0.5) s - 0.5, taken as 0
// below 0 and as the last sample beyond it (PyTorch's source index rule).
inline std::vector<Taps> bilinear_taps(int in, int out) {
    std::vector<Taps> taps(static_cast<std::size_t>(out));
    const double scale = static_cast<double>(in) / out;
    for (int i = 0; i < out; ++i) {
        const double source = std::max((i + 0.5) * scale - 0.5, 0.0);
        const int low = std::min(static_cast<int>(source), in - 1);
        const float fraction = low < in - 1 ? static_cast<float>(source - low) : 0.0f;
        Taps& t = taps[static_cast<std::size_t>(i)];
        t.first = low;
        t.weights = fraction > 0.0f ? std::vector<float>{1.0f - fraction, fraction} : std::vector<float>{1.0f};
    }
    return taps;
}

inline std::vector<Taps> axis_taps(int in, int out, ResizeFilter filter) {
    const bool area = filter == ResizeFilter::area || (filter == ResizeFilter::automatic && out < in);
    return area ? area_taps(in, out) : bilinear_taps(in, out);
}

}  // namespace detail

/// The image resized to width x height. Area averaging for shrinking (like cv2.INTER_AREA and
/// PIL's box filter, fractional weights at the borders for non-integer factors), bilinear for
/// growing; `automatic` chooses per axis, so a shrink in both directions is pure area and a growth
/// in both pure bilinear. Bilinear asked for a shrink does not antialias, as in PyTorch; area
/// asked for a growth still averages the area each output pixel covers (nearest neighbour with
/// blended edges, where OpenCV's INTER_AREA would switch to bilinear).
inline FloatImage resize(const FloatImage& image, int width, int height,
                         ResizeFilter filter = ResizeFilter::automatic) {
    detail::check_image("resize", image);
    detail::check_size("resize", width, height);
    if (width == image.width && height == image.height) return image;
    const std::size_t channels = static_cast<std::size_t>(image.channels);
    const auto columns = detail::axis_taps(image.width, width, filter);
    const auto rows = detail::axis_taps(image.height, height, filter);

    // Separable: along rows into width x in-height, then along columns.
    FloatImage across = detail::blank_like(image, width, image.height);
    for (int y = 0; y < image.height; ++y) {
        const float* in = image.values.data() + detail::value_offset(image.width, image.channels, 0, y);
        float* out = across.values.data() + detail::value_offset(width, image.channels, 0, y);
        for (int x = 0; x < width; ++x) {
            const detail::Taps& t = columns[static_cast<std::size_t>(x)];
            for (std::size_t k = 0; k < t.weights.size(); ++k) {
                const float* source = in + (static_cast<std::size_t>(t.first) + k) * channels;
                for (std::size_t c = 0; c < channels; ++c) out[static_cast<std::size_t>(x) * channels + c] += t.weights[k] * source[c];
            }
        }
    }
    FloatImage out = detail::blank_like(image, width, height);
    const std::size_t row_values = static_cast<std::size_t>(width) * channels;
    for (int y = 0; y < height; ++y) {
        const detail::Taps& t = rows[static_cast<std::size_t>(y)];
        float* target = out.values.data() + static_cast<std::size_t>(y) * row_values;
        for (std::size_t k = 0; k < t.weights.size(); ++k) {
            const float* source = across.values.data() + (static_cast<std::size_t>(t.first) + k) * row_values;
            for (std::size_t i = 0; i < row_values; ++i) target[i] += t.weights[k] * source[i];
        }
    }
    return out;
}

/// The image resized so that its shorter side is `size`, the longer one keeping the aspect ratio
/// (rounded to the nearest pixel, at least 1).
inline FloatImage resize_shorter_side(const FloatImage& image, int size, ResizeFilter filter = ResizeFilter::automatic) {
    detail::check_image("resize_shorter_side", image);
    detail::check_size("resize_shorter_side", size, size);
    const auto longer = [&](int along, int shorter) {
        return std::max(1, static_cast<int>(std::lround(static_cast<double>(along) * size / shorter)));
    };
    if (image.width <= image.height) return resize(image, size, longer(image.height, image.width), filter);
    return resize(image, longer(image.width, image.height), size, filter);
}

/// The width x height window whose top-left pixel is (x, y). Throws usage_error for a size that is
/// not positive and shape_error for a window that reaches outside the image.
inline FloatImage crop(const FloatImage& image, int x, int y, int width, int height) {
    detail::check_image("crop", image);
    detail::check_size("crop", width, height);
    if (x < 0 || y < 0 || width > image.width - x || height > image.height - y)
        throw shape_error("crop: the " + std::to_string(width) + " x " + std::to_string(height) + " window at (" +
                          std::to_string(x) + ", " + std::to_string(y) + ") does not fit in a " +
                          std::to_string(image.width) + " x " + std::to_string(image.height) + " image");
    FloatImage out = detail::blank_like(image, width, height);
    const std::size_t row_values = static_cast<std::size_t>(width) * static_cast<std::size_t>(image.channels);
    for (int row = 0; row < height; ++row)
        std::copy_n(image.values.data() + detail::value_offset(image.width, image.channels, x, y + row), row_values,
                    out.values.data() + detail::value_offset(width, image.channels, 0, row));
    return out;
}

/// The centred width x height window (an odd margin leaves the extra pixel on the right / bottom).
inline FloatImage centre_crop(const FloatImage& image, int width, int height) {
    detail::check_image("centre_crop", image);
    detail::check_size("centre_crop", width, height);
    if (width > image.width || height > image.height)
        throw shape_error("centre_crop: cannot take " + std::to_string(width) + " x " + std::to_string(height) +
                          " from a " + std::to_string(image.width) + " x " + std::to_string(image.height) + " image");
    return crop(image, (image.width - width) / 2, (image.height - height) / 2, width, height);
}

/// A width x height window at a uniformly random position inside the image (seed 001's
/// augmentation: 64 -> 56 and 256 -> 176). Draws x then y from `rng`, so the same generator state
/// gives the same window.
inline FloatImage random_crop(const FloatImage& image, int width, int height, Rng& rng) {
    detail::check_image("random_crop", image);
    detail::check_size("random_crop", width, height);
    if (width > image.width || height > image.height)
        throw shape_error("random_crop: cannot take " + std::to_string(width) + " x " + std::to_string(height) +
                          " from a " + std::to_string(image.width) + " x " + std::to_string(image.height) + " image");
    const auto position = [&](int room) {  // uniform over 0 .. room
        return std::min(static_cast<int>(rng.uniform() * (room + 1)), room);
    };
    const int x = position(image.width - width);
    const int y = position(image.height - height);
    return crop(image, x, y, width, height);
}

/// Scale augmentation: a square window whose side is a uniformly drawn fraction in [min_fraction, 1]
/// of the image's shorter side, at a uniformly random position, resized to size x size. A photo
/// packed at 224 px and trained at 160 is then seen whole at one epoch and zoomed up to
/// 1 / min_fraction at another, where a fixed crop would show the same view every time. Draws the
/// side, then x, then y from `rng`.
inline FloatImage random_resized_square(const FloatImage& image, int size, double min_fraction, Rng& rng) {
    detail::check_image("random_resized_square", image);
    detail::check_size("random_resized_square", size, size);
    if (!(min_fraction > 0.0 && min_fraction <= 1.0))
        throw usage_error("random_resized_square: min_fraction must be in (0, 1], got " + std::to_string(min_fraction));
    const int shorter = std::min(image.width, image.height);
    const double fraction = min_fraction + (1.0 - min_fraction) * rng.uniform();
    const int side = std::clamp(static_cast<int>(std::lround(fraction * shorter)), 1, shorter);
    return resize(random_crop(image, side, side, rng), size, size);
}

/// The mirror image, left and right exchanged.
inline FloatImage flip_horizontal(const FloatImage& image) {
    detail::check_image("flip_horizontal", image);
    FloatImage out = detail::blank_like(image, image.width, image.height);
    const std::size_t channels = static_cast<std::size_t>(image.channels);
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) {
            std::copy_n(image.values.data() + detail::value_offset(image.width, image.channels, x, y), channels,
                        out.values.data() + detail::value_offset(image.width, image.channels, image.width - 1 - x, y));
        }
    return out;
}

/// flip_horizontal with probability 0.5; always draws one number from `rng`.
inline FloatImage random_flip(const FloatImage& image, Rng& rng) {
    return rng.uniform() < 0.5 ? flip_horizontal(image) : image;
}

/// The image centred on a max(width, height) square, the margins filled with `fill` in every
/// channel. Seed 002 pads its photos to squares with zeros (black), the default here.
inline FloatImage pad_to_square(const FloatImage& image, float fill = 0.0f) {
    detail::check_image("pad_to_square", image);
    const int side = std::max(image.width, image.height);
    FloatImage out = detail::blank_like(image, side, side);
    std::fill(out.values.begin(), out.values.end(), fill);
    const int left = (side - image.width) / 2, top = (side - image.height) / 2;
    const std::size_t row_values = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels);
    for (int y = 0; y < image.height; ++y)
        std::copy_n(image.values.data() + detail::value_offset(image.width, image.channels, 0, y), row_values,
                    out.values.data() + detail::value_offset(side, image.channels, left, top + y));
    return out;
}

/// A size x size image, for packing a dataset at one size: `crop` resizes the shorter side to
/// `size` and takes the centre; `pad` pads to a black square and resizes it.
inline FloatImage fit_square(const FloatImage& image, int size, FitMode mode) {
    detail::check_size("fit_square", size, size);
    if (mode == FitMode::pad) return resize(pad_to_square(image), size, size);
    return centre_crop(resize_shorter_side(image, size), size, size);
}

/// Three channels: grey (1) and grey + alpha (2) repeat the grey, RGBA drops the alpha, RGB is
/// returned as it is. Alpha is dropped, not blended with a background.
inline FloatImage to_rgb(const FloatImage& image) {
    detail::check_image("to_rgb", image);
    if (image.channels == 3) return image;
    if (image.channels > 4)
        throw shape_error("to_rgb: expects 1 to 4 channels, got a " + detail::image_size_text(image) + " image");
    FloatImage out{.width = image.width, .height = image.height, .channels = 3, .values = {}};
    out.values.resize(image.pixel_count() * 3);
    const std::size_t channels = static_cast<std::size_t>(image.channels);
    const bool grey = image.channels <= 2;
    for (std::size_t p = 0; p < image.pixel_count(); ++p)
        for (std::size_t c = 0; c < 3; ++c) out.values[p * 3 + c] = image.values[p * channels + (grey ? 0 : c)];
    return out;
}

/// Converts an sRGB image (3 channels, values in [0, 1], clamped) to CIELAB and writes L (in
/// [0, 100]) into lightness[slot, 0] and a, b into ab[slot, 0] and ab[slot, 1]. lightness must be
/// [N,1,H,W] and ab [N,2,H,W] with the image's H and W and slot < N: the caller allocates the
/// batch once and fills it image by image. The white point as in color/lab_space.hpp.
inline void write_lab(const FloatImage& rgb, Tensor<float>& lightness, Tensor<float>& ab, index_t slot,
                      color::WhitePoint white = color::WhitePoint::d65) {
    detail::check_image("write_lab", rgb);
    if (rgb.channels != 3)
        throw shape_error("write_lab: expects an RGB image (3 channels), got " + detail::image_size_text(rgb) +
                          "; convert it with to_rgb first");
    const Shape l = lightness.shape(), c = ab.shape();
    if (l.c != 1 || c.c != 2 || l.h != rgb.height || l.w != rgb.width || c.h != rgb.height || c.w != rgb.width)
        throw shape_error("write_lab: a " + std::to_string(rgb.width) + " x " + std::to_string(rgb.height) +
                          " image needs lightness [N,1,H=" + std::to_string(rgb.height) +
                          ",W=" + std::to_string(rgb.width) + "] and ab [N,2,H=" + std::to_string(rgb.height) +
                          ",W=" + std::to_string(rgb.width) + "], got " + l.str() + " and " + c.str());
    if (slot < 0 || slot >= l.n || slot >= c.n)
        throw usage_error("write_lab: slot " + std::to_string(slot) + " is outside the batch of lightness " + l.str() +
                          " and ab " + c.str());
    const color::LabSpace<float> space = color::lab_space<float>(white);
    const std::size_t plane = rgb.pixel_count();
    float* out_l = lightness.data() + slot * l.per_sample();
    float* out_a = ab.data() + slot * c.per_sample();
    float* out_b = out_a + plane;
    for (std::size_t p = 0; p < plane; ++p) {
        const float* v = rgb.values.data() + p * 3;
        const color::Lab<float> lab = color::srgb_to_lab(color::Rgb<float>{v[0], v[1], v[2]}, space);
        out_l[p] = lab.l;
        out_a[p] = lab.a;
        out_b[p] = lab.b;
    }
}

}  // namespace chroma::data
