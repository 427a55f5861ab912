// The chroma program's colorize, evaluate and export commands, run as a user would: model files
// found and rebuilt, folders with broken files, 16-bit and RGBA PNGs, a 1x1 image, a photo far
// larger than any model input, and the rules about what may be overwritten.
#include <catch2/catch.hpp>

#include "../../apps/chroma/colorize_command.hpp"
#include "../../apps/chroma/evaluate_command.hpp"
#include "../../apps/chroma/export_command.hpp"

#include <chroma/inference/model_file.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temporary_folder.hpp"

using namespace chroma;
using chroma::testing::TemporaryFolder;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures = CHROMA_FIXTURE_DIR;

Image gradient(int width, int height, int channels) {
    Image image{.width = width, .height = height, .channels = channels, .pixels = {}};
    image.pixels.resize(static_cast<std::size_t>(width) * height * channels);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < channels; ++c)
                image.pixels[(static_cast<std::size_t>(y) * width + x) * channels + c] =
                    static_cast<std::uint8_t>((x * 255 / std::max(1, width - 1) + c * 60 + y) % 256);
    return image;
}

/// A light64 model file with the library's default initialisation (what the commands load).
fs::path model_file(const TemporaryFolder& folder) {
    const fs::path path = folder / "model.safetensors";
    auto model = inference::make_colorizer("light64");
    model->set_decoding(color::Decoding::annealed_mean(0.5));
    inference::save_model_file(path, *model, "untrained, for tests");
    return path;
}

/// Runs a command with its standard output captured.
template <class Command>
int run(Command command, std::vector<std::string> args, std::string* printed = nullptr) {
    std::ostringstream captured;
    auto* old = std::cout.rdbuf(captured.rdbuf());
    int status = 0;
    try {
        status = command(args);
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
    if (printed) *printed = captured.str();
    return status;
}

}  // namespace

