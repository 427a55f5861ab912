// JPEGs load upright as their EXIF orientation says: the tag reader (both TIFF byte orders, and
// any damaged bytes giving 1), the pixel transform, and load_image / load_image_float /
// read_image_info on JPEGs that carry each orientation 1 to 8.
#include <catch2/catch.hpp>

#include <chroma/data/exif_orientation.hpp>
#include <chroma/data/image.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/temporary_folder.hpp"

using namespace chroma;
using chroma::testing::TemporaryFolder;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

// One IFD entry: tag, type, count and the four bytes of its value field (a SHORT in the first two).
struct Entry {
    std::uint16_t tag;
    std::uint16_t type;
    std::uint32_t count;
    std::uint32_t value;
};

void put16(Bytes& out, bool little, std::uint32_t v) {
    if (little)
        out.insert(out.end(), {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)});
    else
        out.insert(out.end(), {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}
void put32(Bytes& out, bool little, std::uint32_t v) {
    if (little) {
        put16(out, true, v & 0xFFFF);
        put16(out, true, v >> 16);
    } else {
        put16(out, false, v >> 16);
        put16(out, false, v & 0xFFFF);
    }
}

// A TIFF block as EXIF holds it: the byte order, 42, the offset of IFD0 (8 unless told), IFD0's
// count (the number of entries unless told), the entries, and a zero "next IFD" offset.
Bytes tiff(bool little, const std::vector<Entry>& entries, std::uint32_t ifd_offset = 8, long count = -1) {
    Bytes out = little ? Bytes{'I', 'I'} : Bytes{'M', 'M'};
    put16(out, little, 42);
    put32(out, little, ifd_offset);
    put16(out, little, count < 0 ? static_cast<std::uint32_t>(entries.size()) : static_cast<std::uint32_t>(count));
    for (const Entry& e : entries) {
        put16(out, little, e.tag);
        put16(out, little, e.type);
        put32(out, little, e.count);
        if (e.type == 3) {  // a SHORT sits in the first two bytes of the value field
            put16(out, little, e.value);
            put16(out, little, 0);
        } else {
            put32(out, little, e.value);
        }
    }
    put32(out, little, 0);
    return out;
}

// The usual IFD0: a Make (ASCII "Abc", stored inline) before the Orientation SHORT.
Bytes orientation_tiff(bool little, std::uint32_t orientation) {
    const std::uint32_t make = little ? 0x00636241u : 0x41626300u;  // "Abc\0" in file order
    return tiff(little, {{0x010F, 2, 4, make}, {0x0112, 3, 1, orientation}});
}

// The parts one after another. (Sized once and copied into: GCC 12 at -O3 warns falsely about
// vector::insert growing a vector of bytes.)
Bytes joined(std::initializer_list<std::span<const std::uint8_t>> parts) {
    std::size_t size = 0;
    for (const auto part : parts) size += part.size();
    Bytes out(size);
    auto to = out.begin();
    for (const auto part : parts) to = std::copy(part.begin(), part.end(), to);
    return out;
}

// An APP1 segment: FF E1, its length (counting itself), then `prefix` (normally "Exif\0\0") and the block.
Bytes app1(const Bytes& block, const std::string& prefix = std::string("Exif\0\0", 6)) {
    const std::size_t length = 2 + prefix.size() + block.size();
    const Bytes marker = {0xFF, 0xE1, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
    const Bytes text(prefix.begin(), prefix.end());
    return joined({marker, text, block});
}

// `jpeg` with `segment` inserted right after the SOI.
Bytes with_segment(const Bytes& jpeg, const Bytes& segment) {
    const std::span<const std::uint8_t> all(jpeg);
    return joined({all.first(2), segment, all.subspan(2)});
}

Bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
}

// 24 x 16 RGB in 8 x 8 blocks of six distinct colours, so each corner's colour survives JPEG:
//   red    yellow  green
//   blue   black   white
constexpr int picture_width = 24, picture_height = 16;
constexpr std::array<std::array<std::uint8_t, 3>, 6> block_colours = {{
    {255, 0, 0}, {255, 255, 0}, {0, 255, 0}, {0, 0, 255}, {0, 0, 0}, {255, 255, 255}}};

Image picture() {
    Image image{.width = picture_width, .height = picture_height, .channels = 3, .pixels = {}};
    for (int y = 0; y < picture_height; ++y)
        for (int x = 0; x < picture_width; ++x)
            for (const std::uint8_t value : block_colours[static_cast<std::size_t>(y / 8 * 3 + x / 8)])
                image.pixels.push_back(value);
    return image;
}

enum Corner { top_left, top_right, bottom_left, bottom_right };
constexpr std::array<std::uint8_t, 3> stored_corner_colour(Corner corner) {
    switch (corner) {
        case top_left: return block_colours[0];
        case top_right: return block_colours[2];
        case bottom_left: return block_colours[3];
        case bottom_right: return block_colours[5];
    }
    return {};
}

// Where the stored pixel (x, y) of a w x h image shows for each orientation (the forward map,
// written from the meanings: 6 turns the picture a quarter clockwise, its left side to the top).
std::array<int, 2> shown_at(int orientation, int x, int y, int w, int h) {
    switch (orientation) {
        case 2: return {w - 1 - x, y};          // mirrored left-right
        case 3: return {w - 1 - x, h - 1 - y};  // turned half round
        case 4: return {x, h - 1 - y};          // mirrored top-bottom
        case 5: return {y, x};                  // mirrored across the main diagonal
        case 6: return {h - 1 - y, x};          // a quarter clockwise
        case 7: return {h - 1 - y, w - 1 - x};  // mirrored across the other diagonal
        case 8: return {y, w - 1 - x};          // a quarter counter-clockwise
        default: return {x, y};
    }
}

// The upright image of `stored` per orientation, built pixel by pixel with shown_at.
template <class I>
I expected_upright(const I& stored, int orientation) {
    const bool quarter = orientation >= 5;
    I out = stored;
    out.width = quarter ? stored.height : stored.width;
    out.height = quarter ? stored.width : stored.height;
    for (int y = 0; y < stored.height; ++y)
        for (int x = 0; x < stored.width; ++x) {
            const auto [ux, uy] = shown_at(orientation, x, y, stored.width, stored.height);
            for (int c = 0; c < stored.channels; ++c) out.at(ux, uy, c) = stored.at(x, y, c);
        }
    return out;
}

bool near_colour(const Image& image, int x, int y, std::array<std::uint8_t, 3> colour) {
    for (int c = 0; c < 3; ++c)
        if (std::abs(int{image.at(x, y, c)} - int{colour[static_cast<std::size_t>(c)]}) > 12) return false;
    return true;
}

}  // namespace

