// Full-resolution colourisation: the size the model sees, the lightness it is given, the
// bilinear ab upsampling against the tested layer, and the join that must keep each pixel's L
// and alpha. Tiny networks stand in for trained ones.
#include <catch2/catch.hpp>

#include <chroma/color/conversion.hpp>
#include <chroma/inference/colorize_image.hpp>
#include <chroma/inference/decoding_text.hpp>
#include <chroma/init/pytorch_default.hpp>
#include <chroma/nn/conv2d.hpp>

#include <cmath>
#include <limits>
#include <cstdint>

using namespace chroma;
using inference::InputSize;
using inference::ModelTraits;

namespace {

Image filled(int width, int height, int channels, std::uint8_t value) {
    Image image{.width = width, .height = height, .channels = channels, .pixels = {}};
    image.pixels.assign(static_cast<std::size_t>(width) * height * channels, value);
    return image;
}

/// L of an 8-bit sRGB colour, through the library's tested conversion.
double lightness_of(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    const std::uint8_t rgb[3] = {r, g, b};
    return color::rgb8_to_lab<double>(rgb, 1, 1).lightness.data()[0];
}

Tensor<float> constant_ab(int width, int height, float a, float b) {
    Tensor<float> ab(Shape{.n = 1, .c = 2, .h = height, .w = width});
    for (index_t i = 0; i < ab.shape().plane(); ++i) {
        ab.data()[i] = a;
        ab.data()[ab.shape().plane() + i] = b;
    }
    return ab;
}

}  // namespace

TEST_CASE("the model sees the shorter side at its native size, in multiples", "[inference]") {
    const ModelTraits light{.architecture = "t", .native_size = 64, .size_multiple = 8};
    const auto check = [&](int w, int h, int ew, int eh, const ModelTraits& t) {
        const InputSize s = inference::model_input_size(w, h, t);
        INFO(w << " x " << h);
        CHECK(s.width == ew);
        CHECK(s.height == eh);
    };
    check(481, 321, 96, 64, light);      // 64 * 1.498 = 95.9 -> 96
    check(321, 481, 64, 96, light);
    check(1, 1, 64, 64, light);          // a single pixel still gives the model a whole input
    check(12000, 8000, 96, 64, light);   // the size the model sees does not grow with the photo
    check(100, 1000, 64, 256, light);    // aspect capped at 4:1
    check(500, 500, 72, 72, ModelTraits{.architecture = "t", .native_size = 72, .size_multiple = 8});
    check(500, 300, 240, 144, ModelTraits{.architecture = "t", .native_size = 150, .size_multiple = 8});  // 150 -> 144
    CHECK_THROWS_WITH(inference::model_input_size(0, 5, light), Catch::Contains("0 x 5"));
}

TEST_CASE("the lightness the model is given is the area average of the photo", "[inference]") {
    // 4 x 2 blocks of one colour each, 8 x 4 pixels: area-averaged to 4 x 2 each block is one pixel.
    const std::uint8_t colours[8][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128},
                                        {10, 200, 30}, {250, 250, 0}, {0, 0, 0}, {255, 255, 255}};
    Image image{.width = 8, .height = 4, .channels = 3, .pixels = {}};
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 8; ++x)
            for (int c = 0; c < 3; ++c) image.pixels.push_back(colours[(y / 2) * 4 + x / 2][c]);
    const Tensor<float> l = inference::lightness_at(image, {4, 2});
    REQUIRE(l.shape() == Shape{.n = 1, .c = 1, .h = 2, .w = 4});
    for (int i = 0; i < 8; ++i)
        CHECK(l.data()[i] == Approx(lightness_of(colours[i][0], colours[i][1], colours[i][2])).margin(1e-3));

    // Averaging happens on the encoded values, as the training transforms resize before
    // converting: black and white side by side give the L of code 127.5.
    Image halves = filled(2, 1, 1, 0);
    halves.pixels[1] = 255;
    const Tensor<float> mixed = inference::lightness_at(halves, {1, 1});
    const double expected = color::rgb8_to_lab<double>(std::vector<std::uint8_t>{127, 127, 127}, 1, 1).lightness.data()[0];
    const double above = color::rgb8_to_lab<double>(std::vector<std::uint8_t>{128, 128, 128}, 1, 1).lightness.data()[0];
    CHECK(mixed.data()[0] > expected);
    CHECK(mixed.data()[0] < above);

    // Grey and grey + alpha read the grey channel; alpha does not count.
    CHECK(inference::lightness_at(filled(3, 3, 2, 90), {1, 1}).data()[0] == Approx(lightness_of(90, 90, 90)).margin(1e-3));
}