TEST_CASE("colorize handles a folder of mixed, broken and odd images", "[cli]") {
    TemporaryFolder folder("colorize");
    const fs::path model = model_file(folder);
    const fs::path photos = folder / "photos";
    fs::create_directories(photos / "sub");
    save_jpeg(photos / "rgb.jpg", gradient(80, 60, 3));
    save_png(photos / "rgba.png", gradient(30, 20, 4));
    save_png(photos / "sub" / "one_pixel.png", gradient(1, 1, 1));
    fs::copy_file(fixtures / "gray16_4x3.png", photos / "gray16.png");
    std::ofstream(photos / "notes.jpg") << "not an image";
    {
        std::ifstream in(photos / "rgba.png", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(photos / "cut.png", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
    }

    const fs::path out = folder / "out";
    std::string printed;
    const int status = run(cli::run_colorize,
                           {photos.string(), "-o", out.string(), "--model", model.string(), "--compare", "--quiet", "--grid",
                            (folder / "grid.png").string()},
                           &printed);
    CHECK(status == 1);  // two files could not be read
    CHECK_THAT(printed, Catch::Contains("colourised 4 of 6"));
    CHECK_THAT(printed, Catch::Contains("notes.jpg"));
    CHECK_THAT(printed, Catch::Contains("cut.png"));

    const Image rgb = load_image(out / "rgb.jpg");
    CHECK((rgb.width == 80 && rgb.height == 60 && rgb.channels == 3));
    const Image rgba = load_image(out / "rgba.png");
    REQUIRE(rgba.channels == 4);
    const Image rgba_in = gradient(30, 20, 4);
    for (std::size_t i = 0; i < rgba.pixel_count(); ++i) CHECK(rgba.pixels[i * 4 + 3] == rgba_in.pixels[i * 4 + 3]);
    const ImageInfo one = read_image_info(out / "sub" / "one_pixel.png");
    CHECK((one.width == 1 && one.height == 1 && one.channels == 3));
    const ImageInfo gray16 = read_image_info(out / "gray16.png");
    CHECK((gray16.width == 4 && gray16.height == 3 && gray16.channels == 3 && gray16.bits_per_channel == 8));
    CHECK(fs::exists(out / "rgb_compare.png"));
    CHECK(read_image_info(out / "rgb_compare.png").width > 3 * 80);  // gray | colourised | original
    CHECK(!fs::exists(out / "notes.png"));
    CHECK(read_image_info(folder / "grid.png").height > 4 * 64);  // a row for each of the 4 photos

    // Results exist now: refused without --force, nothing touched; replaced with it.
    const auto written = fs::last_write_time(out / "rgb.jpg");
    CHECK_THROWS_WITH(run(cli::run_colorize, {photos.string(), "-o", out.string(), "--model", model.string(), "--quiet"}),
                      Catch::Contains("already exist") && Catch::Contains("--force"));
    CHECK(fs::last_write_time(out / "rgb.jpg") == written);
    CHECK(run(cli::run_colorize, {(photos / "rgb.jpg").string(), "-o", out.string(), "--model", model.string(), "--force",
                                  "--quiet"}) == 0);
}

TEST_CASE("colorize never writes over its inputs and says what is wrong with its options", "[cli]") {
    TemporaryFolder folder("colorize_rules");
    const fs::path model = model_file(folder);
    const fs::path photo = folder / "photo.png";
    save_png(photo, gradient(16, 16, 3));

    CHECK_THROWS_WITH(run(cli::run_colorize, {photo.string(), "-o", photo.string(), "--model", model.string(), "--force"}),
                      Catch::Contains("would replace an input"));
    CHECK_THROWS_WITH(run(cli::run_colorize, {folder.path.string(), "-o", folder.path.string(), "--model", model.string(),
                                              "--force"}),
                      Catch::Contains("would replace an input"));
    CHECK_THROWS_WITH(run(cli::run_colorize, {(folder / "missing.jpg").string(), "--model", model.string()}),
                      Catch::Contains("missing.jpg"));
    CHECK_THROWS_WITH(run(cli::run_colorize, {photo.string(), "-o", (folder / "o.png").string(), "--model", model.string(),
                                              "--decode", "median"}),
                      Catch::Contains("median"));
    CHECK_THROWS_WITH(run(cli::run_colorize, {photo.string(), "-o", (folder / "o.png").string(), "--model", model.string(),
                                              "--backend", "tpu"}),
                      Catch::Contains("cpu or cuda"));
    CHECK_THROWS_WITH(run(cli::run_colorize, {photo.string(), "-o", (folder / "o.png").string(), "--model",
                                              (folder / "nope.safetensors").string()}),
                      Catch::Contains("nope.safetensors"));
    CHECK_THROWS_AS(run(cli::run_colorize, {photo.string(), "--frobnicate"}), cli::usage_failure);
    // One input file and an image file name as -o: written exactly there.
    CHECK(run(cli::run_colorize, {photo.string(), "-o", (folder / "exact.jpg").string(), "--model", model.string(),
                                  "--decode", "topk:2", "--quiet"}) == 0);
    CHECK(read_image_info(folder / "exact.jpg").width == 16);
}

TEST_CASE("colorize keeps a photo far larger than the model's input at its full size", "[cli][large]") {
    TemporaryFolder folder("colorize_large");
    const fs::path model = model_file(folder);
#if defined(__SANITIZE_ADDRESS__)
    const int width = 3000, height = 2000;  // the same code paths; the full size takes minutes under ASan
#else
    const int width = 12000, height = 8000;
#endif
    save_jpeg(folder / "large.jpg", gradient(width, height, 3), 80);
    REQUIRE(run(cli::run_colorize, {(folder / "large.jpg").string(), "-o", (folder / "out").string(), "--model",
                                    model.string(), "--quiet"}) == 0);
    const ImageInfo info = read_image_info(folder / "out" / "large.jpg");
    CHECK((info.width == width && info.height == height && info.channels == 3));
    // Above the pixel limit: refused from the header, reported, nothing written.
    std::string printed;
    CHECK(run(cli::run_colorize, {(folder / "large.jpg").string(), "-o", (folder / "small").string(), "--model",
                                  model.string(), "--max-pixels", "1000000", "--quiet"},
              &printed) == 1);
    CHECK_THAT(printed, Catch::Contains("large.jpg") && Catch::Contains("max"));
    CHECK(!fs::exists(folder / "small" / "large.jpg"));
}

TEST_CASE("model files: checkpoints export to safetensors that rebuild the same model", "[cli]") {
    TemporaryFolder folder("export");
    auto original = inference::make_colorizer("light64");
    // A checkpoint as the trainer writes it: parameters under "model.", the architecture as text.
    io::Checkpoint checkpoint;
    auto* typed = dynamic_cast<inference::ClassifierColorizer<models::LightClassifier>*>(original.get());
    REQUIRE(typed != nullptr);
    init::pytorch_default(typed->model(), 99);
    io::save_parameters(checkpoint, typed->model());
    checkpoint.put_text("architecture", "light64");
    checkpoint.save(folder / "checkpoint.ckpt");

    REQUIRE(run(cli::run_export, {(folder / "checkpoint.ckpt").string(), "-o", (folder / "m.safetensors").string(),
                                  "--decode", "annealed:0.3", "--size", "72"}) == 0);
    auto loaded = inference::load_colorizer(folder / "m.safetensors");
    CHECK(loaded->traits().architecture == "light64");
    CHECK(loaded->traits().native_size == 72);
    CHECK(loaded->decoding().temperature == 0.3);
    auto from_checkpoint = inference::load_colorizer(folder / "checkpoint.ckpt");
    original->set_decoding(color::Decoding::annealed_mean(0.3));
    from_checkpoint->set_decoding(color::Decoding::annealed_mean(0.3));
    const Tensor<float> l = inference::lightness_at(gradient(40, 40, 3), {64, 64});
    const Tensor<float> a = original->predict_ab(l);
    const Tensor<float> b = loaded->predict_ab(l);
    const Tensor<float> c = from_checkpoint->predict_ab(l);
    for (index_t i = 0; i < a.size(); ++i) {
        REQUIRE(b.data()[i] == a.data()[i]);
        REQUIRE(c.data()[i] == a.data()[i]);
    }
    CHECK_THROWS_WITH(run(cli::run_export, {(folder / "checkpoint.ckpt").string(), "-o", (folder / "m.safetensors").string()}),
                      Catch::Contains("--force"));

    // Files that do not say what they hold, or hold something else.
    io::Checkpoint anonymous;
    io::save_parameters(anonymous, typed->model());
    anonymous.save(folder / "anonymous.ckpt");
    CHECK_THROWS_WITH(inference::load_colorizer(folder / "anonymous.ckpt"), Catch::Contains("architecture"));
    io::Checkpoint wrong;
    io::save_parameters(wrong, typed->model());
    wrong.put_text("architecture", "colornet-ae");
    wrong.save(folder / "wrong.ckpt");
    CHECK_THROWS_WITH(inference::load_colorizer(folder / "wrong.ckpt"),
                      Catch::Contains("wrong.ckpt") && Catch::Contains("holds colornet-ae"));
    io::SafetensorsWriter bare;
    bare.add("x", Tensor<float>(Shape{.n = 1, .c = 1, .h = 1, .w = 1}));
    bare.save(folder / "bare.safetensors");
    CHECK_THROWS_WITH(inference::load_colorizer(folder / "bare.safetensors"), Catch::Contains("does not say"));
    CHECK_THROWS_WITH(inference::make_colorizer("vgg"), Catch::Contains("light64"));
    CHECK_THROWS_WITH(inference::load_colorizer(folder.path), Catch::Contains("folder"));
}

// A folder of `count` gradient photos of different widths and one unreadable file.
static fs::path photo_folder(const TemporaryFolder& folder, int count) {
    const fs::path photos = folder / "photos";
    fs::create_directories(photos);
    for (int i = 0; i < count; ++i) save_png(photos / ("p" + std::to_string(i) + ".png"), gradient(40 + 8 * i, 32, 3));
    std::ofstream(photos / "broken.png") << "no";
    return photos;
}

TEST_CASE("evaluate scores a model and the gray baseline and draws a grid", "[cli]") {
    TemporaryFolder folder("evaluate");
    const fs::path model = model_file(folder);
    const fs::path photos = photo_folder(folder, 3);
    std::string printed;
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--grid",
                                    (folder / "grid.png").string(), "--quiet"},
                &printed) == 0);
    CHECK_THAT(printed, Catch::Contains("gray baseline") && Catch::Contains("CIEDE2000") &&
                            Catch::Contains("skipped 1") && Catch::Contains("broken.png"));
    const ImageInfo grid = read_image_info(folder / "grid.png");
    CHECK(grid.height > 3 * 32);
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--model", model.string()}), Catch::Contains("--data"));

    // The calibration split: of the 3 training files (validation 1 of 4), half (2) are held out.
    std::string calibration;
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--split", "calibration",
                                    "--validation-fraction", "0.25", "--calibration-fraction", "0.5", "--grid", "none",
                                    "--quiet"},
                &calibration) == 0);
    CHECK_THAT(calibration, Catch::Contains("data: 2 photos") && Catch::Contains("(calibration split)"));
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--split", "tests"}),
                      Catch::Contains("calibration") && Catch::Contains("'tests'"));

    // --compare scores a second model on the same photos and adds its column to the grid: the
    // same model compared with itself gives the same differences from gray.
    std::string compared;
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--compare", model.string(),
                                    "--grid", (folder / "grid4.png").string(), "--quiet"},
                &compared) == 0);
    const auto line_after = [](const std::string& text, const std::string& start) {
        const auto at = text.find(start);
        return at == std::string::npos ? std::string("(none)") : text.substr(at + start.size(), text.find('\n', at) - at - start.size());
    };
    CHECK(line_after(compared, "compared - gray:") == line_after(compared, "model - gray:"));
    CHECK(line_after(compared, "model - gray:") != "(none)");
    CHECK(read_image_info(folder / "grid4.png").width > grid.width);
    CHECK_THROWS_AS(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--compare",
                                            (folder / "absent.safetensors").string(), "--quiet"}),
                    io::file_error);
}