TEST_CASE("apply_orientation turns a 3 x 2 array as EXIF orientations 1 to 8 say", "[image][exif]") {
    // Stored:  1 2 3
    //          4 5 6
    const std::vector<int> stored = {1, 2, 3, 4, 5, 6};
    struct Case {
        std::uint16_t orientation;
        int width, height;
        std::vector<int> upright;
    };
    const std::vector<Case> cases = {
        {1, 3, 2, {1, 2, 3, 4, 5, 6}},  // as stored
        {2, 3, 2, {3, 2, 1, 6, 5, 4}},  // mirrored left-right
        {3, 3, 2, {6, 5, 4, 3, 2, 1}},  // half a turn
        {4, 3, 2, {4, 5, 6, 1, 2, 3}},  // mirrored top-bottom
        {5, 2, 3, {1, 4, 2, 5, 3, 6}},  // transposed
        {6, 2, 3, {4, 1, 5, 2, 6, 3}},  // a quarter clockwise: the left column, read up, is the top row
        {7, 2, 3, {6, 3, 5, 2, 4, 1}},  // transverse
        {8, 2, 3, {3, 6, 2, 5, 1, 4}},  // a quarter counter-clockwise
    };
    for (const Case& c : cases) {
        INFO("orientation " << c.orientation);
        std::vector<int> values = stored;
        const OrientedSize size = apply_orientation(values, 3, 2, 1, c.orientation);
        CHECK(size.width == c.width);
        CHECK(size.height == c.height);
        CHECK(values == c.upright);

        // Two channels (value, -value) and floats move whole pixels alike.
        std::vector<float> pairs;
        for (const int v : stored) pairs.insert(pairs.end(), {float(v), float(-v)});
        apply_orientation(pairs, 3, 2, 2, c.orientation);
        std::vector<float> expected;
        for (const int v : c.upright) expected.insert(expected.end(), {float(v), float(-v)});
        CHECK(pairs == expected);
    }
    std::vector<int> values = stored;
    for (const std::uint16_t outside : {std::uint16_t{0}, std::uint16_t{9}, std::uint16_t{0xFFFF}}) {
        const OrientedSize size = apply_orientation(values, 3, 2, 1, outside);
        CHECK((size.width == 3 && size.height == 2 && values == stored));
    }
    std::vector<std::uint8_t> none;
    const OrientedSize empty = apply_orientation(none, 0, 4, 3, 6);
    CHECK((empty.width == 4 && empty.height == 0));
    CHECK_THROWS_AS(apply_orientation(values, 2, 2, 1, 6), usage_error);
    CHECK_THROWS_AS(apply_orientation(values, 3, 2, 0, 6), usage_error);
    CHECK(orientation_swaps_sides(6));
    CHECK_FALSE(orientation_swaps_sides(4));
    CHECK_FALSE(orientation_swaps_sides(9));
}

