#pragma once
// Points of colour a person gives a user-guided model (models::Siggraph17Network), in the
// photo's own pixel coordinates, and how they reach the network at its smaller input size.
//
//   read_hint_points(file, width, height)  a hints file (below), checked against the photo
//   sample_hint_points(reference, count)   points taken from a colour photo (the demo and the
//                                          evaluation: "what if a person gave N true colours"),
//                                          hint_radius_for their size
//   rasterize_hints(points, ...)           the hint ab and mask at the model's input size
//   mark_hint_points(picture, points, ...) where the points are, drawn on a picture
//
// A hints file is JSON: {"points": [{"x": 120, "y": 64, "rgb": [40, 90, 200], "radius": 4},
// {"x": 30, "y": 200, "lab": [55, -30, 40]}, {"x": 5, "y": 9, "rgb": "#2860c8"}]}. x and y are
// pixels from the top-left corner (fractions allowed); the colour is sRGB (0-255, or #rrggbb) or
// CIELAB, of which only the chroma (a, b) is used: the photo keeps its own lightness. radius
// (pixels, default 0) makes the point a square of side 2 radius + 1; every point covers at least
// the one model pixel it falls in.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../color/lab.hpp"
#include "../color/lab_space.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../data/hints.hpp"
#include "../data/image.hpp"
#include "../io/json_lite.hpp"

namespace chroma::inference {

struct HintPoint {
    double x = 0, y = 0;  // photo pixels from the top-left corner
    double radius = 0;    // half the side of the square it covers, in photo pixels
    float a = 0, b = 0;   // the chroma it asks for, CIELAB
};

namespace detail {

inline float hint_number(const io::json::value& v, const std::string& where, const std::string& field) {
    if (!v.is_number()) throw io::file_error(where + ": '" + field + "' must be a number");
    const double number = v.as_number();
    if (!std::isfinite(number)) throw io::file_error(where + ": '" + field + "' is not finite");
    return static_cast<float>(number);
}

/// The a, b of an sRGB colour given as [r, g, b] (0-255) or "#rrggbb".
inline void hint_ab_from_rgb(const io::json::value& v, const std::string& where, HintPoint& point) {
    float rgb[3] = {0, 0, 0};
    if (v.is_string()) {
        const std::string& text = v.as_string();
        const bool hex = text.size() == 7 && text[0] == '#' &&
                         std::all_of(text.begin() + 1, text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
        if (!hex) throw io::file_error(where + ": 'rgb' text must be #rrggbb, got '" + text + "'");
        for (int c = 0; c < 3; ++c) rgb[c] = static_cast<float>(std::stoi(text.substr(1 + 2 * c, 2), nullptr, 16));
    } else if (v.is_array() && v.as_array().size() == 3) {
        for (int c = 0; c < 3; ++c) {
            rgb[c] = hint_number(v.as_array()[static_cast<std::size_t>(c)], where, "rgb");
            if (!(rgb[c] >= 0.0f && rgb[c] <= 255.0f)) throw io::file_error(where + ": 'rgb' values must be 0 to 255");
        }
    } else {
        throw io::file_error(where + ": 'rgb' must be [r, g, b] (0-255) or \"#rrggbb\"");
    }
    const auto lab = color::srgb_to_lab(color::Rgb<float>{rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f},
                                        color::lab_space<float>());
    point.a = lab.a;
    point.b = lab.b;
}

}  // namespace detail

/// The points of a hints file (format above), each checked to lie inside a width x height photo.
/// Errors name the file and the point (counting from 1).
inline std::vector<HintPoint> read_hint_points(const std::filesystem::path& file, int width, int height) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw io::file_error(file.string() + ": cannot read the hints file");
    std::ostringstream text;
    text << in.rdbuf();
    const io::json::value document = io::json::parse(text.str(), file.string());
    if (!document.is_object() || !document.as_object().contains("points") ||
        !document.as_object().at("points").is_array())
        throw io::file_error(file.string() + ": a hints file is an object with a \"points\" array");
    std::vector<HintPoint> points;
    const auto& list = document.as_object().at("points").as_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string where = file.string() + ": point " + std::to_string(i + 1);
        if (!list[i].is_object()) throw io::file_error(where + " is not an object");
        const auto& fields = list[i].as_object();
        for (const auto& [name, value] : fields)
            if (name != "x" && name != "y" && name != "rgb" && name != "lab" && name != "radius")
                throw io::file_error(where + ": unknown field '" + name + "' (x, y, rgb or lab, radius)");
        if (!fields.contains("x") || !fields.contains("y")) throw io::file_error(where + " needs x and y");
        HintPoint point;
        point.x = detail::hint_number(fields.at("x"), where, "x");
        point.y = detail::hint_number(fields.at("y"), where, "y");
        if (!(point.x >= 0 && point.x < width && point.y >= 0 && point.y < height))
            throw io::file_error(where + " at (" + std::to_string(point.x) + ", " + std::to_string(point.y) +
                                 ") is outside the " + std::to_string(width) + " x " + std::to_string(height) + " photo");
        if (fields.contains("radius")) {
            point.radius = detail::hint_number(fields.at("radius"), where, "radius");
            if (!(point.radius >= 0)) throw io::file_error(where + ": 'radius' must be 0 or more");
        }
        if (fields.contains("rgb") == fields.contains("lab"))
            throw io::file_error(where + " needs one colour: \"rgb\" or \"lab\"");
        if (fields.contains("rgb")) {
            detail::hint_ab_from_rgb(fields.at("rgb"), where, point);
        } else {
            const auto& lab = fields.at("lab");
            if (!lab.is_array() || lab.as_array().size() != 3) throw io::file_error(where + ": 'lab' must be [L, a, b]");
            point.a = detail::hint_number(lab.as_array()[1], where, "lab");
            point.b = detail::hint_number(lab.as_array()[2], where, "lab");
            if (std::abs(point.a) > 128 || std::abs(point.b) > 128)
                throw io::file_error(where + ": 'lab' a and b must lie in [-128, 128]");
        }
        points.push_back(point);
    }
    return points;
}

