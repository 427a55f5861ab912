// Safetensors: loading PyTorch-written files by parameter name, dtype conversion, round trips
// and malformed files.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/io/safetensors.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "support/composed_net.hpp"
#include "support/fixture.hpp"

using namespace chroma;
namespace fs = std::filesystem;

namespace {

using chroma::testing::ComposedNet;

const std::string fixtures = CHROMA_FIXTURE_DIR;

std::string with_header(const std::string& json, const std::string& data) {
    const std::uint64_t size = json.size();
    return std::string(reinterpret_cast<const char*>(&size), 8) + json + data;
}

}  // namespace

TEST_CASE("a PyTorch state_dict in safetensors loads by name and gives PyTorch's output") {
    Model<ComposedNet, cpu, double> model;
    const auto file = io::SafetensorsFile::load(fixtures + "/composed_net_state.safetensors");
    CHECK(file.metadata().at("format") == "pt");
    io::load_safetensors(file, model);
    const testing::Fixture f("composed_net_state");
    const auto& y = model.forward(f["input"].tensor());
    CHECK(testing::max_relative_error(y, f["output"].tensor()) < 1e-12);
}

TEST_CASE("safetensors dtypes F16, BF16, F64, I64 and I32 convert exactly") {
    const auto file = io::SafetensorsFile::load(fixtures + "/dtypes.safetensors");
    Tensor<double> f16(Shape{6, 1, 1, 1}), bf16(f16.shape()), exact16(f16.shape()), exactbf16(f16.shape()),
        i64(f16.shape()), f64(f16.shape());
    file.get("f16", f16, 1);
    file.get("exact16", exact16, 1);
    file.get("bf16", bf16, 1);
    file.get("exactbf16", exactbf16, 1);
    file.get("i64", i64, 1);
    file.get("f64", f64, 1);
    for (index_t i = 0; i < 6; ++i) {
        CHECK(f16[i] == exact16[i]);  // includes a subnormal (3e-7) and the largest half (65504)
        CHECK(bf16[i] == exactbf16[i]);
    }
    CHECK(f16[2] == 65504.0);
    CHECK(i64[3] == std::ldexp(1.0, 40));
    CHECK(f64[1] == -1.5);
}

TEST_CASE("a model written to safetensors reads back into another model") {
    Model<ComposedNet> a(1), b(2);
    const fs::path path = fs::temp_directory_path() / "chroma_test_roundtrip.safetensors";
    io::save_safetensors(path, a, {{"model", "ComposedNet"}});
    const auto file = io::SafetensorsFile::load(path);
    CHECK(file.metadata().at("model") == "ComposedNet");
    CHECK(file.tensor_info("2.projection.bias").dims == std::vector<std::int64_t>{4});
    CHECK(file.tensor_info("0.weight").dims == std::vector<std::int64_t>{4, 2, 3, 3});
    io::load_safetensors(file, b);
    for (const auto& name : a.parameter_names())
        for (index_t i = 0; i < a.parameter(name).value.size(); ++i)
            REQUIRE(a.parameter(name).value[i] == b.parameter(name).value[i]);
}

TEST_CASE("malformed safetensors files are refused with the file and the tensor named") {
    auto parse = [](const std::string& bytes) { return io::SafetensorsFile::parse(bytes, "w.safetensors"); };
    const std::string four_floats(16, '\0');
    CHECK_NOTHROW(parse(with_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", four_floats)));
    CHECK_THROWS_WITH(parse("abc"), Catch::Contains("too short"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", "short")),
                      Catch::Contains("'w'") && Catch::Contains("outside"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", four_floats)),
                      Catch::Contains("do not hold a F32 [3, 2] tensor"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", four_floats)),
                      Catch::Contains("dtype Q4"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})", four_floats)),
                      Catch::Contains("malformed JSON"));
    CHECK_THROWS_WITH(parse(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                        four_floats)),
                      Catch::Contains("overlap"));
    const auto file = parse(with_header(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", four_floats));
    Tensor<float> wrong(Shape{1, 4, 1, 1});
    CHECK_THROWS_WITH(file.get("w", wrong), Catch::Contains("'w' has shape [2, 2] in the file but [1, 4, 1, 1]"));
    Model<Conv2d<1, 1, 1>> model;
    CHECK_THROWS_WITH(io::load_safetensors(file, model), Catch::Contains("no tensor 'weight'"));
}

TEST_CASE("shapes too large for an integer, or whose product overflows, are refused before any arithmetic") {
    auto parse = [](const std::string& bytes) { return io::SafetensorsFile::parse(bytes, "w.safetensors"); };
    // fuzz/fuzz_model_file: a dimension written 02800161e028 (2.8e34) was converted to int64,
    // which is undefined beyond its range (UBSan: "outside the range of representable values").
    CHECK_THROWS_WITH(io::SafetensorsFile::load(fixtures + "/fuzz/safetensors_shape_beyond_int64.safetensors"),
                      Catch::Contains("safetensors_shape_beyond_int64.safetensors") && Catch::Contains("'0.weight'") &&
                          Catch::Contains("non-negative integer below 2^53"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[1e300],"data_offsets":[0,0]}})", "")),
                      Catch::Contains("below 2^53"));
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,0]}})", "")),
                      Catch::Contains("below 2^53"));
    // Each dimension fits, their product does not: refused rather than wrapped round to a small count.
    CHECK_THROWS_WITH(parse(with_header(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", "")),
                      Catch::Contains("more values than any file can"));
    // A zero dimension is an empty tensor, whatever the others.
    CHECK_NOTHROW(parse(with_header(R"({"w":{"dtype":"F32","shape":[0,9007199254740992],"data_offsets":[0,0]}})", "")));
}
