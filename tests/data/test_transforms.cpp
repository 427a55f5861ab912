// Transforms: area and bilinear resizing against hand-computed values and PyTorch's
// interpolate, crops, flips, padding, fitting to a square, and CIELAB written into a batch.
#include <catch2/catch.hpp>

#include <chroma/data/loader.hpp>
#include <chroma/data/transforms.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/fixture.hpp"

using namespace chroma;
using namespace chroma::data;
using chroma::testing::Fixture;

namespace {

FloatImage grey(int width, int height, std::vector<float> values) {
    return FloatImage{.width = width, .height = height, .channels = 1, .values = std::move(values)};
}

FloatImage ramp(int width, int height, int channels) {
    FloatImage image{.width = width, .height = height, .channels = channels, .values = {}};
    for (int i = 0; i < width * height * channels; ++i) image.values.push_back(static_cast<float>(i % 97) / 97.0f);
    return image;
}

// A fixture tensor [1, C, H, W] as an interleaved image.
FloatImage from_planes(const chroma::testing::FixtureTensor& t) {
    const Shape s = t.shape();
    FloatImage image{.width = static_cast<int>(s.w), .height = static_cast<int>(s.h), .channels = static_cast<int>(s.c),
                     .values = {}};
    image.values.resize(static_cast<std::size_t>(s.c * s.h * s.w));
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            for (int c = 0; c < image.channels; ++c)
                image.at(x, y, c) = static_cast<float>(t.values[static_cast<std::size_t>((c * s.h + y) * s.w + x)]);
    return image;
}

// Largest difference between two images of the same shape (REQUIREd).
double max_difference(const FloatImage& a, const FloatImage& b) {
    REQUIRE(a.width == b.width);
    REQUIRE(a.height == b.height);
    REQUIRE(a.channels == b.channels);
    REQUIRE(a.values.size() == b.values.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(a.values[i]) - static_cast<double>(b.values[i])));
    return worst;
}

// Every pixel holds its own coordinates, so a window's origin can be read from its first pixel.
FloatImage coordinates(int width, int height) {
    FloatImage image{.width = width, .height = height, .channels = 2, .values = {}};
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) image.values.insert(image.values.end(), {float(x), float(y)});
    return image;
}

}  // namespace

TEST_CASE("area resizing averages the covered input area, with fractional weights", "[transforms]") {
    // 2x2 -> 1x1: the mean.
    CHECK(resize(grey(2, 2, {0, 1, 2, 3}), 1, 1, ResizeFilter::area).values == std::vector<float>{1.5f});
    // 4x4 -> 2x2: block means.
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i);
    const FloatImage blocks = resize(grey(4, 4, v), 2, 2, ResizeFilter::area);
    CHECK(blocks.values == std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
    // 3 -> 2 in x: output 0 covers [0, 1.5): (a + b/2) / 1.5; output 1 covers [1.5, 3).
    const FloatImage thirds = resize(grey(3, 1, {3, 6, 9}), 2, 1, ResizeFilter::area);
    CHECK(thirds.values[0] == Approx((3 + 6 * 0.5) / 1.5));
    CHECK(thirds.values[1] == Approx((6 * 0.5 + 9) / 1.5));
    // A constant image stays constant at any size.
    const FloatImage flat = resize(grey(7, 5, std::vector<float>(35, 0.25f)), 3, 2);
    for (float x : flat.values) CHECK(x == Approx(0.25f));
}

