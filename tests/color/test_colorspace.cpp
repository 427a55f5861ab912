// sRGB <-> CIELAB: agreement with scikit-image, round trips over the sRGB cube, the D50 white by
// Bradford adaptation, defined results for NaN and infinity, the named normalisations, and the
// errors of the whole-image conversions.
#include <catch2/catch.hpp>

#include <chroma/color/conversion.hpp>
#include <chroma/color/fast_math.hpp>
#include <chroma/color/lab.hpp>
#include <chroma/color/normalization.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/fixture.hpp"

using namespace chroma;
using namespace chroma::color;
using chroma::testing::Fixture;

namespace {

// A fixture's (count, 3) table as a planar [1,3,1,count] tensor.
template <class T>
Tensor<T> planar(const chroma::testing::FixtureTensor& table) {
    const index_t count = table.dims.at(0);
    Tensor<T> t(Shape{.n = 1, .c = 3, .h = 1, .w = count});
    for (index_t i = 0; i < count; ++i)
        for (index_t c = 0; c < 3; ++c)
            t(0, c, 0, i) = static_cast<T>(table.values[static_cast<std::size_t>(i * 3 + c)]);
    return t;
}

// The largest |difference| between a planar [1,3,1,count] Lab or RGB and a fixture table.
template <class T>
double worst_difference(const Tensor<T>& planar3, const chroma::testing::FixtureTensor& table) {
    double worst = 0.0;
    for (index_t i = 0; i < planar3.shape().w; ++i)
        for (index_t c = 0; c < 3; ++c)
            worst = std::max(worst,
                             std::abs(double(planar3(0, c, 0, i)) - table.values[static_cast<std::size_t>(i * 3 + c)]));
    return worst;
}

template <class T>
Tensor<T> join_lab(const LabPlanes<T>& lab) {
    const Shape s = lab.lightness.shape();
    Tensor<T> out(Shape{.n = s.n, .c = 3, .h = s.h, .w = s.w});
    for (index_t n = 0; n < s.n; ++n)
        for (index_t y = 0; y < s.h; ++y)
            for (index_t x = 0; x < s.w; ++x) {
                out(n, 0, y, x) = lab.lightness(n, 0, y, x);
                out(n, 1, y, x) = lab.ab(n, 0, y, x);
                out(n, 2, y, x) = lab.ab(n, 1, y, x);
            }
    return out;
}

// Every colour of an n x n x n grid over the sRGB cube, as a [1,3,n*n,n] tensor.
template <class T>
Tensor<T> srgb_cube(index_t n) {
    Tensor<T> rgb(Shape{.n = 1, .c = 3, .h = n * n, .w = n});
    for (index_t r = 0; r < n; ++r)
        for (index_t g = 0; g < n; ++g)
            for (index_t b = 0; b < n; ++b) {
                rgb(0, 0, r * n + g, b) = static_cast<T>(double(r) / double(n - 1));
                rgb(0, 1, r * n + g, b) = static_cast<T>(double(g) / double(n - 1));
                rgb(0, 2, r * n + g, b) = static_cast<T>(double(b) / double(n - 1));
            }
    return rgb;
}

template <class T>
double worst_round_trip(const Tensor<T>& rgb, WhitePoint white) {
    const LabPlanes<T> lab = rgb_to_lab(rgb, white);
    const Tensor<T> back = lab_to_rgb(lab.lightness, lab.ab, white);
    double worst = 0.0;
    for (index_t i = 0; i < rgb.size(); ++i) worst = std::max(worst, std::abs(double(back.data()[i] - rgb.data()[i])));
    return worst;
}

}  // namespace

TEST_CASE("sRGB to CIELAB agrees with scikit-image's rgb2lab (D65)") {
    const Fixture f("color_srgb_to_lab");
    const Tensor<float> rgb = planar<float>(f["rgb"]);
    CHECK(worst_difference(join_lab(rgb_to_lab(rgb)), f["lab"]) < 1e-3);
    // In double precision what remains is scikit-image's rounding of the CIE constants (7.787 for
    // 7.787037): up to 500 * 3.7e-5 * 0.0089 = 1.6e-4 in a for the darkest colours.
    CHECK(worst_difference(join_lab(rgb_to_lab(planar<double>(f["rgb"]))), f["lab"]) < 2e-4);

    // 8-bit input, interleaved as in an image file.
    const auto& codes = f["rgb8"].values;
    std::vector<std::uint8_t> pixels(codes.begin(), codes.end());
    const index_t count = f["rgb8"].dims.at(0);
    const LabPlanes<float> lab8 = rgb8_to_lab(pixels, 1, count);
    CHECK(worst_difference(join_lab(lab8), f["lab_of_rgb8"]) < 1e-3);
}