/// The hint ab (CIELAB) and mask [images,*,height,width] at a model's input size for points
/// given in a photo_width x photo_height photo, the same in every image. A point covers the model
/// pixels whose centres fall in its square, and at least the pixel it lies in; where points
/// overlap, the later one wins.
inline data::Hints rasterize_hints(const std::vector<HintPoint>& points, int photo_width, int photo_height, int width,
                                   int height, index_t images = 1) {
    if (photo_width < 1 || photo_height < 1 || width < 1 || height < 1 || images < 1)
        throw usage_error("rasterize_hints: sizes must be positive");
    data::Hints hints{Tensor<float>(Shape{.n = images, .c = 2, .h = height, .w = width}),
                      Tensor<float>(Shape{.n = images, .c = 1, .h = height, .w = width})};
    hints.ab.fill(0.0f);
    hints.mask.fill(0.0f);
    const double sx = static_cast<double>(width) / photo_width, sy = static_cast<double>(height) / photo_height;
    const index_t plane = static_cast<index_t>(width) * height;
    // The square spans photo coordinates [x - radius, x + radius + 1); model pixel m covers
    // [m / sx, (m + 1) / sx), so it is in when its centre (m + 0.5) / sx is.
    const auto first = [](double low, double scale) { return static_cast<int>(std::ceil(low * scale - 0.5)); };
    const auto last = [](double high, double scale) { return static_cast<int>(std::floor(high * scale - 0.5)); };
    for (const HintPoint& p : points) {
        const int cx = std::clamp(static_cast<int>(p.x * sx), 0, width - 1);
        const int cy = std::clamp(static_cast<int>(p.y * sy), 0, height - 1);
        const int x0 = std::clamp(std::min(cx, first(p.x - p.radius, sx)), 0, width - 1);
        const int x1 = std::clamp(std::max(cx, last(p.x + p.radius + 1, sx)), 0, width - 1);
        const int y0 = std::clamp(std::min(cy, first(p.y - p.radius, sy)), 0, height - 1);
        const int y1 = std::clamp(std::max(cy, last(p.y + p.radius + 1, sy)), 0, height - 1);
        for (index_t n = 0; n < images; ++n)
            for (int y = y0; y <= y1; ++y)
                for (int x = x0; x <= x1; ++x) {
                    const index_t i = static_cast<index_t>(y) * width + x;
                    hints.ab.data()[2 * n * plane + i] = p.a;
                    hints.ab.data()[(2 * n + 1) * plane + i] = p.b;
                    hints.mask.data()[n * plane + i] = 1.0f;
                }
    }
    return hints;
}