TEST_CASE("bilinear resizing matches torch.nn.functional.interpolate(align_corners=False)", "[transforms]") {
    // torch: F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode='bilinear',
    // align_corners=False) gives rows [0, .25, .75, 1], [.5, .75, 1.25, 1.5], [1.5, ...], [2, ...].
    const FloatImage up = resize(grey(2, 2, {0, 1, 2, 3}), 4, 4, ResizeFilter::bilinear);
    const std::vector<float> torch = {0.0f, 0.25f, 0.75f, 1.0f, 0.5f, 0.75f, 1.25f, 1.5f,
                                      1.5f, 1.75f, 2.25f, 2.5f, 2.0f, 2.25f, 2.75f, 3.0f};
    REQUIRE(up.values.size() == torch.size());
    for (std::size_t i = 0; i < torch.size(); ++i) CHECK(up.values[i] == Approx(torch[i]));
    // 3 -> 5 in x, torch: [1.0, 1.4, 2.0, 2.6, 3.0] for input [1, 2, 3] (output 1 samples 1.5 * 0.6 - 0.5 = 0.4).
    const FloatImage wide = resize(grey(3, 1, {1, 2, 3}), 5, 1, ResizeFilter::bilinear);
    const std::vector<float> expected = {1.0f, 1.4f, 2.0f, 2.6f, 3.0f};
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(wide.values[i] == Approx(expected[i]));
    // automatic picks area to shrink, bilinear to grow.
    CHECK(resize(grey(2, 2, {0, 1, 2, 3}), 4, 4).values == up.values);
    CHECK_THROWS_AS(resize(up, 0, 3), usage_error);
}

TEST_CASE("resize_shorter_side keeps the aspect ratio; fit_square gives a square either way", "[transforms]") {
    const FloatImage landscape = ramp(300, 200, 3), portrait = ramp(120, 180, 3);
    const FloatImage a = resize_shorter_side(landscape, 64);
    CHECK(a.height == 64);
    CHECK(a.width == 96);
    const FloatImage b = resize_shorter_side(portrait, 64);
    CHECK(b.width == 64);
    CHECK(b.height == 96);
    for (const FitMode mode : {FitMode::crop, FitMode::pad})
        for (const auto* image : {&landscape, &portrait}) {
            const FloatImage fitted = fit_square(*image, 32, mode);
            CHECK(fitted.width == 32);
            CHECK(fitted.height == 32);
            CHECK(fitted.channels == 3);
        }
}

TEST_CASE("crops, flips and padding move pixels exactly", "[transforms]") {
    const FloatImage image = ramp(6, 4, 2);
    const FloatImage window = crop(image, 1, 2, 3, 2);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x)
            for (int c = 0; c < 2; ++c) CHECK(window.at(x, y, c) == image.at(x + 1, y + 2, c));
    CHECK(centre_crop(image, 2, 2).at(0, 0, 1) == image.at(2, 1, 1));
    CHECK_THROWS_WITH(crop(image, 5, 0, 3, 2), Catch::Contains("does not fit in a 6 x 4 image"));

    const FloatImage flipped = flip_horizontal(image);
    CHECK(flipped.at(0, 3, 1) == image.at(5, 3, 1));
    CHECK(flip_horizontal(flipped).values == image.values);

    const FloatImage square = pad_to_square(image, 0.5f);
    CHECK(square.width == 6);
    CHECK(square.height == 6);
    CHECK(square.at(3, 0, 0) == 0.5f);               // the top padding row
    CHECK(square.at(4, 2, 1) == image.at(4, 1, 1));  // the image starts one row down
    CHECK(square.at(2, 5, 0) == 0.5f);
}

TEST_CASE("random crops and flips are deterministic per generator state and stay inside", "[transforms]") {
    const FloatImage image = ramp(64, 64, 3);
    Rng a(3), b(3), c(4);
    bool differs = false;
    for (int i = 0; i < 20; ++i) {
        const FloatImage x = random_flip(random_crop(image, 56, 56, a), a);
        const FloatImage y = random_flip(random_crop(image, 56, 56, b), b);
        const FloatImage z = random_flip(random_crop(image, 56, 56, c), c);
        CHECK(x.values == y.values);
        CHECK(x.width == 56);
        differs = differs || x.values != z.values;
    }
    CHECK(differs);
    // Every position is reachable: with room 1, both offsets occur.
    const FloatImage small = ramp(3, 1, 1);
    Rng rng(9);
    std::set<float> firsts;
    for (int i = 0; i < 50; ++i) firsts.insert(random_crop(small, 2, 1, rng).values[0]);
    CHECK(firsts.size() == 2);
    CHECK_THROWS_AS(random_crop(small, 4, 1, rng), shape_error);
}