TEST_CASE("evaluate writes each photo's scores and brackets its figures with bootstrap intervals", "[cli]") {
    TemporaryFolder folder("evaluate_per_photo");
    const fs::path model = model_file(folder);
    const fs::path photos = photo_folder(folder, 5);
    std::string printed;
    const fs::path csv = folder / "scores.csv";
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--grid", "none",
                                    "--per-photo", csv.string(), "--quiet"},
                &printed) == 0);

    // A header and one row per readable photo; the broken one is skipped there too.
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    CHECK(header == "file,psnr_db,gray_psnr_db,ciede2000,gray_ciede2000,colourfulness,true_colourfulness");
    std::vector<std::vector<double>> rows;
    while (std::getline(in, line)) {
        CHECK(line.find("broken.png") == std::string::npos);
        std::vector<double> row;
        std::stringstream fields(line.substr(line.find(',') + 1));
        for (std::string field; std::getline(fields, field, ',');) row.push_back(std::stod(field));
        REQUIRE(row.size() == 6);
        rows.push_back(row);
    }
    REQUIRE(rows.size() == 5);

    // The rows average to the printed means, and each interval contains its point estimate.
    double psnr_gain = 0, ciede_gain = 0, colour = 0, true_colour = 0;
    for (const auto& r : rows) {
        psnr_gain += (r[0] - r[1]) / 5;
        ciede_gain += (r[2] - r[3]) / 5;
        colour += r[4];
        true_colour += r[5];
    }
    double printed_psnr = 0, printed_ciede = 0;
    REQUIRE(std::sscanf(printed.substr(printed.find("model - gray:")).c_str(),
                        "model - gray: PSNR %lf dB, CIEDE2000 %lf", &printed_psnr, &printed_ciede) == 2);
    CHECK(psnr_gain == Approx(printed_psnr).margin(0.006));
    CHECK(ciede_gain == Approx(printed_ciede).margin(0.006));
    double psnr_low = 0, psnr_high = 0, ciede_low = 0, ciede_high = 0, colour_low = 0, colour_high = 0;
    const auto at = printed.find("95% intervals (bootstrap over the 5 photos):");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(printed.substr(at).c_str(),
                        "95%% intervals (bootstrap over the 5 photos): PSNR %lf to %lf dB, CIEDE2000 %lf to %lf; "
                        "colourfulness %lf to %lf",
                        &psnr_low, &psnr_high, &ciede_low, &ciede_high, &colour_low, &colour_high) == 6);
    CHECK(psnr_low <= psnr_gain + 0.005);
    CHECK(psnr_gain <= psnr_high + 0.005);
    CHECK(ciede_low <= ciede_gain + 0.005);
    CHECK(ciede_gain <= ciede_high + 0.005);
    CHECK(colour_low <= colour / true_colour + 0.0005);
    CHECK(colour / true_colour <= colour_high + 0.0005);
}