TEST_CASE("jpeg_exif_orientation reads the tag in either byte order, wherever the EXIF APP1 sits",
          "[image][exif]") {
    const Bytes jpeg_head = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};  // SOI then straight to the image data
    for (const bool little : {true, false}) {
        INFO((little ? "II" : "MM"));
        for (std::uint16_t o = 1; o <= 8; ++o)
            CHECK(jpeg_exif_orientation(with_segment(jpeg_head, app1(orientation_tiff(little, o)))) == o);
        // The Orientation as the only entry, and as a LONG as a few writers store it.
        CHECK(jpeg_exif_orientation(with_segment(jpeg_head, app1(tiff(little, {{0x0112, 3, 1, 8}})))) == 8);
        CHECK(jpeg_exif_orientation(with_segment(jpeg_head, app1(tiff(little, {{0x0112, 4, 1, 6}})))) == 6);
        // IFD0 somewhere other than right after the header.
        Bytes moved = tiff(little, {{0x0112, 3, 1, 3}}, 12);
        moved.insert(moved.begin() + 8, {0xAA, 0xBB, 0xCC, 0xDD});
        CHECK(jpeg_exif_orientation(with_segment(jpeg_head, app1(moved))) == 3);
    }
    // After a JFIF APP0 and an XMP APP1 (the first APP1 that holds EXIF counts), with fill bytes.
    const Bytes jfif = {0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    const Bytes xmp = app1({'<', 'x', '/', '>'}, std::string("http://ns.adobe.com/xap/1.0/\0", 29));
    Bytes layered = with_segment(jpeg_head, app1(orientation_tiff(false, 6)));
    layered = with_segment(layered, xmp);
    layered = with_segment(layered, {0xFF, 0xFF});
    layered = with_segment(layered, jfif);
    CHECK(jpeg_exif_orientation(layered) == 6);
    // A second EXIF APP1 after the first is not read.
    CHECK(jpeg_exif_orientation(with_segment(with_segment(jpeg_head, app1(orientation_tiff(true, 8))),
                                             app1(orientation_tiff(true, 3)))) == 3);
    // No EXIF at all, and EXIF after the image data starts (SOS ends the search).
    CHECK(jpeg_exif_orientation(with_segment(jpeg_head, jfif)) == 1);
    const Bytes after_sos = joined({jpeg_head, app1(orientation_tiff(true, 6))});
    CHECK(jpeg_exif_orientation(after_sos) == 1);
}

