// Starting an encoder from a torchvision resnet18 state_dict (models/pretrained_resnet.hpp),
// against PyTorch: tests/reference/pretrained_fixtures.py writes the state_dict (random weights,
// torchvision's names, with and without num_batches_tracked) and the network's output on grey
// photos. Also ResNetUNet, the bundled model's network: where its encoder lives, what it trains.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/pretrained_resnet.hpp>
#include <chroma/models/resnet_unet.hpp>

#include <string>

#include "support/fixture.hpp"
#include "support/temporary_folder.hpp"

using namespace chroma;
using namespace chroma::models;
using chroma::testing::Fixture;
using chroma::testing::max_relative_error;

namespace {

const std::string with_counters = std::string(CHROMA_FIXTURE_DIR) + "/resnet18_torchvision.safetensors";
const std::string without_counters = std::string(CHROMA_FIXTURE_DIR) + "/resnet18_torchvision_old.safetensors";

Tensor<double> normalized(const Tensor<double>& lightness, color::Normalization n) {
    Tensor<double> x(lightness.shape());
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = (lightness.data()[i] - n.offset) / n.scale;
    return x;
}

}  // namespace

TEST_CASE("torchvision resnet18 into ResNet18Encoder: PyTorch's features, with or without num_batches_tracked") {
    const Fixture f("pretrained_resnet");
    const Tensor<double> x = normalized(f["lightness"].tensor(), color::lightness_unit);
    for (const auto& file : {with_counters, without_counters}) {
        INFO(file);
        Model<ResNet18Encoder, cpu, double> encoder(1);
        import_resnet18(file, encoder, resnet18_encoder_import(color::lightness_unit));
        encoder.eval();
        CHECK(max_relative_error(encoder.forward(x), f["features_unit"].tensor()) < 1e-9);
        // The batch counter is copied where the file has one and reads as 0 where it has none.
        CHECK(encoder.parameter("4.1.bn2.num_batches_tracked").value.data()[0] ==
              (file == with_counters ? 1234.0 : 0.0));
    }
}

TEST_CASE("torchvision resnet18 into ResNetAutoencoder: the encoder under midlevel_resnet, the decoder untouched") {
    Model<ResNetAutoencoder, cpu, double> model(2);
    const Tensor<double> decoder_before = model.parameter("upsample.0.weight").value.clone();
    import_resnet18(without_counters, model, resnet_autoencoder_import());
    Model<ResNet18Encoder, cpu, double> encoder(1);
    import_resnet18(without_counters, encoder, resnet18_encoder_import(color::lightness_unit));
    for (const char* name : {"0.weight", "1.running_mean", "4.0.conv2.weight", "5.0.downsample.1.bias"})
        CHECK(max_relative_error(model.parameter(std::string("midlevel_resnet.") + name).value,
                                 encoder.parameter(name).value) == 0.0);
    CHECK(max_relative_error(model.parameter("upsample.0.weight").value, decoder_before) == 0.0);
}

TEST_CASE("torchvision resnet18 folded: the same features with no BatchNorm, in training mode too") {
    const Fixture f("pretrained_resnet");
    const Tensor<double> x = normalized(f["lightness"].tensor(), color::lightness_centered);
    Model<FoldedResNet18Encoder, cpu, double> encoder(1);
    import_resnet18(with_counters, encoder, folded_encoder_import());
    CHECK(max_relative_error(encoder.forward(x), f["features_centred"].tensor()) < 1e-9);
    encoder.eval();
    CHECK(max_relative_error(encoder.forward(x), f["features_centred"].tensor()) < 1e-9);
}