TEST_CASE("a chroma gain is exported with the model, printed by evaluate and checked", "[cli]") {
    TemporaryFolder folder("gain");
    const fs::path model = model_file(folder);
    const fs::path photos = folder / "photos";
    fs::create_directories(photos);
    save_png(photos / "p.png", gradient(48, 40, 3));
    const fs::path boosted = folder / "boosted.safetensors";
    REQUIRE(run(cli::run_export, {model.string(), "-o", boosted.string(), "--chroma-gain", "1.25"}) == 0);
    auto plain = inference::load_colorizer(model);
    auto loaded = inference::load_colorizer(boosted);
    CHECK(plain->chroma_gain() == 1.0f);
    CHECK(loaded->chroma_gain() == 1.25f);
    const Tensor<float> l = inference::lightness_at(gradient(40, 40, 3), {64, 64});
    const Tensor<float> a = plain->predict_ab(l);
    const Tensor<float> b = loaded->predict_ab(l);
    for (index_t i = 0; i < a.size(); ++i) REQUIRE(b.data()[i] == Approx(1.25f * a.data()[i]).margin(1e-5));

    // evaluate's least-squares gain is the one that minimises the ab error: scoring the boosted
    // model reports the same gain as scoring the plain one.
    auto gain_printed = [&](const fs::path& m) {
        std::string printed;
        REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", m.string(), "--grid", "none", "--quiet"},
                    &printed) == 0);
        const auto at = printed.find("least-squares chroma gain on these photos: ");
        REQUIRE(at != std::string::npos);
        return std::stod(printed.substr(at + 43));
    };
    CHECK(gain_printed(boosted) == Approx(gain_printed(model)).epsilon(2e-3).margin(2e-3));

    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--chroma-gain", "x"}),
                      Catch::Contains("--chroma-gain"));
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--chroma-gain", "0"}),
                      Catch::Contains("--chroma-gain"));
    // A file whose gain is not a number names itself.
    auto typed = inference::make_colorizer("light64");
    typed->save(folder / "odd.safetensors", {{"architecture", "light64"}, {"chroma_gain", "bright"}});
    CHECK_THROWS_WITH(inference::load_colorizer(folder / "odd.safetensors"),
                      Catch::Contains("odd.safetensors") && Catch::Contains("chroma_gain"));
}