TEST_CASE("CIELAB to sRGB agrees with scikit-image's lab2rgb, out-of-gamut colours clipped") {
    const Fixture f("color_lab_to_srgb");
    const Tensor<float> lab = planar<float>(f["lab"]);
    const index_t count = lab.shape().w;
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 1, .w = count}), ab(Shape{.n = 1, .c = 2, .h = 1, .w = count});
    for (index_t i = 0; i < count; ++i) {
        lightness(0, 0, 0, i) = lab(0, 0, 0, i);
        ab(0, 0, 0, i) = lab(0, 1, 0, i);
        ab(0, 1, 0, i) = lab(0, 2, 0, i);
    }
    const Tensor<float> rgb = lab_to_rgb(lightness, ab);
    CHECK(worst_difference(rgb, f["rgb"]) < 1e-3);
    for (index_t i = 0; i < rgb.size(); ++i) REQUIRE((rgb.data()[i] >= 0.0f && rgb.data()[i] <= 1.0f));
}

TEST_CASE("sRGB -> CIELAB -> sRGB returns every colour of a dense sample of the cube") {
    const Tensor<float> cube = srgb_cube<float>(65);  // 274,625 colours, steps of 1/64
    CHECK(worst_round_trip(cube, WhitePoint::d65) < 1e-4);
    CHECK(worst_round_trip(cube, WhitePoint::d50) < 1e-4);
    CHECK(worst_round_trip(srgb_cube<double>(17), WhitePoint::d65) < 1e-10);
}

TEST_CASE("8-bit sRGB -> CIELAB -> 8-bit sRGB is exact") {
    std::vector<std::uint8_t> pixels;
    for (int r = 0; r < 256; r += 5)
        for (int g = 0; g < 256; g += 5)
            for (int b = 0; b < 256; b += 5)
                for (int v : {r, g, b}) pixels.push_back(static_cast<std::uint8_t>(v));
    for (int v = 0; v < 256; ++v)
        for (int c = 0; c < 3; ++c) pixels.push_back(static_cast<std::uint8_t>(v));  // every grey
    const index_t count = static_cast<index_t>(pixels.size() / 3);
    for (WhitePoint white : {WhitePoint::d65, WhitePoint::d50}) {
        const LabPlanes<float> lab = rgb8_to_lab(pixels, 1, count, white);
        CHECK(lab_to_rgb8(lab.lightness, lab.ab, white) == pixels);
    }
}

TEST_CASE("8-bit input gives what its float value gives") {
    std::vector<std::uint8_t> pixels;
    Tensor<float> rgb(Shape{.n = 1, .c = 3, .h = 1, .w = 256});
    for (int v = 0; v < 256; ++v) {
        const int code[3] = {v, 255 - v, (v * 7) % 256};
        for (int c = 0; c < 3; ++c) {
            pixels.push_back(static_cast<std::uint8_t>(code[c]));
            rgb(0, c, 0, v) = static_cast<float>(code[c] / 255.0);
        }
    }
    const LabPlanes<float> from_bytes = rgb8_to_lab(pixels, 1, 256), from_floats = rgb_to_lab(rgb);
    for (index_t i = 0; i < 256; ++i) {
        REQUIRE(from_bytes.lightness[i] == Approx(from_floats.lightness[i]).margin(1e-4));
        REQUIRE(from_bytes.ab[i] == Approx(from_floats.ab[i]).margin(1e-4));
        REQUIRE(from_bytes.ab[256 + i] == Approx(from_floats.ab[256 + i]).margin(1e-4));
    }
}

