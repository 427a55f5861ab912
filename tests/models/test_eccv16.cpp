// Zhang et al.'s ECCV16 classifier and colorizer (seed 001): parameter count, the official
// PyTorch port's state_dict names and shapes (both ways), shapes, parity with the PyTorch twin of
// colorizers/eccv16.py, a safetensors round trip, and the head against the library's decoding.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/eccv16.hpp>

#include <filesystem>
#include <map>

#include "models/formula_weights.hpp"

using namespace chroma;
using namespace chroma::models;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

static_assert(Eccv16Classifier::in_channels == 1 && Eccv16Classifier::out_channels == 313);
static_assert(Eccv16Colorizer::in_channels == 1 && Eccv16Colorizer::out_channels == 2);

TEST_CASE("ECCV16: parameter count and shapes at a quarter of the input size") {
    Model<Eccv16Classifier> classifier(1);
    // conv1-conv7 with their BatchNorms: 37,696 + 221,696 + 1,475,840 + 5,900,800 + 3 x 7,080,448;
    // conv8: 2,097,408 (transposed 512 -> 256, 4x4) + 2 x 590,080 + 80,441 (1x1 to 313 bins).
    CHECK(classifier.parameter_count() == 32'235'385);
    classifier.eval();
    CHECK(classifier.output_shape(Shape{.n = 1, .c = 1, .h = 256, .w = 256}) ==
          Shape{.n = 1, .c = 313, .h = 64, .w = 64});
    CHECK(classifier.output_shape(Shape{.n = 1, .c = 1, .h = 176, .w = 256}) ==
          Shape{.n = 1, .c = 313, .h = 44, .w = 64});
    const Tensor<float> l(Shape{.n = 1, .c = 1, .h = 32, .w = 48});
    CHECK(classifier.forward(l).shape() == Shape{.n = 1, .c = 313, .h = 8, .w = 12});

    Model<Eccv16Colorizer> colorizer(2);
    CHECK(colorizer.parameter_count() == 32'235'385 + 2 * 313);  // model_out: 313 -> 2, no bias
    CHECK(colorizer.output_shape(Shape{.n = 2, .c = 1, .h = 256, .w = 256}) ==
          Shape{.n = 2, .c = 2, .h = 256, .w = 256});

    const Tensor<float> rgb(Shape{.n = 1, .c = 3, .h = 32, .w = 32});
    CHECK_THROWS_WITH(colorizer.forward(rgb), Catch::StartsWith("in layer 'model1.0': Conv2d(1->64") &&
                                                  Catch::Contains("[N=1, C=3, H=32, W=32]"));
}

TEST_CASE("ECCV16: every name and shape of the official state_dict, and no other") {
    const Fixture f("model_eccv16");
    Model<Eccv16Colorizer> model(3);
    std::map<std::string, std::vector<double>> chroma_shapes;
    model.visit_parameters([&](std::string_view name, Parameter<float>& p) {
        chroma_shapes[std::string(name)] = chroma::testing::torch_dims(p);
    });
    // Chroma -> PyTorch: each Chroma tensor is in the official state_dict with the same shape.
    for (const auto& [name, dims] : chroma_shapes) {
        INFO(name);
        REQUIRE(f.has("shape." + name));
        CHECK(f["shape." + name].values == dims);
    }
    // PyTorch -> Chroma: as many official tensors as Chroma ones, so none is missing.
    CHECK(f.count_with_prefix("shape.") == static_cast<int>(chroma_shapes.size()));
    CHECK(chroma_shapes.count("model1.4.running_mean") == 1);
    CHECK(chroma_shapes.at("model8.0.weight") == std::vector<double>{512, 256, 4, 4});
    CHECK(chroma_shapes.at("model8.6.weight") == std::vector<double>{313, 256, 1, 1});
    CHECK(chroma_shapes.at("model_out.weight") == std::vector<double>{2, 313, 1, 1});
    CHECK(chroma_shapes.count("model_out.bias") == 0);
}

TEST_CASE("ECCV16: the colorizers match the official module's forward") {
    const Fixture f("model_eccv16");
    const Tensor<double> l = f["input"].tensor();
    SECTION("official port: softmax, model_out, x4 bilinear, x 110") {
        chroma::testing::check_formula_parity<Eccv16Colorizer>(l, f["output"].tensor(), false);
    }
    SECTION("Caffe release: logits x 2.606 first") {
        Model<Eccv16CaffeColorizer, cpu, double> model;
        chroma::testing::fill_formula(model);
        model.eval();
        const double error = max_relative_error(model.forward(l), f["output_caffe"].tensor());
        INFO("max relative error " << error);
        CHECK(error < 1e-8);
    }
    SECTION("the classifier alone, on (L - 50) / 100") {
        Model<Eccv16Classifier, cpu, double> model;
        chroma::testing::fill_formula(model);  // same sorted names less model_out: same k for model1-8
        model.eval();
        const double error =
            max_relative_error(model.forward(color::normalize(l, color::lightness_centered)), f["logits"].tensor());
        INFO("max relative error " << error);
        CHECK(error < 1e-8);
    }
}

TEST_CASE("ECCV16: weights saved as safetensors by name load back into a fresh colorizer") {
    const Fixture f("model_eccv16");
    const auto path = std::filesystem::temp_directory_path() / "chroma_test_eccv16_formula.safetensors";
    {
        Model<Eccv16Colorizer> source(4);
        chroma::testing::fill_formula(source);
        io::save_safetensors(path, source, {{"format", "pt"}});
    }
    Model<Eccv16Colorizer> loaded(5);  // different random weights until loaded
    io::load_safetensors(path, loaded);  // strict: the file holds exactly the model's names
    std::filesystem::remove(path);
    loaded.eval();
    const Tensor<double> ab = chroma::testing::to_double(loaded.forward(chroma::testing::to_float(f["input"].tensor())));
    const double error = max_relative_error(ab, f["output"].tensor());
    INFO("max relative error " << error);
    CHECK(error < 1e-4);
}

TEST_CASE("ECCV16: the heads equal the library's mean and annealed-mean decoding, upsampled") {
    const Fixture f("model_eccv16");
    const Tensor<double> logits = f["logits"].tensor();
    Model<Softmax, cpu, double> softmax;
    const Tensor<double> probabilities = softmax.forward(logits).clone();
    Model<Upsample<4, upsample_mode::bilinear>, cpu, double> upsample;
    const auto bins = color::AbBins::zhang();

    // Official head: the plain mean of the bin centres (annealed mean at T = 1).
    const Tensor<double> mean = upsample.forward(color::decode(probabilities, bins, color::Decoding::mean())).clone();
    CHECK(max_relative_error(eccv16_colorize(logits), mean) < 1e-9);
    // Caffe head: softmax(2.606 z) is the annealed mean at T = 1 / 2.606.
    const Tensor<double> annealed =
        upsample.forward(color::decode(probabilities, bins, color::Decoding::annealed_mean(1.0 / 2.606))).clone();
    CHECK(max_relative_error(eccv16_colorize(logits, /*caffe=*/true), annealed) < 1e-9);
    CHECK(eccv16_colorize(logits).shape() == Shape{.n = 2, .c = 2, .h = 32, .w = 24});
}
