// Pictures: canvas primitives, text, line plots and picture grids.
#include <catch2/catch.hpp>

#include <chroma/draw/grid.hpp>
#include <chroma/draw/plot.hpp>

#include <cmath>
#include <limits>

using namespace chroma;
using namespace chroma::draw;

namespace {

bool is(const Image& image, int x, int y, Color c) {
    const std::size_t i = (static_cast<std::size_t>(y) * image.width + x) * image.channels;
    return image.pixels[i] == c.r && image.pixels[i + 1] == c.g && image.pixels[i + 2] == c.b;
}
int count(const Image& image, Color c) {
    int n = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) n += is(image, x, y, c) ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("the canvas draws clipped lines, rectangles and text") {
    Canvas canvas(20, 10);
    canvas.line(0, 0, 19, 9, black);
    CHECK(is(canvas.image(), 0, 0, black));
    CHECK(is(canvas.image(), 19, 9, black));
    CHECK(is(canvas.image(), 19, 0, white));
    canvas.fill_rect(-5, -5, 8, 8, palette[0]);  // partly outside: clipped, no crash
    CHECK(is(canvas.image(), 2, 2, palette[0]));
    Canvas label(12, 7);
    label.text(0, 0, "1", black);  // the glyph's stem is its middle column
    for (int row = 0; row < 7; ++row) CHECK(is(label.image(), 2, row, black));
    CHECK(is(label.image(), 0, 0, white));
    CHECK(count(label.image(), black) == 10);  // 7 stem + 1 flag pixels + 2 extra in the base
    CHECK(Canvas::text_width("abc", 2) == 36);
    CHECK(glyph_for('a') == glyph_for('A'));
}

TEST_CASE("a line plot has its size, its series' colours and survives non-finite points") {
    Series loss{"train", {}, {1.0, 0.5, std::numeric_limits<double>::quiet_NaN(), 0.2, 0.1}};
    Series val{"val", {0, 2, 4}, {1.2, 0.6, 0.3}};
    const Image plot = line_plot({loss, val}, {.width = 320, .height = 200, .title = "loss", .log_y = true});
    CHECK(plot.width == 320);
    CHECK(plot.height == 200);
    CHECK(plot.channels == 3);
    CHECK(count(plot, palette[0]) > 100);
    CHECK(count(plot, palette[1]) > 100);
    const Image empty = line_plot({}, {.width = 100, .height = 80});
    CHECK(empty.width == 100);
}

TEST_CASE("a picture grid places each image in its cell under its title") {
    Image red{.width = 8, .height = 6, .channels = 3, .pixels = std::vector<std::uint8_t>(8 * 6 * 3, 0)};
    for (std::size_t i = 0; i < red.pixels.size(); i += 3) red.pixels[i] = 255;
    Image gray{.width = 10, .height = 4, .channels = 1, .pixels = std::vector<std::uint8_t>(40, 128)};
    const Image grid = picture_grid({{red, gray}, {gray, red}}, {"A", "B"}, 2);
    // Columns are as wide as their widest image (10 each), rows as tall as their tallest (6 each).
    CHECK(grid.width == 2 + 10 + 2 + 10 + 2);
    CHECK(grid.height == 2 + 14 + 6 + 2 + 6 + 2);
    CHECK(is(grid, 2 + 1 + 0, 2 + 14, Color{255, 0, 0}));  // red centred in column 0, row 0
    CHECK(is(grid, 14, 16, Color{128, 128, 128}));        // gray in column 1, row 0
    // Small images are enlarged by whole factors: 6 rows -> 18 with min_height 16.
    const Image enlarged = picture_grid({{red}}, {}, 0, 16);
    CHECK(enlarged.height == 18);
    CHECK(enlarged.width == 24);
    CHECK(is(enlarged, 23, 17, Color{255, 0, 0}));
}

TEST_CASE("a line plot takes labelled x ticks in place of five even ones") {
    const Series flat{"flat", {0.0, 1.0}, {2.0, 2.0}};
    const auto grid_pixels_in_column = [](const Image& image, int x) {
        int n = 0;
        for (int y = 0; y < image.height; ++y) n += is(image, x, y, light_gray) ? 1 : 0;
        return n;
    };
    // 320 wide: the plot spans x = 72 ... 303, so x = 0.25 is column 129 and x = 0.5 column 187.
    const Image even = line_plot({flat}, {.width = 320, .height = 200});
    const Image ticked = line_plot({flat}, {.width = 320, .height = 200, .x_ticks = {{0.5, "5"}, {3.0, "off"}}});
    CHECK(grid_pixels_in_column(even, 129) > 100);
    CHECK(grid_pixels_in_column(ticked, 129) < 10);
    CHECK(grid_pixels_in_column(ticked, 187) > 100);
}