/// The radius, in photo pixels, that makes a point about 3 pixels wide at a model's input size
/// (native_size on the shorter side): the middle of the 1-9 px patches training reveals.
inline double hint_radius_for(int photo_width, int photo_height, int native_size) {
    const double photo_pixels_per_model_pixel =
        static_cast<double>(std::min(photo_width, photo_height)) / std::max(1, native_size);
    return std::max(0.0, std::round(1.5 * photo_pixels_per_model_pixel - 0.5));
}

/// `count` points taken from a colour photo: positions drawn as training draws them (a normal
/// around the middle, clamped inside), each asking for the mean a, b of the reference over a
/// square of side 2 radius + 1 photo pixels. The same seed gives the same points.
inline std::vector<HintPoint> sample_hint_points(const Image& reference, int count, double radius,
                                                 std::uint64_t seed = 1) {
    if (reference.channels < 3)
        throw usage_error("sample_hint_points: the reference must be a colour photo, not " +
                          std::to_string(reference.channels) + " channel(s)");
    if (count < 0 || !(radius >= 0)) throw usage_error("sample_hint_points: count and radius must be 0 or more");
    Rng rng(seed);
    const auto space = color::lab_space<float>();
    std::vector<HintPoint> points;
    for (int k = 0; k < count; ++k) {
        const auto position = [&](int size) {
            return std::clamp(std::floor(rng.normal(size / 2.0, size / 4.0)), 0.0, size - 1.0);
        };
        HintPoint p{.x = position(reference.width), .y = position(reference.height), .radius = radius};
        const int r = static_cast<int>(radius);
        double sum_a = 0, sum_b = 0;
        int pixels = 0;
        for (int y = std::max(0, static_cast<int>(p.y) - r); y <= std::min(reference.height - 1, static_cast<int>(p.y) + r); ++y)
            for (int x = std::max(0, static_cast<int>(p.x) - r); x <= std::min(reference.width - 1, static_cast<int>(p.x) + r); ++x) {
                const std::uint8_t* px = reference.pixels.data() +
                                         (static_cast<std::size_t>(y) * reference.width + x) * static_cast<std::size_t>(reference.channels);
                const auto lab = color::srgb_to_lab(color::Rgb<float>{px[0] / 255.0f, px[1] / 255.0f, px[2] / 255.0f}, space);
                sum_a += lab.a;
                sum_b += lab.b;
                ++pixels;
            }
        p.a = static_cast<float>(sum_a / pixels);
        p.b = static_cast<float>(sum_b / pixels);
        points.push_back(p);
    }
    return points;
}

/// Draws each point as a small black square outline ringed in white (seen on dark and light
/// photos alike) on a picture `scale` times the photo's size: where a person's colours went.
inline void mark_hint_points(Image& picture, const std::vector<HintPoint>& points, double scale) {
    const auto put = [&](int x, int y, std::uint8_t value) {
        if (x < 0 || y < 0 || x >= picture.width || y >= picture.height) return;
        std::uint8_t* p = picture.pixels.data() + (static_cast<std::size_t>(y) * picture.width + x) * picture.channels;
        for (int c = 0; c < std::min(3, picture.channels); ++c) p[c] = value;
    };
    for (const auto& point : points) {
        const int cx = static_cast<int>(point.x * scale), cy = static_cast<int>(point.y * scale);
        for (int d = -3; d <= 3; ++d) {
            put(cx + d, cy - 3, 0), put(cx + d, cy + 3, 0), put(cx - 3, cy + d, 0), put(cx + 3, cy + d, 0);
            put(cx + d, cy - 4, 255), put(cx + d, cy + 4, 255), put(cx - 4, cy + d, 255), put(cx + 4, cy + d, 255);
        }
    }
}

}  // namespace chroma::inference