TEST_CASE("ResNetUNet: the folded encoder at its prefixes, frozen; ab at the input size") {
    Model<ResNetUNet> model(3);
    Model<FoldedResNet18Encoder> encoder(1);
    import_resnet18(with_counters, model, resnet_unet_import());
    import_resnet18(with_counters, encoder, folded_encoder_import());
    const auto same = [&](const std::string& in_model, const std::string& in_encoder) {
        INFO(in_model);
        const auto& a = model.parameter(in_model).value;
        const auto& b = encoder.parameter(in_encoder).value;
        REQUIRE(a.shape() == b.shape());
        for (index_t i = 0; i < a.size(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
    };
    same(std::string(resnet_unet::stem_prefix) + "conv1.weight", "0.conv1.weight");
    same(std::string(resnet_unet::stem_prefix) + "conv1.bias", "0.conv1.bias");
    same(std::string(resnet_unet::layer1_prefix) + "layer1.1.conv2.weight", "1.layer1.1.conv2.weight");
    same(std::string(resnet_unet::layer2_prefix) + "layer2.0.downsample.bias", "layer2.0.downsample.bias");
    same(std::string(resnet_unet::layer2_prefix) + "layer2.1.conv1.bias", "layer2.1.conv1.bias");

    // The encoder is frozen: released, every one of its values trains too.
    index_t encoder_values = 0;
    encoder.visit_parameters([&](std::string_view, auto& p) { encoder_values += p.value.size(); });
    const index_t trainable = model.parameter_count();
    set_frozen_parameters(model, false, "");
    CHECK(model.parameter_count() == trainable + encoder_values);
    CHECK(model.output_shape(Shape{.n = 2, .c = 1, .h = 128, .w = 96}) == Shape{.n = 2, .c = 2, .h = 128, .w = 96});
    CHECK_THROWS_AS(model.output_shape(Shape{.n = 1, .c = 1, .h = 72, .w = 72}), shape_error);  // not a multiple of 16
}

TEST_CASE("ResNetUNetClassifier starts from a ResNetUNet file: the trunk read, the new head left as it was") {
    chroma::testing::TemporaryFolder folder("warm_start");
    Model<ResNetUNet> regression(3);
    set_frozen_parameters(regression, false, "");
    io::save_safetensors(folder / "regression.safetensors", regression);

    Model<ResNetUNetClassifier> classifier(5);
    const Tensor<float> head_before = classifier.parameter("1.weight").value;
    const auto loaded = io::load_matching_safetensors(io::SafetensorsFile::load(folder / "regression.safetensors"), classifier);

    // Everything but the regression's 1x1 ab conv ("1.", 2 outputs) is the shared trunk under "0.".
    index_t trunk_tensors = 0;
    regression.visit_parameters([&](std::string_view name, auto&) { trunk_tensors += name.starts_with("0.") ? 1 : 0; });
    CHECK(static_cast<index_t>(loaded.loaded.size()) == trunk_tensors);
    for (const auto& name : loaded.loaded) REQUIRE(name.starts_with("0."));
    CHECK(loaded.other_shape == std::vector<std::string>{"1.weight", "1.bias"});
    CHECK(loaded.not_in_file == std::vector<std::string>{"3.weight", "3.bias"});
    const auto& head = classifier.parameter("1.weight").value;
    for (index_t i = 0; i < head.size(); ++i) REQUIRE(head.data()[i] == head_before.data()[i]);

    // Every trunk value is the regression's.
    index_t compared = 0;
    classifier.visit_parameters([&](std::string_view name, auto& p) {
        if (!name.starts_with("0.")) return;
        const auto& r = regression.parameter(std::string(name)).value;
        for (index_t i = 0; i < r.size(); ++i) REQUIRE(p.value.data()[i] == r.data()[i]);
        ++compared;
    });
    CHECK(compared == trunk_tensors);
    CHECK(classifier.output_shape(Shape{.n = 2, .c = 1, .h = 128, .w = 96}) ==
          Shape{.n = 2, .c = color::zhang_bin_count, .h = 64, .w = 48});

    // A file with nothing of the model's gives nothing.
    io::SafetensorsWriter other;
    other.add("x", Tensor<float>(Shape{.n = 1, .c = 1, .h = 1, .w = 1}));
    other.save(folder / "other.safetensors");
    const auto none = io::load_matching_safetensors(io::SafetensorsFile::load(folder / "other.safetensors"), classifier);
    CHECK(none.loaded.empty());
    CHECK(none.not_in_file.size() == static_cast<std::size_t>(trunk_tensors) + 4);
}

TEST_CASE("torchvision resnet18 import: a missing or misshapen tensor names the file and the tensor") {
    chroma::testing::TemporaryFolder folder("pretrained");
    const auto original = io::SafetensorsFile::load(without_counters);
    const auto rewrite = [&](const std::string& drop, const std::string& reshape) {
        io::SafetensorsWriter writer;
        for (const auto& name : original.names()) {
            if (name == drop) continue;
            const auto& dims = original.tensor_info(name).dims;
            Tensor<float> t(Shape{.n = dims[0], .c = dims.size() > 1 ? dims[1] : 1, .h = dims.size() > 2 ? dims[2] : 1,
                                  .w = dims.size() > 3 ? dims[3] : 1});
            original.get(name, t, static_cast<int>(dims.size()));
            if (name == reshape) t = Tensor<float>(Shape{.n = dims[0] / 2, .c = t.shape().c, .h = t.shape().h, .w = t.shape().w});
            writer.add(name, t, static_cast<int>(dims.size()));
        }
        const auto path = folder.path / ("edited_" + drop + reshape + ".safetensors");
        writer.save(path);
        return path;
    };
    Model<ResNetUNet> model(1);
    const auto missing = rewrite("layer2.1.bn1.running_var", "");
    CHECK_THROWS_WITH(import_resnet18(missing, model, resnet_unet_import()),
                      Catch::Contains(missing.string()) && Catch::Contains("no tensor 'layer2.1.bn1.running_var'"));
    const auto misshapen = rewrite("", "layer1.0.conv2.weight");
    CHECK_THROWS_WITH(import_resnet18(misshapen, model, resnet_unet_import()),
                      Catch::Contains(misshapen.string()) && Catch::Contains("layer1.0.conv2.weight"));
    CHECK_THROWS_AS(import_resnet18(folder.path / "absent.safetensors", model, resnet_unet_import()), io::file_error);
}

TEST_CASE("load_safetensors: a state_dict without num_batches_tracked loads with the counter at 0, as in PyTorch") {
    chroma::testing::TemporaryFolder folder("counter");
    Model<BatchNorm2d<3>> saved(1);
    saved.parameter("running_mean").value.fill(0.25f);
    saved.parameter("num_batches_tracked").value.fill(7.0f);
    io::SafetensorsWriter writer;
    for (const char* name : {"weight", "bias", "running_mean", "running_var"}) writer.add(name, saved.parameter(name).value, 1);
    writer.save(folder.path / "old.safetensors");
    Model<BatchNorm2d<3>> loaded(2);
    loaded.parameter("num_batches_tracked").value.fill(9.0f);
    io::load_safetensors(folder.path / "old.safetensors", loaded);
    CHECK(loaded.parameter("running_mean").value.data()[2] == 0.25f);
    CHECK(loaded.parameter("num_batches_tracked").value.data()[0] == 0.0f);
    // Any other missing tensor is still an error.
    io::SafetensorsWriter partial;
    partial.add("weight", saved.parameter("weight").value, 1);
    partial.save(folder.path / "partial.safetensors");
    CHECK_THROWS_WITH(io::load_safetensors(folder.path / "partial.safetensors", loaded), Catch::Contains("'bias'"));
}