TEST_CASE("D50 adapts sRGB by Bradford: white stays neutral, primaries match published values") {
    constexpr LabSpace<double> d50 = lab_space<double>(WhitePoint::d50);
    const Lab<double> white = srgb_to_lab(Rgb<double>{1, 1, 1}, d50);
    CHECK(white.l == Approx(100.0).margin(1e-9));
    CHECK(white.a == Approx(0.0).margin(1e-9));
    CHECK(white.b == Approx(0.0).margin(1e-9));
    const Lab<double> grey = srgb_to_lab(Rgb<double>{0.5, 0.5, 0.5}, d50);
    CHECK(grey.a == Approx(0.0).margin(1e-9));
    CHECK(grey.b == Approx(0.0).margin(1e-9));

    // Bruce Lindbloom's Bradford-adapted sRGB -> XYZ (D50) matrix, from slightly different base
    // constants: the entries agree to a few 1e-4.
    const double lindbloom[9] = {0.4360747, 0.3850649, 0.1430804, 0.2225045, 0.7168786,
                                 0.0606169, 0.0139322, 0.0971045, 0.7141733};
    for (int i = 0; i < 9; ++i) CHECK(d50.rgb_to_xyz[i] == Approx(lindbloom[i]).margin(5e-4));

    // sRGB red under D50 in ICC colour management: L*a*b* = (54.29, 80.81, 69.89).
    const Lab<double> red = srgb_to_lab(Rgb<double>{1, 0, 0}, d50);
    CHECK(red.l == Approx(54.29).margin(0.05));
    CHECK(red.a == Approx(80.81).margin(0.1));
    CHECK(red.b == Approx(69.89).margin(0.1));
}

TEST_CASE("The sRGB gamut test accepts converted colours and rejects colours beyond it") {
    const LabSpace<double> s = lab_space<double>();
    for (const Rgb<double> c : {Rgb<double>{1, 0, 0}, Rgb<double>{0, 0, 1}, Rgb<double>{0.2, 0.7, 0.4},
                                Rgb<double>{1, 1, 1}, Rgb<double>{0, 0, 0}})
        CHECK(in_srgb_gamut(srgb_to_lab(c, s), s, 1e-9));
    CHECK_FALSE(in_srgb_gamut(Lab<double>{50, 120, 0}, s));
    CHECK_FALSE(in_srgb_gamut(Lab<double>{95, 0, -80}, s));
    CHECK_FALSE(in_srgb_gamut(Lab<double>{std::numeric_limits<double>::quiet_NaN(), 0, 0}, s));
}

TEST_CASE("D65 follows scikit-image's constants: grey is neutral to within 0.005") {
    constexpr LabSpace<double> d65 = lab_space<double>(WhitePoint::d65);
    const Lab<double> white = srgb_to_lab(Rgb<double>{1, 1, 1}, d65);
    CHECK(white.l == Approx(100.0).margin(1e-4));
    CHECK(std::abs(white.a) < 0.005);
    CHECK(std::abs(white.b) < 0.005);
    const Lab<double> black = srgb_to_lab(Rgb<double>{0, 0, 0}, d65);
    CHECK(black.l == 0.0);
    CHECK(black.a == 0.0);
    CHECK(black.b == 0.0);
}

