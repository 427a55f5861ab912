// Points of colour for the user-guided model: the hints file (every colour form and every
// error, each naming the file and the point), drawing points at the model's size, points taken
// from a reference photo, and HintColorizer feeding them to the network exactly as training did.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/inference/hint_colorizer.hpp>

#include <fstream>
#include <string>

#include "support/temporary_folder.hpp"

using namespace chroma;
using namespace chroma::inference;
using chroma::testing::TemporaryFolder;
namespace fs = std::filesystem;

namespace {

fs::path write_hints(const TemporaryFolder& folder, const std::string& text) {
    const fs::path path = folder / "hints.json";
    std::ofstream(path) << text;
    return path;
}

color::Lab<float> lab_of(float r, float g, float b) {
    return color::srgb_to_lab(color::Rgb<float>{r / 255.0f, g / 255.0f, b / 255.0f}, color::lab_space<float>());
}

}  // namespace

TEST_CASE("a hints file gives points with sRGB, hex or Lab colours, reduced to their chroma", "[hints]") {
    TemporaryFolder folder("hints");
    const auto path = write_hints(folder, R"({"points": [
        {"x": 12, "y": 3.5, "rgb": [40, 90, 200], "radius": 4},
        {"x": 0, "y": 0, "rgb": "#2860c8"},
        {"x": 99, "y": 49, "lab": [55, -30, 40]}]})");
    const auto points = read_hint_points(path, 100, 50);
    REQUIRE(points.size() == 3);
    const auto blue = lab_of(40, 90, 200);
    CHECK(points[0].x == 12);
    CHECK(points[0].y == 3.5);
    CHECK(points[0].radius == 4);
    CHECK(points[0].a == Approx(blue.a));
    CHECK(points[0].b == Approx(blue.b));
    const auto hex = lab_of(40, 96, 200);  // #2860c8
    CHECK(points[1].a == Approx(hex.a));
    CHECK(points[1].b == Approx(hex.b));
    CHECK(points[1].radius == 0);
    CHECK(points[2].a == -30);
    CHECK(points[2].b == 40);
}