TEST_CASE("mirror averaging is exported with the model, changes its prediction and is checked", "[cli]") {
    TemporaryFolder folder("mirror");
    const fs::path model = model_file(folder);
    const fs::path averaged = folder / "averaged.safetensors";
    REQUIRE(run(cli::run_export, {model.string(), "-o", averaged.string(), "--mirror-average", "yes"}) == 0);
    auto plain = inference::load_colorizer(model);
    auto loaded = inference::load_colorizer(averaged);
    CHECK_FALSE(plain->mirror_average());
    CHECK(loaded->mirror_average());
    CHECK_THAT(cli::model_summary(*loaded), Catch::Contains("mirror-averaged"));
    // The file's setting is what colorize uses: the loaded model predicts what the plain one
    // predicts once told to average.
    const Tensor<float> l = inference::lightness_at(gradient(40, 40, 3), {64, 64});
    const Tensor<float> from_file = loaded->predict_ab(l).clone();
    const Tensor<float> unaveraged = plain->predict_ab(l).clone();
    plain->set_mirror_average(true);
    const Tensor<float> told = plain->predict_ab(l);
    double changed = 0.0;
    for (index_t i = 0; i < told.size(); ++i) {
        REQUIRE(from_file.data()[i] == Approx(told.data()[i]).margin(1e-5));
        changed = std::max(changed, double(std::abs(told.data()[i] - unaveraged.data()[i])));
    }
    CHECK(changed > 1e-3);
    const fs::path photos = folder / "photos";
    fs::create_directories(photos);
    save_png(photos / "p.png", gradient(48, 40, 3));
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--mirror-average", "maybe"}),
                      Catch::Contains("--mirror-average"));
    auto typed = inference::make_colorizer("light64");
    typed->save(folder / "odd.safetensors", {{"architecture", "light64"}, {"mirror_average", "sometimes"}});
    CHECK_THROWS_WITH(inference::load_colorizer(folder / "odd.safetensors"),
                      Catch::Contains("odd.safetensors") && Catch::Contains("mirror_average"));
}