TEST_CASE("ab upsampling matches the bilinear layer, which matches PyTorch", "[inference]") {
    Tensor<float> ab(Shape{.n = 1, .c = 2, .h = 3, .w = 5});
    for (index_t i = 0; i < ab.size(); ++i) ab.data()[i] = static_cast<float>(std::sin(0.7 * i) * 40);
    Tensor<float> reference(Shape{.n = 1, .c = 2, .h = 12, .w = 20});
    kernels::upsample_bilinear_forward(4, ab, reference);
    const Tensor<float> mine = inference::upsample_ab(ab, 20, 12);
    REQUIRE(mine.shape() == reference.shape());
    for (index_t i = 0; i < mine.size(); ++i) CHECK(mine.data()[i] == Approx(reference.data()[i]).margin(1e-4));

    // Not a whole factor, and a single pixel: still defined, still within the map's range.
    const Tensor<float> odd = inference::upsample_ab(ab, 7, 1);
    CHECK(odd.shape() == Shape{.n = 1, .c = 2, .h = 1, .w = 7});
    const Tensor<float> one = inference::upsample_ab(constant_ab(1, 1, 12, -7), 9, 4);
    for (index_t i = 0; i < 36; ++i) CHECK(one.data()[i] == 12.0f);
    for (index_t i = 36; i < 72; ++i) CHECK(one.data()[i] == -7.0f);
}

TEST_CASE("joining keeps every pixel's lightness and alpha and takes the predicted ab", "[inference]") {
    Image rgba{.width = 6, .height = 4, .channels = 4, .pixels = {}};
    for (int i = 0; i < 24; ++i) {
        rgba.pixels.insert(rgba.pixels.end(), {static_cast<std::uint8_t>(40 + 7 * i), static_cast<std::uint8_t>(200 - 5 * i),
                                               static_cast<std::uint8_t>(90 + 3 * i), static_cast<std::uint8_t>(10 * i)});
    }
    const Image joined = inference::join_lightness_and_ab(rgba, constant_ab(2, 2, 15.0f, -10.0f));
    REQUIRE(joined.channels == 4);
    REQUIRE(joined.width == 6);
    for (int i = 0; i < 24; ++i) {
        const std::uint8_t* in = rgba.pixels.data() + i * 4;
        const std::uint8_t* out = joined.pixels.data() + i * 4;
        const std::vector<std::uint8_t> out_rgb{out[0], out[1], out[2]};
        const auto lab = color::rgb8_to_lab<double>(out_rgb, 1, 1);
        INFO("pixel " << i);
        CHECK(lab.lightness.data()[0] == Approx(lightness_of(in[0], in[1], in[2])).margin(0.6));  // 8-bit rounding
        CHECK(lab.ab.data()[0] == Approx(15.0).margin(1.5));
        CHECK(lab.ab.data()[1] == Approx(-10.0).margin(1.5));
        CHECK(out[3] == in[3]);
    }

    // Grey in, RGB out; grey + alpha in, RGBA out; ab = 0 gives the grey back.
    const Image grey = filled(5, 3, 1, 77);
    const Image from_grey = inference::join_lightness_and_ab(grey, constant_ab(1, 1, 0.0f, 0.0f));
    REQUIRE(from_grey.channels == 3);
    for (const auto v : from_grey.pixels) CHECK(static_cast<int>(v) == Approx(77).margin(1));
    Image grey_alpha = filled(2, 2, 2, 200);
    grey_alpha.pixels[1] = 33;
    const Image from_grey_alpha = inference::join_lightness_and_ab(grey_alpha, constant_ab(1, 1, 0.0f, 0.0f));
    REQUIRE(from_grey_alpha.channels == 4);
    CHECK(from_grey_alpha.pixels[3] == 33);
    CHECK(from_grey_alpha.pixels[7] == 200);

    CHECK_THROWS_WITH(inference::join_lightness_and_ab(Image{}, constant_ab(1, 1, 0, 0)),
                      Catch::Contains("0 x 0"));
}