TEST_CASE("jpeg_exif_orientation gives 1 for damaged EXIF and any other bytes", "[image][exif]") {
    const Bytes jpeg_head = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};
    const auto in_jpeg = [&](const Bytes& tiff_block) {
        return jpeg_exif_orientation(with_segment(jpeg_head, app1(tiff_block)));
    };
    for (const bool little : {true, false}) {
        INFO((little ? "II" : "MM"));
        const Bytes good = orientation_tiff(little, 6);
        REQUIRE(in_jpeg(good) == 6);
        // The TIFF block cut short anywhere before the Orientation's value is complete.
        for (std::size_t n = 0; n < 8 + 2 + 12 + 8 + 2; ++n) {  // header, count, Make, Orientation
            INFO("cut to " << n << " bytes");
            CHECK(in_jpeg(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n))) == 1);
        }
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 1, 0}})) == 1);  // values outside 1 to 8
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 1, 9}})) == 1);
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 1, 0xFFFF}})) == 1);
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 1, 6}}, 0xFFFFFFF0u)) == 1);  // IFD0 past the end
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 1, 6}}, 0xFFFFFFFFu)) == 1);
        CHECK(in_jpeg(tiff(little, {{0x010F, 2, 4, 0}}, 8, 0xFFFF)) == 1);  // 65535 entries claimed, one there
        CHECK(in_jpeg(tiff(little, {{0x0112, 2, 1, 6}})) == 1);  // ASCII, not a number
        CHECK(in_jpeg(tiff(little, {{0x0112, 3, 2, 6}})) == 1);  // two values
        Bytes magic = good;
        magic[little ? 2 : 3] = 43;
        CHECK(in_jpeg(magic) == 1);
    }
    Bytes order = orientation_tiff(true, 6);
    order[0] = order[1] = 'X';
    CHECK(in_jpeg(order) == 1);

    // Segments that claim more bytes than there are, a length below 2, no marker where one must
    // be, an APP1 that only starts like EXIF.
    const Bytes whole = with_segment(jpeg_head, app1(orientation_tiff(true, 6)));
    CHECK(jpeg_exif_orientation(whole) == 6);
    std::size_t prefixes_read_as_1 = 0;
    const std::size_t app1_end = 2 + app1(orientation_tiff(true, 6)).size();
    for (std::size_t n = 0; n < app1_end; ++n)
        prefixes_read_as_1 += jpeg_exif_orientation(std::span(whole).first(n)) == 1;
    CHECK(prefixes_read_as_1 == app1_end);
    CHECK(jpeg_exif_orientation(std::span(whole).first(app1_end)) == 6);
    Bytes overlong = whole;
    overlong[4] = 0xFF;  // the APP1's length now runs far past the end
    CHECK(jpeg_exif_orientation(overlong) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00, 0xFF, 0xDA}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF, 0xDA}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8, 0x00, 0xE1, 0x00, 0x08}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x07, 'E', 'x', 'i', 'f', 0}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xFF}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{}) == 1);
    CHECK(jpeg_exif_orientation(Bytes{0xFF, 0xD8}) == 1);

    // Not a JPEG: a PNG (even one carrying EXIF-like bytes) and text.
    TemporaryFolder folder("exif_png");
    save_png(folder / "p.png", picture());
    const Bytes file = read_bytes(folder / "p.png");
    const std::span<const std::uint8_t> png(file);
    CHECK(jpeg_exif_orientation(png) == 1);
    CHECK(jpeg_exif_orientation(joined({png.first(8), app1(orientation_tiff(true, 6)), png.subspan(8)})) == 1);
    CHECK(jpeg_exif_orientation(Bytes{'h', 'e', 'l', 'l', 'o'}) == 1);

    // Random damage to the first bytes of an EXIF JPEG: some value 1 to 8 and nothing else.
    std::mt19937 random(20240611);
    std::size_t in_range = 0;
    const int trials = 4000;
    for (int t = 0; t < trials; ++t) {
        Bytes damaged = whole;
        const int flips = 1 + static_cast<int>(random() % 4);
        for (int f = 0; f < flips; ++f)
            damaged[2 + random() % (app1_end - 2)] = static_cast<std::uint8_t>(random());
        const std::uint16_t o = jpeg_exif_orientation(damaged);
        in_range += o >= 1 && o <= 8;
    }
    CHECK(in_range == static_cast<std::size_t>(trials));
}