TEST_CASE("a bad hints file is refused, naming the file and the point", "[hints]") {
    TemporaryFolder folder("hints_bad");
    const auto refused = [&](const std::string& text, const std::string& says) {
        INFO(text);
        const auto path = write_hints(folder, text);
        CHECK_THROWS_WITH(read_hint_points(path, 100, 50), Catch::Contains(path.string()) && Catch::Contains(says));
    };
    refused(R"({"points": [{"x": 100, "y": 10, "rgb": [1, 2, 3]}]})", "point 1 at (100");
    refused(R"({"points": [{"x": 1, "y": 1, "lab": [50, 0, 0]}, {"x": 5, "y": -1, "lab": [50, 0, 0]}]})", "point 2");
    refused(R"({"points": [{"x": 1, "y": 1}]})", "one colour");
    refused(R"({"points": [{"x": 1, "y": 1, "rgb": [1, 2, 3], "lab": [1, 2, 3]}]})", "one colour");
    refused(R"({"points": [{"x": 1, "y": 1, "rgb": [1, 2, 300]}]})", "0 to 255");
    refused(R"({"points": [{"x": 1, "y": 1, "rgb": "#12345g"}]})", "#rrggbb");
    refused(R"({"points": [{"x": 1, "y": 1, "lab": [50, 200, 0]}]})", "[-128, 128]");
    refused(R"({"points": [{"x": 1, "y": 1, "rgb": [1, 2, 3], "colour": 1}]})", "unknown field 'colour'");
    refused(R"({"points": [{"x": 1, "y": 1, "rgb": [1, 2, 3], "radius": -2}]})", "radius");
    refused(R"({"points": [{"y": 1, "rgb": [1, 2, 3]}]})", "needs x and y");
    refused(R"({"dots": []})", "\"points\" array");
    refused(R"({"points": [)", "malformed JSON");
    CHECK_THROWS_WITH(read_hint_points(folder / "absent.json", 10, 10), Catch::Contains("absent.json"));
}

TEST_CASE("points are drawn at the model's size: their square, at least their own pixel", "[hints]") {
    // A 100 x 60 photo seen at 50 x 30: two photo pixels per model pixel.
    const std::vector<HintPoint> points{{.x = 10, .y = 10, .radius = 0, .a = 20, .b = -5},
                                        {.x = 20, .y = 20, .radius = 3, .a = -40, .b = 30}};
    const data::Hints hints = rasterize_hints(points, 100, 60, 50, 30);
    REQUIRE(hints.ab.shape() == Shape{.n = 1, .c = 2, .h = 30, .w = 50});
    const index_t plane = 50 * 30;
    int covered = 0;
    for (index_t y = 0; y < 30; ++y)
        for (index_t x = 0; x < 50; ++x) {
            const index_t i = y * 50 + x;
            // The first point's own pixel (5, 5); the second's square is photo [17, 24), whose
            // model pixels' centres ((m + 0.5) x 2) lie inside for m = 8 ... 11.
            const bool first = x == 5 && y == 5;
            const bool second = x >= 8 && x <= 11 && y >= 8 && y <= 11;
            INFO(x << ", " << y);
            CHECK(hints.mask.data()[i] == (first || second ? 1.0f : 0.0f));
            CHECK(hints.ab.data()[i] == (first ? 20.0f : second ? -40.0f : 0.0f));
            CHECK(hints.ab.data()[plane + i] == (first ? -5.0f : second ? 30.0f : 0.0f));
            covered += first || second;
        }
    CHECK(covered == 17);
    // For a batch, every image gets the same points.
    const data::Hints two = rasterize_hints(points, 100, 60, 50, 30, 2);
    REQUIRE(two.ab.shape() == Shape{.n = 2, .c = 2, .h = 30, .w = 50});
    for (index_t i = 0; i < 2 * plane; ++i) {
        CHECK(two.ab.data()[i] == hints.ab.data()[i]);
        CHECK(two.ab.data()[2 * plane + i] == hints.ab.data()[i]);
    }
    for (index_t i = 0; i < plane; ++i) CHECK(two.mask.data()[plane + i] == hints.mask.data()[i]);
}

TEST_CASE("points taken from a reference hold its mean chroma around them, the same for the same seed", "[hints]") {
    Image reference{.width = 40, .height = 30, .channels = 3, .pixels = {}};
    for (int i = 0; i < 40 * 30; ++i) reference.pixels.insert(reference.pixels.end(), {200, 120, 30});
    const auto points = sample_hint_points(reference, 12, 2, 5);
    REQUIRE(points.size() == 12);
    const auto orange = lab_of(200, 120, 30);
    for (const auto& p : points) {
        CHECK(p.a == Approx(orange.a).margin(1e-3));
        CHECK(p.b == Approx(orange.b).margin(1e-3));
        CHECK(p.radius == 2);
        CHECK((p.x >= 0 && p.x < 40 && p.y >= 0 && p.y < 30));
    }
    const auto again = sample_hint_points(reference, 12, 2, 5);
    for (std::size_t k = 0; k < points.size(); ++k) CHECK((again[k].x == points[k].x && again[k].y == points[k].y));
    CHECK(sample_hint_points(reference, 0, 2).empty());
    Image grey{.width = 4, .height = 4, .channels = 1, .pixels = std::vector<std::uint8_t>(16, 9)};
    CHECK_THROWS_WITH(sample_hint_points(grey, 3, 1), Catch::Contains("colour"));
}

TEST_CASE("the hint colorizer feeds the network L, the drawn points and their mask, as training does", "[hints]") {
    HintColorizer<models::Siggraph17Small> colorizer(ModelTraits{.architecture = "siggraph17-small", .native_size = 32});
    CHECK(colorizer.traits().takes_hints);
    Tensor<float> lightness(Shape{.n = 1, .c = 1, .h = 16, .w = 24});
    for (index_t i = 0; i < lightness.size(); ++i) lightness.data()[i] = static_cast<float>(20 + (i * 7) % 60);
    const std::vector<HintPoint> points{{.x = 30, .y = 8, .radius = 2, .a = 50, .b = -20}};
    colorizer.set_hints(points, 48, 32);  // the photo is twice the model's input

    train::HintsTask task;
    const data::Hints drawn = rasterize_hints(points, 48, 32, 24, 16);
    const Tensor<float> input = task.input_with(lightness, drawn).clone();
    const Tensor<float> expected = task.predicted_ab(colorizer.model().forward(input)).clone();
    const Tensor<float> got = colorizer.predict_ab(lightness).clone();
    REQUIRE(got.shape() == expected.shape());
    for (index_t i = 0; i < got.size(); ++i) CHECK(got.data()[i] == Approx(expected.data()[i]).margin(1e-5));

    // The points change the colour: without them the prediction differs.
    colorizer.set_hints({}, 48, 32);
    const Tensor<float> plain = colorizer.predict_ab(lightness).clone();
    double difference = 0;
    for (index_t i = 0; i < plain.size(); ++i) difference += std::abs(plain.data()[i] - got.data()[i]);
    CHECK(difference > 1e-3);

    // Mirror averaging mirrors the points with the photo: a mirrored photo with mirrored points
    // gives the mirrored colours.
    colorizer.set_mirror_average(true);
    colorizer.set_hints(points, 48, 32);
    const Tensor<float> averaged = colorizer.predict_ab(lightness).clone();
    Tensor<float> mirrored_lightness(lightness.shape());
    for (index_t y = 0; y < 16; ++y)
        for (index_t x = 0; x < 24; ++x) mirrored_lightness.data()[y * 24 + x] = lightness.data()[y * 24 + 23 - x];
    // Photo x = 30 with radius 2 spans [28, 33); mirrored in a 48-wide photo it spans [15, 20): x = 17.
    colorizer.set_hints({{.x = 17, .y = 8, .radius = 2, .a = 50, .b = -20}}, 48, 32);
    const Tensor<float> mirrored = colorizer.predict_ab(mirrored_lightness);
    for (index_t c = 0; c < 2; ++c)
        for (index_t y = 0; y < 16; ++y)
            for (index_t x = 0; x < 24; ++x)
                CHECK(mirrored.data()[(c * 16 + y) * 24 + x] ==
                      Approx(averaged.data()[(c * 16 + y) * 24 + 23 - x]).margin(1e-4));

    CHECK_THROWS_WITH(colorizer.set_decoding(color::Decoding::annealed_mean(0.5)), Catch::Contains("regression"));
    CHECK_THROWS_WITH(colorizer.set_hints(points, 0, 32), Catch::Contains("photo's size"));
}

TEST_CASE("marked points are black squares ringed in white, scaled to the picture", "[hints]") {
    Image picture{.width = 30, .height = 20, .channels = 3, .pixels = std::vector<std::uint8_t>(30 * 20 * 3, 128)};
    const auto at = [&](int x, int y) { return picture.pixels[(static_cast<std::size_t>(y) * 30 + x) * 3]; };
    mark_hint_points(picture, {{.x = 20, .y = 20}}, 0.5);  // photo (20, 20) is picture (10, 10)
    CHECK(at(10, 10) == 128);  // the point itself is left to show its colour
    CHECK(at(13, 10) == 0);
    CHECK(at(7, 12) == 0);
    CHECK(at(14, 10) == 255);
    CHECK(at(10, 6) == 255);
    CHECK(at(15, 10) == 128);
    mark_hint_points(picture, {{.x = 58, .y = 38}}, 0.5);  // at the corner: clipped, no crash
    CHECK(at(29, 19) == 128);
    CHECK(at(26, 19) == 0);
}