TEST_CASE("to_rgb repeats grey and drops alpha; write_lab gives CIELAB in a batch slot", "[transforms]") {
    const FloatImage ga{.width = 1, .height = 1, .channels = 2, .values = {0.25f, 0.9f}};
    CHECK(to_rgb(ga).values == std::vector<float>{0.25f, 0.25f, 0.25f});

    // White, pure sRGB red and black (skimage.color.rgb2lab: red = 53.2408, 80.0925, 67.2032).
    const FloatImage pixels{.width = 3, .height = 1, .channels = 3, .values = {1, 1, 1, 1, 0, 0, 0, 0, 0}};
    Tensor<float> lightness(Shape{.n = 2, .c = 1, .h = 1, .w = 3}), ab(Shape{.n = 2, .c = 2, .h = 1, .w = 3});
    write_lab(pixels, lightness, ab, 1);
    CHECK(lightness(1, 0, 0, 0) == Approx(100.0).margin(1e-3));
    CHECK(ab(1, 0, 0, 0) == Approx(0.0).margin(1e-2));
    CHECK(ab(1, 1, 0, 0) == Approx(0.0).margin(1e-2));
    CHECK(lightness(1, 0, 0, 1) == Approx(53.2408).margin(1e-2));
    CHECK(ab(1, 0, 0, 1) == Approx(80.0925).margin(1e-2));
    CHECK(ab(1, 1, 0, 1) == Approx(67.2032).margin(1e-2));
    CHECK(lightness(1, 0, 0, 2) == Approx(0.0).margin(1e-4));
    CHECK(lightness(0, 0, 0, 1) == 0.0f);  // slot 0 untouched
    CHECK_THROWS_WITH(write_lab(pixels, lightness, ab, 2), Catch::Contains("slot 2"));
    Tensor<float> wrong(Shape{.n = 2, .c = 1, .h = 2, .w = 3});
    CHECK_THROWS_AS(write_lab(pixels, wrong, ab, 0), shape_error);
}

TEST_CASE("resizing matches PyTorch's bilinear and the exact area average on a fixture", "[transforms]") {
    // tests/reference/transform_fixtures.py: F.interpolate(bilinear, align_corners=False) and the
    // area average by integration; F.interpolate(area) for an integer factor.
    const Fixture fixture("transforms_resize");
    const FloatImage input = from_planes(fixture["input"]);
    REQUIRE(input.width == 7);
    REQUIRE(input.height == 5);
    for (const auto& [h, w] : {std::pair{9, 11}, {3, 4}, {2, 3}, {10, 3}, {4, 6}}) {
        const std::string size = std::to_string(h) + "x" + std::to_string(w);
        INFO("bilinear to " << size);
        CHECK(max_difference(resize(input, w, h, ResizeFilter::bilinear), from_planes(fixture["bilinear." + size])) <
              1e-6);
    }
    for (const auto& [h, w] : {std::pair{3, 4}, {2, 3}, {4, 6}, {1, 1}}) {
        const std::string size = std::to_string(h) + "x" + std::to_string(w);
        INFO("area to " << size);
        const FloatImage expected = from_planes(fixture["area." + size]);
        CHECK(max_difference(resize(input, w, h, ResizeFilter::area), expected) < 1e-6);
        CHECK(max_difference(resize(input, w, h), expected) < 1e-6);  // automatic: both sides shrink
    }
    CHECK(max_difference(resize(from_planes(fixture["square_input"]), 3, 4, ResizeFilter::area),
                         from_planes(fixture["square_area.4x3"])) < 1e-6);
}