TEST_CASE("the bundled model colours the sample photos closer to the truth than gray", "[cli][bundled]") {
    // The repository's own model and photos (samples/: validation photos it never trained on).
    const fs::path root = fixtures / ".." / "..";
    const fs::path model = root / "models" / cli::bundled_model_name;
    REQUIRE(fs::exists(model));
    CHECK(inference::load_colorizer(model)->traits().architecture == "resnet-unet-classifier");
    std::string printed;
    REQUIRE(run(cli::run_evaluate, {"--data", (root / "samples").string(), "--model", model.string(), "--grid", "none",
                                    "--quiet"},
                &printed) == 0);
    INFO(printed);
    double psnr_gain = 0, ciede_change = 0, colourfulness = 0;
    const auto at = printed.find("model - gray:");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(printed.c_str() + at, "model - gray: PSNR %lf dB, CIEDE2000 %lf; colourfulness %lf", &psnr_gain,
                        &ciede_change, &colourfulness) == 3);
    // On these five photos the bundled classifier scores +2.08 dB, -2.67 and 0.50 (the same
    // weights decoded at lambda 0.2 +2.06 dB, -2.75 and 0.49; the one before
    // them +2.22 dB, -2.98 and 0.48, the one before that +1.87 dB, -2.51 and 0.50; its first
    // version +2.08 dB, -3.14 and 0.46; the regression model before them +1.39 dB, -2.41 and 0.32).
    CHECK(psnr_gain > 1.8);
    CHECK(ciede_change < -2.4);
    CHECK(colourfulness > 0.4);
}

TEST_CASE("colorize takes points of colour for a user-guided model, from a file or a reference photo", "[cli]") {
    TemporaryFolder folder("colorize_hints");
    const fs::path model = folder / "hints.safetensors";
    inference::save_model_file(model, *inference::make_colorizer("siggraph17-small"), "untrained, for tests");
    const fs::path photo = folder / "photo.png";
    save_png(photo, gradient(48, 40, 3));
    const fs::path hints = folder / "hints.json";
    std::ofstream(hints) << R"({"points": [{"x": 10, "y": 12, "rgb": [20, 200, 40], "radius": 3}]})";

    std::string printed;
    REQUIRE(run(cli::run_colorize, {photo.string(), "-o", (folder / "a.png").string(), "--model", model.string(),
                                    "--hints", hints.string()},
                &printed) == 0);
    CHECK_THAT(printed, Catch::Contains("hints: 1 point"));
    REQUIRE(run(cli::run_colorize, {photo.string(), "-o", (folder / "b.png").string(), "--model", model.string(),
                                    "--quiet"}) == 0);
    // The point changes the colours (an untrained network still reads its input).
    CHECK(load_image(folder / "a.png").pixels != load_image(folder / "b.png").pixels);
    REQUIRE(run(cli::run_colorize, {photo.string(), "-o", (folder / "c.png").string(), "--model", model.string(),
                                    "--hints-from", photo.string(), "5"},
                &printed) == 0);
    CHECK_THAT(printed, Catch::Contains("hints: 5 points"));

    const fs::path other = folder / "other.png";
    save_png(other, gradient(40, 40, 3));
    const auto refused = [&](std::vector<std::string> args, const std::string& says) {
        INFO(says);
        args.insert(args.end(), {"--model", model.string(), "-o", (folder / "out").string(), "--quiet"});
        CHECK_THROWS_WITH(run(cli::run_colorize, args), Catch::Contains(says));
    };
    refused({photo.string(), other.string(), "--hints", hints.string()}, "one photo");
    refused({photo.string(), "--hints-from", photo.string()}, "--hints-from needs a colour photo and a number");
    refused({photo.string(), "--hints-from", photo.string(), "many"}, "--hints-from needs");
    refused({photo.string(), "--hints", hints.string(), "--hints-from", photo.string(), "2"}, "not both");
    CHECK_THROWS_WITH(run(cli::run_colorize, {photo.string(), "-o", (folder / "d.png").string(), "--model",
                                              model_file(folder).string(), "--hints", hints.string()}),
                      Catch::Contains("light64 takes no hints"));
    // A reference of another size, a point outside the photo: the photo is reported as failed.
    REQUIRE(run(cli::run_colorize, {photo.string(), "-o", (folder / "f.png").string(), "--model", model.string(),
                                    "--hints-from", other.string(), "5"},
                &printed) == 1);
    CHECK_THAT(printed, Catch::Contains("other.png is 40 x 40, the photo 48 x 40"));
    std::ofstream(folder / "outside.json") << R"({"points": [{"x": 48, "y": 1, "lab": [50, 10, 10]}]})";
    REQUIRE(run(cli::run_colorize, {photo.string(), "-o", (folder / "e.png").string(), "--model", model.string(),
                                    "--hints", (folder / "outside.json").string()},
                &printed) == 1);
    CHECK_THAT(printed, Catch::Contains("outside.json: point 1") && Catch::Contains("outside the 48 x 40 photo"));
}