TEST_CASE("colorizers run their model at the input size and decode as asked", "[inference]") {
    using TinyClassifier = Conv2d<1, color::zhang_bin_count, 1>;
    inference::ClassifierColorizer<TinyClassifier> classifier(
        ModelTraits{.architecture = "tiny", .native_size = 16, .size_multiple = 8, .classifier = true}, {});
    const Tensor<float> l = inference::lightness_at(filled(40, 24, 3, 150), inference::model_input_size(40, 24, classifier.traits()));
    REQUIRE(l.shape() == Shape{.n = 1, .c = 1, .h = 16, .w = 24});
    const Tensor<float> annealed = classifier.predict_ab(l);
    CHECK(annealed.shape() == Shape{.n = 1, .c = 2, .h = 16, .w = 24});
    classifier.set_decoding(color::Decoding::mode());
    const Tensor<float> mode = classifier.predict_ab(l);
    // The mode is a bin centre: a multiple of 10 in both a and b.
    CHECK(std::fmod(std::abs(mode.data()[0]), 10.0f) == Approx(0.0f).margin(1e-3));
    CHECK(classifier.decoding().method == color::Decoding::Method::mode);
    CHECK_THROWS_WITH(classifier.predict_ab(Tensor<float>(Shape{.n = 1, .c = 1, .h = 12, .w = 16})),
                      Catch::Contains("multiples of 8") && Catch::Contains("tiny"));

    using TinyRegression = Conv2d<1, 2, 1>;
    inference::RegressionColorizer<TinyRegression> regression(ModelTraits{.architecture = "reg", .native_size = 8},
                                                              color::lightness_centered, color::ab_over_110);
    CHECK(regression.predict_ab(l).shape() == Shape{.n = 1, .c = 2, .h = 16, .w = 24});
    CHECK_THROWS_WITH(regression.set_decoding(color::Decoding::mode()), Catch::Contains("regression"));
}

TEST_CASE("the chroma gain multiplies the model's ab and refuses what is not a gain", "[inference]") {
    using TinyRegression = Conv2d<1, 2, 1>;
    inference::RegressionColorizer<TinyRegression> regression(ModelTraits{.architecture = "reg", .native_size = 8},
                                                              color::lightness_centered, color::ab_over_110);
    init::pytorch_default(regression.model(), 5);
    const Tensor<float> l = inference::lightness_at(filled(16, 16, 3, 90), {16, 16});
    CHECK(regression.chroma_gain() == 1.0f);
    const Tensor<float> plain = regression.predict_ab(l);
    regression.set_chroma_gain(1.5f);
    const Tensor<float>& boosted = regression.predict_ab(l);
    REQUIRE(boosted.shape() == plain.shape());
    bool any_colour = false;
    for (index_t i = 0; i < plain.size(); ++i) {
        REQUIRE(boosted.data()[i] == Approx(1.5f * plain.data()[i]).margin(1e-6));
        any_colour = any_colour || std::abs(plain.data()[i]) > 1e-3f;
    }
    CHECK(any_colour);
    for (float bad : {0.0f, -1.0f, 11.0f, std::numeric_limits<float>::quiet_NaN()})
        CHECK_THROWS_WITH(regression.set_chroma_gain(bad), Catch::Contains("reg") && Catch::Contains("chroma gain"));
    CHECK(regression.chroma_gain() == 1.5f);
}

namespace {

Tensor<float> mirrored(const Tensor<float>& t) {
    Tensor<float> out;
    inference::detail::mirror_width(t, out);
    return out;
}

Tensor<float> copy_of(const Tensor<float>& t) { return t.clone(); }

/// A lightness map with no left-right symmetry.
Tensor<float> lopsided_lightness(int width, int height) {
    Tensor<float> l(Shape{.n = 1, .c = 1, .h = height, .w = width});
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) l.data()[y * width + x] = static_cast<float>(5 + 3 * x + (x * y) % 7 + 2 * y);
    return l;
}

}  // namespace