TEST_CASE("NaN and infinity give defined colours") {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const LabSpace<float> s = lab_space<float>();

    // sRGB in: NaN reads as 0, values beyond [0, 1] clamp.
    const Lab<float> from_nan = srgb_to_lab(Rgb<float>{nan, nan, nan}, s);
    CHECK(from_nan.l == 0.0f);
    CHECK(from_nan.a == 0.0f);
    CHECK(from_nan.b == 0.0f);
    const Lab<float> from_inf = srgb_to_lab(Rgb<float>{inf, inf, inf}, s);
    const Lab<float> from_one = srgb_to_lab(Rgb<float>{1, 1, 1}, s);
    CHECK(from_inf.l == from_one.l);
    CHECK(from_inf.a == from_one.a);
    CHECK(srgb_to_lab(Rgb<float>{-inf, 2.0f, -3.0f}, s).l == srgb_to_lab(Rgb<float>{0, 1, 0}, s).l);

    // sRGB out: always within [0, 1]; NaN gives 0.
    const Rgb<float> of_nan = lab_to_srgb(Lab<float>{nan, 0, 0}, s);
    CHECK(of_nan.r == 0.0f);
    CHECK(of_nan.g == 0.0f);
    CHECK(of_nan.b == 0.0f);
    const float nasty[] = {nan, inf, -inf, 1e30f, -1e30f, 0.0f, 50.0f};
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 7, .w = 49}), ab(Shape{.n = 1, .c = 2, .h = 7, .w = 49});
    for (int i = 0; i < 7; ++i)
        for (int j = 0; j < 7; ++j)
            for (int k = 0; k < 7; ++k) {
                lightness(0, 0, i, j * 7 + k) = nasty[i];
                ab(0, 0, i, j * 7 + k) = nasty[j];
                ab(0, 1, i, j * 7 + k) = nasty[k];
            }
    const Tensor<float> rgb = lab_to_rgb(lightness, ab);
    for (index_t i = 0; i < rgb.size(); ++i) REQUIRE((rgb.data()[i] >= 0.0f && rgb.data()[i] <= 1.0f));
    const std::vector<std::uint8_t> bytes = lab_to_rgb8(lightness, ab);
    CHECK(bytes.size() == 7u * 49u * 3u);
    CHECK(bytes[0] == 0);  // L = a = b = NaN
}

TEST_CASE("A batch of 8-bit images converts as its images do one by one") {
    std::vector<std::uint8_t> first(4 * 5 * 3), second(4 * 5 * 3);
    for (std::size_t i = 0; i < first.size(); ++i) {
        first[i] = static_cast<std::uint8_t>(i * 13 % 256);
        second[i] = static_cast<std::uint8_t>(255 - i * 29 % 256);
    }
    std::vector<std::uint8_t> both(first.size() + second.size());
    std::copy(second.begin(), second.end(), std::copy(first.begin(), first.end(), both.begin()));
    Tensor<float> lightness, ab;
    rgb8_batch_to_lab(both, 2, 4, 5, lightness, ab);
    CHECK(lightness.shape() == Shape{.n = 2, .c = 1, .h = 4, .w = 5});
    CHECK(ab.shape() == Shape{.n = 2, .c = 2, .h = 4, .w = 5});
    const LabPlanes<float> one = rgb8_to_lab(first, 4, 5), two = rgb8_to_lab(second, 4, 5);
    for (index_t i = 0; i < 20; ++i) {
        CHECK(lightness.data()[i] == one.lightness.data()[i]);
        CHECK(lightness.data()[20 + i] == two.lightness.data()[i]);
    }
    for (index_t i = 0; i < 40; ++i) {
        CHECK(ab.data()[i] == one.ab.data()[i]);
        CHECK(ab.data()[40 + i] == two.ab.data()[i]);
    }
    CHECK(lab_to_rgb8(lightness, ab) == both);
}

TEST_CASE("Conversions on several threads give the single-thread result") {
    const Tensor<float> cube = srgb_cube<float>(40);
    const int threads = cpu::threads();
    cpu::set_threads(1);
    const LabPlanes<float> single = rgb_to_lab(cube);
    cpu::set_threads(std::max(2, threads));
    const LabPlanes<float> multi = rgb_to_lab(cube);
    cpu::set_threads(threads);
    for (index_t i = 0; i < single.ab.size(); ++i) REQUIRE(single.ab.data()[i] == multi.ab.data()[i]);
}

TEST_CASE("The named normalisations scale L and ab as the seeds do") {
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 1, .w = 3});
    lightness[0] = 0.0f, lightness[1] = 50.0f, lightness[2] = 100.0f;
    const Tensor<float> unit = normalize(lightness, lightness_unit);
    CHECK(unit[0] == 0.0f);
    CHECK(unit[1] == Approx(0.5f));
    CHECK(unit[2] == Approx(1.0f));
    const Tensor<float> centered = normalize(lightness, lightness_centered);
    CHECK(centered[0] == Approx(-0.5f));
    CHECK(centered[1] == Approx(0.0f).margin(1e-7));
    CHECK(centered[2] == Approx(0.5f));
    CHECK(lightness[1] == 50.0f);  // the input is left alone

    Tensor<float> ab(Shape{.n = 1, .c = 2, .h = 1, .w = 1});
    ab[0] = 110.0f, ab[1] = -64.0f;
    CHECK(normalize(ab, ab_over_110)[0] == Approx(1.0f));
    CHECK(normalize(ab, ab_over_128)[1] == Approx(-0.5f));
    normalize_in_place(ab, ab_over_110);
    denormalize_in_place(ab, ab_over_110);
    CHECK(ab[0] == Approx(110.0f));
    CHECK(ab[1] == Approx(-64.0f));
    CHECK(denormalize(centered, lightness_centered)[2] == Approx(100.0f));
}