TEST_CASE("evaluate --hints scores a user-guided model under each number of true-colour points", "[cli]") {
    TemporaryFolder folder("evaluate_hints");
    const fs::path model = folder / "hints.safetensors";
    inference::save_model_file(model, *inference::make_colorizer("siggraph17-small"), "untrained, for tests");
    const fs::path photos = folder / "photos";
    fs::create_directories(photos);
    for (int i = 0; i < 3; ++i) save_png(photos / ("p" + std::to_string(i) + ".png"), gradient(48 + 8 * i, 40, 3));
    std::string printed;
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--hints", "0,2,5",
                                    "--hints-plot", (folder / "plot.png").string(), "--grid",
                                    (folder / "grid.png").string(), "--quiet"},
                &printed) == 0);
    const auto row = [&](const std::string& start) {
        const auto at = printed.find("\n" + start + " ");
        return at == std::string::npos ? std::string("(none)") : printed.substr(at + 1, printed.find('\n', at + 1) - at - 1);
    };
    CHECK(row("0") != "(none)");
    CHECK(row("2") != "(none)");
    CHECK(row("5") != "(none)");
    CHECK(row("gray") != "(none)");
    CHECK(read_image_info(folder / "plot.png").width == 800);
    // gray | 0 | 2 | 5 points | truth, a row per photo.
    CHECK(read_image_info(folder / "grid.png").width > 5 * 48);

    // No points is the model alone: the 0 row's PSNR is plain evaluate's.
    std::string plain;
    REQUIRE(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--grid", "none", "--quiet"},
                &plain) == 0);
    const auto psnr_after = [](const std::string& text, const std::string& start) {
        const auto at = text.find("\n" + start);
        return at == std::string::npos ? -1.0 : std::stod(text.substr(at + 1 + start.size()));
    };
    CHECK(psnr_after(printed, "0 ") == Approx(psnr_after(plain, "model ")).margin(0.006));

    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--hints", "5,2"}),
                      Catch::Contains("increasing"));
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model_file(folder).string(),
                                              "--hints", "1"}),
                      Catch::Contains("light64 takes no hints"));
    CHECK_THROWS_WITH(run(cli::run_evaluate, {"--data", photos.string(), "--model", model.string(), "--hints-plot",
                                              (folder / "p.png").string()}),
                      Catch::Contains("give --hints too"));
}

TEST_CASE("the bundled user-guided model moves toward the truth when given its colours", "[cli][bundled]") {
    const fs::path root = fixtures / ".." / "..";
    const fs::path model = root / "models" / "chroma-siggraph17-small.safetensors";
    REQUIRE(fs::exists(model));
    CHECK(inference::load_colorizer(model)->traits().takes_hints);
    std::string printed;
    REQUIRE(run(cli::run_evaluate, {"--data", (root / "samples").string(), "--model", model.string(), "--hints", "0,10",
                                    "--grid", "none", "--quiet"},
                &printed) == 0);
    INFO(printed);
    double psnr[2] = {0, 0}, ciede[2] = {0, 0}, gray_psnr = 0;
    for (int k = 0; k < 2; ++k) {
        const auto at = printed.find(k == 0 ? "\n0 " : "\n10 ");
        REQUIRE(at != std::string::npos);
        int count = 0;
        double ssim = 0, colourfulness = 0;
        REQUIRE(std::sscanf(printed.c_str() + at, "%d %lf %lf %lf %lf", &count, &psnr[k], &ssim, &colourfulness,
                            &ciede[k]) == 5);
    }
    const auto gray_at = printed.find("\ngray ");
    REQUIRE(gray_at != std::string::npos);
    REQUIRE(std::sscanf(printed.c_str() + gray_at, "\ngray %lf", &gray_psnr) == 1);
    // On the five sample photos (validation photos): gray 18.93 dB; no points 20.15 dB, CIEDE2000
    // 13.66; 10 points of their true colour 22.64 dB, 11.56.
    CHECK(psnr[0] > gray_psnr + 0.8);
    CHECK(psnr[1] > psnr[0] + 1.8);
    CHECK(ciede[1] < ciede[0] - 1.5);
}