TEST_CASE("mirror averaging averages a prediction with its mirror image's, so it is mirror-symmetric", "[inference]") {
    const Tensor<float> l = lopsided_lightness(16, 8);
    const Tensor<float> l_before = copy_of(l);

    // Regression: exactly the mean of the plain prediction and the mirrored prediction of the mirror.
    using LopsidedRegression = Conv2d<1, 2, 3, 1, 1>;  // a 3x3 kernel: not symmetric by itself
    inference::RegressionColorizer<LopsidedRegression> regression(ModelTraits{.architecture = "reg", .native_size = 8},
                                                                  color::lightness_centered, color::ab_over_110);
    init::pytorch_default(regression.model(), 11);
    CHECK_FALSE(regression.mirror_average());
    const Tensor<float> plain = copy_of(regression.predict_ab(l));
    const Tensor<float> plain_of_mirror = mirrored(regression.predict_ab(mirrored(l)));
    regression.set_mirror_average(true);
    const Tensor<float> averaged = copy_of(regression.predict_ab(l));
    const Tensor<float> averaged_of_mirror = copy_of(regression.predict_ab(mirrored(l)));
    double plain_asymmetry = 0.0;
    for (index_t i = 0; i < plain.size(); ++i) {
        REQUIRE(averaged.data()[i] == Approx(0.5f * (plain.data()[i] + plain_of_mirror.data()[i])).margin(1e-5));
        plain_asymmetry = std::max(plain_asymmetry, double(std::abs(plain.data()[i] - plain_of_mirror.data()[i])));
    }
    CHECK(plain_asymmetry > 0.1);  // so the average is not the plain prediction by accident
    const Tensor<float> back = mirrored(averaged_of_mirror);
    for (index_t i = 0; i < averaged.size(); ++i) REQUIRE(back.data()[i] == Approx(averaged.data()[i]).margin(1e-5));
    for (index_t i = 0; i < l.size(); ++i) REQUIRE(l.data()[i] == l_before.data()[i]);  // the input is not touched

    // Classifier: the bin probabilities are averaged, then decoded. The plain mean of the bins is
    // linear in them, so there it equals the mean of the two decoded predictions; the annealed
    // mean is not, and its averaged prediction is mirror-symmetric.
    using LopsidedClassifier = Conv2d<1, color::zhang_bin_count, 3, 1, 1>;
    inference::ClassifierColorizer<LopsidedClassifier> classifier(
        ModelTraits{.architecture = "tiny", .native_size = 8, .size_multiple = 8, .classifier = true}, {});
    init::pytorch_default(classifier.model(), 12);
    classifier.set_decoding(color::Decoding::mean());
    const Tensor<float> mean_plain = copy_of(classifier.predict_ab(l));
    const Tensor<float> mean_plain_of_mirror = mirrored(classifier.predict_ab(mirrored(l)));
    classifier.set_mirror_average(true);
    const Tensor<float> mean_averaged = copy_of(classifier.predict_ab(l));
    double class_asymmetry = 0.0;
    for (index_t i = 0; i < mean_plain.size(); ++i) {
        REQUIRE(mean_averaged.data()[i] == Approx(0.5f * (mean_plain.data()[i] + mean_plain_of_mirror.data()[i])).margin(1e-3));
        class_asymmetry = std::max(class_asymmetry, double(std::abs(mean_plain.data()[i] - mean_plain_of_mirror.data()[i])));
    }
    CHECK(class_asymmetry > 0.01);
    classifier.set_decoding(inference::parse_decoding("annealed:0.38,rebalance:0.5"));
    const Tensor<float> annealed = copy_of(classifier.predict_ab(l));
    const Tensor<float> annealed_of_mirror = mirrored(classifier.predict_ab(mirrored(l)));
    for (index_t i = 0; i < annealed.size(); ++i) REQUIRE(annealed_of_mirror.data()[i] == Approx(annealed.data()[i]).margin(1e-4));
    for (index_t i = 0; i < l.size(); ++i) REQUIRE(l.data()[i] == l_before.data()[i]);
}

TEST_CASE("decodings read from text and back", "[inference]") {
    CHECK(inference::parse_decoding("annealed:0.38").temperature == 0.38);
    CHECK(inference::parse_decoding("topk:2").k == 2);
    CHECK(inference::parse_decoding("mode").method == color::Decoding::Method::mode);
    CHECK(inference::parse_decoding("mean").temperature == 1.0);
    const auto rebalanced = inference::parse_decoding("annealed:0.2,rebalance:0.5");
    CHECK(rebalanced.temperature == 0.2);
    CHECK(rebalanced.rebalance == 0.5);
    CHECK(inference::parse_decoding("mode").rebalance == 1.0);
    for (const char* text : {"annealed:0.38", "topk:5", "mode", "annealed:0.38,rebalance:0.75", "mode,rebalance:0.5"})
        CHECK(inference::decoding_text(inference::parse_decoding(text)) == text);
    for (const char* bad : {"annealed:", "annealed:-1", "annealed:x", "topk:0", "topk:99", "median", "",
                            "annealed:0.38,", "annealed:0.38,rebalance:", "annealed:0.38,rebalance:0",
                            "annealed:0.38,rebalance:1.5", "annealed:0.38,lambda:0.5", "x,rebalance:0.5",
                            "mode,rebalance:0.5,rebalance:0.5"})
        CHECK_THROWS_WITH(inference::parse_decoding(bad), Catch::Contains("annealed:T"));
}