TEST_CASE("JPEGs with EXIF orientations 1 to 8 load upright, in 8-bit, grey and float", "[image][exif]") {
    TemporaryFolder folder("exif_jpeg");
    const Image original = picture();
    save_jpeg(folder / "plain.jpg", original, 100);
    const Bytes plain = read_bytes(folder / "plain.jpg");
    REQUIRE(jpeg_exif_orientation(plain) == 1);
    // The pixels as stored, decoded without any EXIF: what each orientation turns.
    const Image stored = load_image(folder / "plain.jpg");
    const Image stored_grey = load_image(folder / "plain.jpg", 1);
    const FloatImage stored_float = load_image_float(folder / "plain.jpg");
    REQUIRE(stored.width == picture_width);
    REQUIRE(stored.height == picture_height);
    for (const auto& [x, y, corner] : {std::tuple{0, 0, top_left}, std::tuple{picture_width - 1, 0, top_right},
                                      std::tuple{0, picture_height - 1, bottom_left},
                                      std::tuple{picture_width - 1, picture_height - 1, bottom_right}})
        REQUIRE(near_colour(stored, x, y, stored_corner_colour(corner)));

    // Which stored corner shows at the upright top left, top right and bottom left.
    struct Corners {
        int orientation;
        Corner shown_top_left, shown_top_right, shown_bottom_left;
    };
    const std::array<Corners, 8> corners = {{
        {1, top_left, top_right, bottom_left},
        {2, top_right, top_left, bottom_right},
        {3, bottom_right, bottom_left, top_right},
        {4, bottom_left, bottom_right, top_left},
        {5, top_left, bottom_left, top_right},
        {6, bottom_left, top_left, bottom_right},  // the usual phone portrait: the stored left side shows at the top
        {7, bottom_right, top_right, bottom_left},
        {8, top_right, bottom_right, top_left},
    }};
    for (const bool little : {true, false})
        for (const Corners& expect : corners) {
            const int o = expect.orientation;
            INFO((little ? "II" : "MM") << " orientation " << o);
            const Bytes file = with_segment(plain, app1(orientation_tiff(little, static_cast<std::uint32_t>(o))));
            const fs::path path = folder / (std::to_string(o) + ".jpg");
            write_bytes(path, file);

            const Image upright = load_image(path);
            const bool quarter = o >= 5;
            CHECK(upright.width == (quarter ? picture_height : picture_width));
            CHECK(upright.height == (quarter ? picture_width : picture_height));
            CHECK(upright.channels == 3);
            CHECK(upright.pixels == expected_upright(stored, o).pixels);
            CHECK(near_colour(upright, 0, 0, stored_corner_colour(expect.shown_top_left)));
            CHECK(near_colour(upright, upright.width - 1, 0, stored_corner_colour(expect.shown_top_right)));
            CHECK(near_colour(upright, 0, upright.height - 1, stored_corner_colour(expect.shown_bottom_left)));

            const Image grey = load_image(path, 1);
            CHECK(grey.width == upright.width);
            CHECK(grey.pixels == expected_upright(stored_grey, o).pixels);
            const FloatImage floats = load_image_float(path);
            CHECK(floats.width == upright.width);
            CHECK(floats.height == upright.height);
            CHECK(floats.values == expected_upright(stored_float, o).values);
            const Image from_memory = load_image_from_memory(file, "memory.jpg");
            CHECK(from_memory.width == upright.width);
            CHECK(from_memory.pixels == upright.pixels);
            CHECK(load_image_float_from_memory(file, "memory.jpg", 3).values == floats.values);

            const ImageInfo info = read_image_info(path);
            CHECK(info.width == upright.width);
            CHECK(info.height == upright.height);
            CHECK(info.channels == 3);
        }
}

TEST_CASE("JPEGs with damaged EXIF load as stored", "[image][exif]") {
    TemporaryFolder folder("exif_damaged");
    save_jpeg(folder / "plain.jpg", picture(), 100);
    const Bytes plain = read_bytes(folder / "plain.jpg");
    const Image stored = load_image(folder / "plain.jpg");
    const Bytes good = orientation_tiff(false, 6);
    const std::vector<std::pair<std::string, Bytes>> damaged = {
        {"cut in the Orientation entry", Bytes(good.begin(), good.begin() + 8 + 2 + 12 + 5)},
        {"IFD0 past the end", tiff(true, {{0x0112, 3, 1, 6}}, 0x7FFFFFF0u)},
        {"65535 entries claimed", tiff(false, {{0x010F, 2, 4, 0}}, 8, 0xFFFF)},
        {"orientation 0", tiff(true, {{0x0112, 3, 1, 0}})},
        {"orientation 9", tiff(false, {{0x0112, 3, 1, 9}})},
    };
    for (const auto& [what, block] : damaged) {
        INFO(what);
        const Bytes file = with_segment(plain, app1(block));
        REQUIRE(jpeg_exif_orientation(file) == 1);
        write_bytes(folder / "d.jpg", file);
        const Image image = load_image(folder / "d.jpg");
        CHECK(image.width == picture_width);
        CHECK(image.height == picture_height);
        CHECK(image.pixels == stored.pixels);
        const ImageInfo info = read_image_info(folder / "d.jpg");
        CHECK((info.width == picture_width && info.height == picture_height));
    }
    // A PNG loads as it is whatever bytes it holds.
    save_png(folder / "p.png", picture());
    CHECK(load_image(folder / "p.png").pixels == picture().pixels);
    CHECK(read_image_info(folder / "p.png").width == picture_width);
}
