// The SIGGRAPH17 user-guided generator: parameter count and shapes, the official PyTorch port's
// state_dict names and shapes (both ways, less the forward-unused model_class), and parity with
// the PyTorch twin of colorizers/siggraph17.py in evaluation and training mode.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/siggraph17.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/formula_weights.hpp"

using namespace chroma;
using namespace chroma::models;
using chroma::testing::Fixture;

TEST_CASE("SIGGRAPH17: parameter count of the twin, and the input's size kept") {
    const Fixture f("model_siggraph17");
    Model<Siggraph17Generator> generator(1);
    CHECK(generator.parameter_count() == static_cast<long long>(f["count"].values.at(0)));
    CHECK(generator.output_shape(Shape{.n = 1, .c = 4, .h = 256, .w = 176}) == Shape{.n = 1, .c = 2, .h = 256, .w = 176});
    // L alone is the wrong input: the hints and the mask are part of it.
    CHECK_THROWS_WITH(generator.forward(Tensor<float>(Shape{.n = 1, .c = 1, .h = 16, .w = 16})),
                      Catch::Contains("model1.0") && Catch::Contains("[N=1, C=1, H=16, W=16]"));
}

TEST_CASE("SIGGRAPH17 small: the same names, every channel count a quarter, 2.1 million parameters") {
    Model<Siggraph17Generator> full(1);
    Model<Siggraph17Small> small(1);
    std::map<std::string, std::vector<index_t>> full_shapes;
    full.visit_parameters([&](std::string_view name, Parameter<float>& p) {
        const Shape s = p.value.shape();
        full_shapes[std::string(name)] = {s.n, s.c, s.h, s.w};
    });
    std::size_t seen = 0;
    small.visit_parameters([&](std::string_view name, Parameter<float>& p) {
        INFO(name);
        REQUIRE(full_shapes.contains(std::string(name)));
        const auto& f = full_shapes[std::string(name)];
        const Shape s = p.value.shape();
        // Channel counts shrink by 4 except the 4 inputs (L, hint ab, mask), the 2 outputs (ab)
        // and the single slots of biases and statistics.
        const auto quarter = [](index_t c) { return c <= 4 ? c : c / 4; };
        CHECK(s.n == quarter(f[0]));
        CHECK(s.c == quarter(f[1]));
        CHECK(s.h == f[2]);
        CHECK(s.w == f[3]);
        ++seen;
    });
    CHECK(seen == full_shapes.size());
    // By hand: 3x3 convs (in x out x 9 + out), 4x4 transposed convs (in x out x 16 + out) and
    // BatchNorm (2 per channel) of the network at 16, 32, 64 and 128 channels.
    CHECK(small.parameter_count() == 2131458);
    CHECK(small.output_shape(Shape{.n = 2, .c = 4, .h = 64, .w = 48}) == Shape{.n = 2, .c = 2, .h = 64, .w = 48});
}

TEST_CASE("SIGGRAPH17: every name and shape of the official state_dict but model_class, and no other") {
    const Fixture f("model_siggraph17");
    Model<Siggraph17Generator> model(3);
    std::map<std::string, std::vector<double>> chroma_shapes;
    model.visit_parameters([&](std::string_view name, Parameter<float>& p) {
        chroma_shapes[std::string(name)] = chroma::testing::torch_dims(p);
    });
    for (const auto& [name, dims] : chroma_shapes) {
        INFO(name);
        REQUIRE(f.has("shape." + name));
        CHECK(f["shape." + name].values == dims);
    }
    // The official tensors: Chroma's, plus model_class's weight and bias.
    CHECK(f.count_with_prefix("shape.") == static_cast<int>(chroma_shapes.size()) + 2);
    CHECK(f.has("shape.model_class.0.weight"));
    CHECK(chroma_shapes.at("model1.0.weight") == std::vector<double>{64, 4, 3, 3});
    CHECK(chroma_shapes.at("model8up.0.weight") == std::vector<double>{512, 256, 4, 4});
    CHECK(chroma_shapes.at("model1short10.0.weight") == std::vector<double>{128, 64, 3, 3});
    CHECK(chroma_shapes.count("model8.5.running_var") == 1);
    CHECK(chroma_shapes.at("model_out.0.weight") == std::vector<double>{2, 128, 1, 1});
}

TEST_CASE("SIGGRAPH17: the generator matches the official module's forward") {
    const Fixture f("model_siggraph17");
    const Tensor<double> x = f["input"].tensor();
    SECTION("evaluation mode") { chroma::testing::check_formula_parity<Siggraph17Generator>(x, f["output"].tensor(), false); }
    SECTION("training mode") {
        chroma::testing::check_formula_parity<Siggraph17Generator>(x, f["output_train"].tensor(), true);
    }
}

TEST_CASE("SIGGRAPH17: the official state_dict, model_class included, imports into a generator") {
    const Fixture f("model_siggraph17");
    Model<Siggraph17Generator> source(4);
    chroma::testing::fill_formula(source);
    const auto path = std::filesystem::temp_directory_path() / "chroma_test_siggraph17.safetensors";
    auto write = [&](const std::string& extra) {
        io::SafetensorsWriter writer;
        source.visit_parameters([&](std::string_view name, Parameter<float>& p) { writer.add(std::string(name), p.value, p.rank); });
        writer.add(extra + ".weight", Tensor<float>(Shape{.n = 529, .c = 256, .h = 1, .w = 1}));
        writer.add(extra + ".bias", Tensor<float>(Shape{.n = 529, .c = 1, .h = 1, .w = 1}), 1);
        writer.save(path);
    };
    write("model_class.0");
    Model<Siggraph17Generator> imported(5);  // other random weights until imported
    import_siggraph17(io::SafetensorsFile::load(path), imported);
    imported.eval();
    const Tensor<double> ab = chroma::testing::to_double(imported.forward(chroma::testing::to_float(f["input"].tensor())));
    const double error = chroma::testing::max_relative_error(ab, f["output"].tensor());
    INFO("max relative error " << error);
    CHECK(error < 1e-4);
    // Any other extra tensor is refused, by name; the strict loader refuses model_class too.
    CHECK_THROWS_WITH(io::load_safetensors(path, imported), Catch::Contains("'model_class.0."));
    write("model_extra");
    CHECK_THROWS_WITH(import_siggraph17(io::SafetensorsFile::load(path), imported), Catch::Contains("'model_extra."));
    std::filesystem::remove(path);
}