TEST_CASE("automatic resizing chooses per axis: area where it shrinks, bilinear where it grows", "[transforms]") {
    const FloatImage image = ramp(7, 5, 3);
    const FloatImage mixed = resize(image, 3, 9);
    const FloatImage by_hand = resize(resize(image, 3, 5, ResizeFilter::area), 3, 9, ResizeFilter::bilinear);
    CHECK(max_difference(mixed, by_hand) < 1e-6);
    CHECK(max_difference(mixed, resize(image, 3, 9, ResizeFilter::bilinear)) > 1e-3);  // not plain bilinear
    // The same size is the same image, whatever the filter.
    CHECK(resize(image, 7, 5, ResizeFilter::bilinear).values == image.values);
    CHECK(resize(image, 7, 5, ResizeFilter::area).values == image.values);
    // Sizes and inconsistent images are refused.
    CHECK_THROWS_WITH(resize(image, 3, -1), Catch::Contains("3 x -1"));
    FloatImage broken = image;
    broken.values.pop_back();
    CHECK_THROWS_WITH(resize(broken, 2, 2), Catch::Contains("needs 105 values, it has 104"));
    CHECK_THROWS_AS(resize(FloatImage{}, 2, 2), usage_error);
}

TEST_CASE("resize_shorter_side rounds the longer side to the nearest pixel", "[transforms]") {
    const FloatImage wide = resize_shorter_side(ramp(10, 7, 1), 4);  // 10 * 4 / 7 = 5.71
    CHECK(wide.width == 6);
    CHECK(wide.height == 4);
    const FloatImage tall = resize_shorter_side(ramp(2, 3, 1), 3);  // grows: 3 * 3 / 2 = 4.5
    CHECK(tall.width == 3);
    CHECK(tall.height == 5);
    const FloatImage square = resize_shorter_side(ramp(6, 6, 2), 4);
    CHECK(square.width == 4);
    CHECK(square.height == 4);
    CHECK_THROWS_AS(resize_shorter_side(square, 0), usage_error);
}

TEST_CASE("crop checks its window; centre_crop leaves an odd margin's extra pixel right and below",
          "[transforms]") {
    const FloatImage image = coordinates(5, 4);
    CHECK_THROWS_AS(crop(image, 0, 0, 0, 2), usage_error);
    CHECK_THROWS_AS(crop(image, -1, 0, 2, 2), shape_error);
    CHECK_THROWS_WITH(crop(image, 0, 3, 2, 2), Catch::Contains("2 x 2") && Catch::Contains("5 x 4"));
    CHECK(crop(image, 0, 0, 5, 4).values == image.values);
    const FloatImage centre = centre_crop(image, 2, 1);  // margins 3 and 3: offsets 1 and 1
    CHECK(centre.at(0, 0, 0) == 1.0f);
    CHECK(centre.at(0, 0, 1) == 1.0f);
    CHECK_THROWS_WITH(centre_crop(image, 6, 1), Catch::Contains("6 x 1") && Catch::Contains("5 x 4"));
}

TEST_CASE("random crops of seed 001's sizes are windows of the image, reproducible from the seed", "[transforms]") {
    for (const auto& [side, cropped] : {std::pair{64, 56}, {256, 176}}) {
        const FloatImage image = coordinates(side, side);
        Rng rng(1), again(1);
        std::set<std::pair<int, int>> origins;
        for (int i = 0; i < 30; ++i) {
            const FloatImage window = random_crop(image, cropped, cropped, rng);
            REQUIRE(window.width == cropped);
            REQUIRE(window.height == cropped);
            const int x = static_cast<int>(window.at(0, 0, 0)), y = static_cast<int>(window.at(0, 0, 1));
            REQUIRE(x >= 0);
            REQUIRE(y >= 0);
            REQUIRE(x + cropped <= side);
            REQUIRE(y + cropped <= side);
            CHECK(window.values == crop(image, x, y, cropped, cropped).values);
            CHECK(random_crop(image, cropped, cropped, again).values == window.values);
            origins.insert({x, y});
        }
        CHECK(origins.size() > 20);  // 30 draws over 9^2 or 81^2 positions rarely repeat
    }
    // Flips: both outcomes occur, in the same order for the same seed.
    const FloatImage image = coordinates(3, 1);
    Rng a(5), b(5);
    int flipped = 0;
    for (int i = 0; i < 40; ++i) {
        const FloatImage x = random_flip(image, a);
        CHECK(random_flip(image, b).values == x.values);
        flipped += x.values == flip_horizontal(image).values ? 1 : 0;
    }
    CHECK(flipped > 5);
    CHECK(flipped < 35);
}

