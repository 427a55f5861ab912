// Checkpoints: round trips, bit-exact resume, atomic writes and every corrupt-file path.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/io/checkpoint.hpp>
#include <chroma/io/crc32.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

using namespace chroma;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Conv2d<1, 4, 3, 1, 1>, ReLU, Conv2d<4, 2, 3, 2, 1>, Tanh>;

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / "chroma_test_checkpoint";
    fs::create_directories(dir);
    return dir / name;
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// One step of a fixed regression problem; returns the loss.
double train_step(Model<Net>& model, optim::Adam<>& adam, Rng& rng) {
    Tensor<float> x(Shape{.n = 2, .c = 1, .h = 6, .w = 6});
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    const auto& y = model.forward(x);
    Tensor<float> grad(y.shape());
    double loss = 0;
    for (index_t i = 0; i < y.size(); ++i) {
        const double d = y.data()[i] - 0.5;
        loss += d * d;
        grad.data()[i] = static_cast<float>(2 * d);
    }
    model.zero_grad();
    model.backward(grad);
    adam.step(model);
    return loss;
}

io::Checkpoint snapshot(Model<Net>& model, optim::Adam<>& adam, const Rng& rng) {
    io::Checkpoint c;
    io::save_parameters(c, model);
    adam.visit_state([&](const std::string& name, Tensor<float>& t) { c.put("optim." + name, t); });
    c.put_integer("optim.steps", adam.steps());
    c.put_text("rng", rng.state());
    return c;
}

}  // namespace

TEST_CASE("a checkpoint round-trips parameters, values and text through a file") {
    Model<Net> model(1), restored(2);
    io::Checkpoint c;
    io::save_parameters(c, model);
    c.put_integer("epoch", 7);
    c.put_real("best", 0.125);
    c.put_text("recipe", "adam 1e-4");
    const fs::path path = scratch("roundtrip.ckpt");
    c.save(path);
    CHECK_FALSE(fs::exists(path.string() + ".partial"));
    const auto loaded = io::Checkpoint::load(path);
    io::load_parameters(loaded, restored);
    for (const auto& name : model.parameter_names())
        for (index_t i = 0; i < model.parameter(name).value.size(); ++i)
            REQUIRE(restored.parameter(name).value[i] == model.parameter(name).value[i]);
    CHECK(loaded.get_integer("epoch") == 7);
    CHECK(loaded.get_real("best") == 0.125);
    CHECK(loaded.get_text("recipe") == "adam 1e-4");
    CHECK(loaded.get_text("recipe") != "");
}

TEST_CASE("resuming from a checkpoint reproduces the run bit for bit") {
    Model<Net> model(3);
    optim::Adam<> adam({.learning_rate = 1e-2});
    Rng rng(4);
    for (int i = 0; i < 3; ++i) train_step(model, adam, rng);
    const fs::path path = scratch("resume.ckpt");
    snapshot(model, adam, rng).save(path);
    std::vector<double> uninterrupted;
    for (int i = 0; i < 4; ++i) uninterrupted.push_back(train_step(model, adam, rng));

    Model<Net> resumed(99);
    optim::Adam<> resumed_adam({.learning_rate = 1e-2});
    Rng resumed_rng(99);
    const auto c = io::Checkpoint::load(path);
    io::load_parameters(c, resumed);
    resumed_adam.attach(resumed);
    resumed_adam.visit_state([&](const std::string& name, Tensor<float>& t) { c.get("optim." + name, t); });
    resumed_adam.set_steps(c.get_integer("optim.steps"));
    resumed_rng.set_state(c.get_text("rng"));
    for (int i = 0; i < 4; ++i) CHECK(train_step(resumed, resumed_adam, resumed_rng) == uninterrupted[i]);
}