TEST_CASE("Whole-image conversions name the shapes and sizes they reject") {
    Tensor<float> two_channels(Shape{.n = 1, .c = 2, .h = 4, .w = 4}), lightness, ab;
    CHECK_THROWS_AS(rgb_to_lab(two_channels, lightness, ab), shape_error);
    CHECK_THROWS_WITH(rgb_to_lab(two_channels, lightness, ab),
                      Catch::Contains("3 channels") && Catch::Contains("[N=1, C=2, H=4, W=4]"));

    Tensor<float> l(Shape{.n = 1, .c = 1, .h = 4, .w = 4}), wrong_ab(Shape{.n = 1, .c = 2, .h = 4, .w = 5});
    CHECK_THROWS_WITH(lab_to_rgb(l, wrong_ab), Catch::Contains("same batch and size"));
    CHECK_THROWS_AS(lab_to_rgb(l, l), shape_error);

    std::vector<std::uint8_t> pixels(4 * 4 * 3 - 1);
    CHECK_THROWS_AS(rgb8_to_lab(pixels, 4, 4), usage_error);
    CHECK_THROWS_WITH(rgb8_to_lab(pixels, 4, 4), Catch::Contains("need 48 bytes, got 47"));
    CHECK_THROWS_AS(rgb8_batch_to_lab(pixels, -1, 4, 4, lightness, ab), usage_error);
    std::vector<std::uint8_t> out(10);
    Tensor<float> good_ab(Shape{.n = 1, .c = 2, .h = 4, .w = 4});
    CHECK_THROWS_AS(lab_to_rgb8(l, good_ab, std::span<std::uint8_t>(out)), usage_error);
}

TEST_CASE("The single-precision cube root and powers agree with the standard library") {
    double worst_cbrt = 0.0, worst_pow = 0.0, worst_log2 = 0.0, worst_exp2 = 0.0;
    for (float x = 1e-6f; x < 4.0f; x *= 1.0007f) {
        worst_cbrt = std::max(worst_cbrt, std::abs(fast::cbrt_positive(x) / std::cbrt(double(x)) - 1.0));
        worst_log2 = std::max(worst_log2, std::abs(fast::log2_positive(x) - std::log2(double(x))));
    }
    // The powers the sRGB curve takes, over the arguments it takes them of.
    for (float x = 0.003f; x <= 1.0f; x *= 1.0003f) {
        worst_pow = std::max(worst_pow, std::abs(fast::pow_positive(x, 2.4f) / std::pow(double(x), 2.4) - 1.0));
        worst_pow = std::max(worst_pow, std::abs(fast::pow_positive(x, 1 / 2.4f) / std::pow(double(x), 1 / 2.4) - 1.0));
    }
    for (float y = -126.0f; y <= 126.0f; y += 0.013f)
        worst_exp2 = std::max(worst_exp2, std::abs(fast::exp2_in_range(y) / std::exp2(double(y)) - 1.0));
    INFO("relative: cbrt " << worst_cbrt << ", pow " << worst_pow << ", exp2 " << worst_exp2 << "; log2 absolute "
                           << worst_log2);
    CHECK(worst_cbrt < 5e-7);
    CHECK(worst_pow < 3e-6);
    CHECK(worst_exp2 < 5e-7);
    CHECK(worst_log2 < 2e-6);
    // Outside the domain: meaningless but defined results (the sanitizer build checks there is no UB).
    for (float y : {-1e30f, -1000.0f, 1000.0f, 1e30f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()})
        (void)fast::exp2_in_range(y);
    for (float x : {0.0f, -1.0f, -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
        (void)fast::log2_positive(x);
        (void)fast::cbrt_positive(x);
        (void)fast::pow_positive(x, 2.4f);
    }
}