TEST_CASE("random resized squares are windows of 0.6 to all of the shorter side, zoomed to the size", "[transforms]") {
    // A 224 x 180 image of coordinates: area-resizing an s-pixel window from x0 to 160 pixels puts
    // x0 + (i + 0.5) s / 160 - 0.5 in output pixel i, so the window can be read back from the output.
    const FloatImage image = coordinates(224, 180);
    const int size = 160;
    Rng rng(3), again(3);
    std::set<int> sides;
    for (int i = 0; i < 40; ++i) {
        const FloatImage out = random_resized_square(image, size, 0.6, rng);
        REQUIRE(out.width == size);
        REQUIRE(out.height == size);
        CHECK(random_resized_square(image, size, 0.6, again).values == out.values);
        const double x_span = out.at(size - 1, 0, 0) - out.at(0, 0, 0);
        const double y_span = out.at(0, size - 1, 1) - out.at(0, 0, 1);
        const double side = x_span * size / (size - 1);
        CHECK(y_span == Approx(x_span).margin(1e-3));  // square
        CHECK(side >= 0.6 * 180 - 1);
        CHECK(side <= 180 + 1e-3);
        const double x0 = out.at(0, 0, 0) + 0.5 - 0.5 * side / size, y0 = out.at(0, 0, 1) + 0.5 - 0.5 * side / size;
        CHECK(x0 >= -1e-3);
        CHECK(y0 >= -1e-3);
        CHECK(x0 + side <= 224 + 1e-3);
        CHECK(y0 + side <= 180 + 1e-3);
        sides.insert(static_cast<int>(std::lround(side)));
    }
    CHECK(sides.size() > 15);  // 40 draws over 72 possible sides
    // The whole shorter side at min_fraction 1: a square image comes back as it was.
    const FloatImage square = coordinates(size, size);
    CHECK(random_resized_square(square, size, 1.0, rng).values == square.values);
    CHECK_THROWS_WITH(random_resized_square(image, size, 0.0, rng), Catch::Contains("min_fraction"));
    CHECK_THROWS_AS(random_resized_square(image, size, 1.5, rng), usage_error);
    CHECK_THROWS_AS(scale_augmented_training_transform(0, 0.6), usage_error);
}

TEST_CASE("pad_to_square centres portrait and landscape images and fills every channel", "[transforms]") {
    FloatImage portrait = ramp(3, 5, 2);
    const FloatImage square = pad_to_square(portrait, 0.75f);
    REQUIRE(square.width == 5);
    REQUIRE(square.height == 5);
    for (int y = 0; y < 5; ++y)
        for (int c = 0; c < 2; ++c) {
            CHECK(square.at(0, y, c) == 0.75f);
            CHECK(square.at(4, y, c) == 0.75f);
            for (int x = 0; x < 3; ++x) CHECK(square.at(x + 1, y, c) == portrait.at(x, y, c));
        }
    // An odd margin: 4 x 1 puts one row above, two below. Seed 002 pads with zeros (the default).
    const FloatImage strip = pad_to_square(ramp(4, 1, 1));
    REQUIRE(strip.height == 4);
    CHECK(strip.at(2, 0, 0) == 0.0f);
    CHECK(strip.at(2, 1, 0) == ramp(4, 1, 1).at(2, 0, 0));
    CHECK(strip.at(2, 2, 0) == 0.0f);
    CHECK(strip.at(2, 3, 0) == 0.0f);
    CHECK(pad_to_square(square).values == square.values);
}