TEST_CASE("loading into the wrong model names the parameter and both shapes") {
    Model<Net> model;
    io::Checkpoint c;
    io::save_parameters(c, model);
    Model<Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, Conv2d<8, 2, 3, 2, 1>, Tanh>> wider;
    CHECK_THROWS_WITH(io::load_parameters(c, wider), Catch::Contains("model.0.weight") &&
                                                         Catch::Contains("[4, 1, 3, 3] in the checkpoint") &&
                                                         Catch::Contains("[8, 1, 3, 3] in the model"));
    Model<Sequential<Conv2d<1, 4, 3, 1, 1>, ReLU, Conv2d<4, 2, 3, 2, 1>, Tanh, Conv2d<2, 2, 1>>> deeper;
    CHECK_THROWS_WITH(io::load_parameters(c, deeper), Catch::Contains("no parameter '4.weight'"));
    Model<Sequential<Conv2d<1, 4, 3, 1, 1>, ReLU>> shallower;
    CHECK_THROWS_WITH(io::load_parameters(c, shallower), Catch::Contains("'2.bias' that the model lacks"));
}

TEST_CASE("truncated, corrupt and foreign files are refused with a reason") {
    Model<Net> model;
    io::Checkpoint c;
    io::save_parameters(c, model);
    const std::string bytes = c.serialize();
    const fs::path path = scratch("bad.ckpt");

    write_all(path, bytes.substr(0, bytes.size() - 10));
    CHECK_THROWS_WITH(io::Checkpoint::load(path), Catch::Contains("bad.ckpt") && Catch::Contains("truncated"));
    std::string flipped = bytes;
    flipped[bytes.size() - 3] ^= 0x40;
    write_all(path, flipped);
    CHECK_THROWS_WITH(io::Checkpoint::load(path), Catch::Contains("corrupt"));
    write_all(path, "PNG\x89 not a checkpoint");
    CHECK_THROWS_WITH(io::Checkpoint::load(path), Catch::Contains("not a Chroma checkpoint"));
    std::string future = bytes;
    future[8] = 9;
    write_all(path, future);
    CHECK_THROWS_WITH(io::Checkpoint::load(path), Catch::Contains("version 9"));
    CHECK_THROWS_WITH(io::Checkpoint::load(scratch("missing.ckpt")), Catch::Contains("cannot open"));
    CHECK_THROWS_WITH(c.get_integer("epoch"), Catch::Contains("no entry 'epoch'"));
}

TEST_CASE("a checksummed checkpoint whose dimensions multiply past 2^64 is refused, not wrapped") {
    // One float tensor entry "w" of shape [2^62, 4] and no data: the product wraps to 0 values in
    // 64 bits, which would have passed the length check. Found by fuzz/fuzz_checkpoint's framing.
    std::string payload;
    const auto put = [&](const auto& value) { payload.append(reinterpret_cast<const char*>(&value), sizeof value); };
    put(std::uint8_t{0});
    put(std::uint32_t{1});
    payload += "w";
    put(std::uint8_t{2});
    put(std::int64_t{1} << 62);
    put(std::int64_t{4});
    std::string file = "CHROMACK";
    const auto header = [&](const auto& value) { file.append(reinterpret_cast<const char*>(&value), sizeof value); };
    header(io::Checkpoint::version);
    header(std::uint32_t{1});
    header(static_cast<std::uint64_t>(payload.size()));
    header(io::crc32(payload.data(), payload.size()));
    CHECK_THROWS_WITH(io::Checkpoint::parse(file + payload, "crafted.ckpt"),
                      Catch::Contains("crafted.ckpt") && Catch::Contains("'w'") && Catch::Contains("more values"));
}

TEST_CASE("a failed write leaves the previous checkpoint in place") {
    const fs::path path = scratch("atomic.ckpt");
    io::Checkpoint first;
    first.put_integer("epoch", 1);
    first.save(path);
    const std::string before = read_all(path);
    // Writing into a folder that does not exist fails before touching the target's folder.
    CHECK_THROWS_AS(first.save(scratch("no_such_folder") / "x.ckpt"), io::file_error);
    io::Checkpoint second;
    second.put_integer("epoch", 2);
    second.save(path);
    CHECK(io::Checkpoint::load(path).get_integer("epoch") == 2);
    CHECK(before != read_all(path));
}