TEST_CASE("fit_square: crop takes the centre of the resized image, pad keeps all of it", "[transforms]") {
    // 8 x 4, white: padded to 8 x 8 then shrunk to 4 x 4, rows 0 and 3 are black, 1 and 2 white.
    const FloatImage white{.width = 8, .height = 4, .channels = 3, .values = std::vector<float>(96, 1.0f)};
    const FloatImage padded = fit_square(white, 4, FitMode::pad);
    REQUIRE(padded.width == 4);
    REQUIRE(padded.height == 4);
    for (int x = 0; x < 4; ++x)
        for (int c = 0; c < 3; ++c) {
            CHECK(padded.at(x, 0, c) == Approx(0.0f).margin(1e-6));
            CHECK(padded.at(x, 1, c) == Approx(1.0f));
            CHECK(padded.at(x, 2, c) == Approx(1.0f));
            CHECK(padded.at(x, 3, c) == Approx(0.0f).margin(1e-6));
        }
    // Already at the size on its shorter side: crop is the centre 4 x 4, untouched.
    const FloatImage image = ramp(8, 4, 3);
    CHECK(fit_square(image, 4, FitMode::crop).values == crop(image, 2, 0, 4, 4).values);
    const FloatImage portrait = fit_square(ramp(5, 9, 1), 3, FitMode::crop);
    CHECK(portrait.width == 3);
    CHECK(portrait.height == 3);
    CHECK_THROWS_AS(fit_square(image, 0, FitMode::pad), usage_error);
}

TEST_CASE("to_rgb from 1, 3 and 4 channels; write_lab checks and names shapes", "[transforms]") {
    const FloatImage g = grey(2, 1, {0.1f, 0.9f});
    CHECK(to_rgb(g).values == std::vector<float>{0.1f, 0.1f, 0.1f, 0.9f, 0.9f, 0.9f});
    const FloatImage rgba{.width = 1, .height = 1, .channels = 4, .values = {0.1f, 0.2f, 0.3f, 0.4f}};
    CHECK(to_rgb(rgba).values == std::vector<float>{0.1f, 0.2f, 0.3f});
    CHECK(to_rgb(to_rgb(rgba)).values == to_rgb(rgba).values);
    const FloatImage five{.width = 1, .height = 1, .channels = 5, .values = std::vector<float>(5, 0.0f)};
    CHECK_THROWS_AS(to_rgb(five), shape_error);

    // skimage.color.rgb2lab: mid grey (53.3890, 0, 0), blue (32.2957, 79.1856, -107.8573),
    // (0.2, 0.6, 0.3) -> (56.1016, -46.2386, 31.6752).
    const FloatImage colours{.width = 1, .height = 3, .channels = 3,
                             .values = {0.5f, 0.5f, 0.5f, 0.0f, 0.0f, 1.0f, 0.2f, 0.6f, 0.3f}};
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 3, .w = 1}), ab(Shape{.n = 1, .c = 2, .h = 3, .w = 1});
    write_lab(colours, lightness, ab, 0);
    const double expected[3][3] = {{53.3890, 0.0, 0.0}, {32.2957, 79.1856, -107.8573}, {56.1016, -46.2386, 31.6752}};
    for (int y = 0; y < 3; ++y) {
        CHECK(lightness(0, 0, y, 0) == Approx(expected[y][0]).margin(1e-2));
        CHECK(ab(0, 0, y, 0) == Approx(expected[y][1]).margin(1e-2));
        CHECK(ab(0, 1, y, 0) == Approx(expected[y][2]).margin(1e-2));
    }
    Tensor<float> transposed(Shape{.n = 1, .c = 1, .h = 1, .w = 3});
    CHECK_THROWS_WITH(write_lab(colours, transposed, ab, 0),
                      Catch::Contains("[N=1, C=1, H=1, W=3]") && Catch::Contains("[N=1, C=2, H=3, W=1]"));
    CHECK_THROWS_AS(write_lab(g, lightness, ab, 0), shape_error);
    CHECK_THROWS_AS(write_lab(colours, lightness, ab, -1), usage_error);
}
