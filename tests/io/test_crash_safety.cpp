// Crash safety of the files training writes: a writer process killed with SIGKILL at random
// moments while it rewrites a checkpoint or a model file, again and again, must leave on disk
// either the previous complete file or the next complete one, never a torn mixture.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "support/temporary_folder.hpp"

#if defined(__unix__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace chroma;

namespace {

// 256K floats (1 MB): a write takes long enough (with its fsync) for most kills to land inside one.
constexpr index_t values = index_t(1) << 18;

Tensor<float> filled_with(std::int64_t generation) {
    Tensor<float> t(Shape{.n = values, .c = 1, .h = 1, .w = 1});
    t.fill(static_cast<float>(generation));
    return t;
}

void write_checkpoint(const std::filesystem::path& path, std::int64_t generation) {
    io::Checkpoint c;
    c.put_integer("generation", generation);
    c.put("weights", filled_with(generation), 1);
    c.save(path);
}
/// The generation of a complete checkpoint; throws if the file is torn (its checksum fails).
std::int64_t read_checkpoint(const std::filesystem::path& path) {
    const auto c = io::Checkpoint::load(path);
    const std::int64_t generation = c.get_integer("generation");
    Tensor<float> t(Shape{.n = values, .c = 1, .h = 1, .w = 1});
    c.get("weights", t, 1);
    for (index_t i = 0; i < t.size(); ++i)
        if (t.data()[i] != static_cast<float>(generation)) throw io::file_error("mixed generations in " + path.string());
    return generation;
}

void write_model_file(const std::filesystem::path& path, std::int64_t generation) {
    io::SafetensorsWriter writer;
    writer.add("weights", filled_with(generation), 1);
    writer.add_metadata("generation", std::to_string(generation));
    writer.save(path);
}
std::int64_t read_model_file(const std::filesystem::path& path) {
    const auto file = io::SafetensorsFile::load(path);
    const std::int64_t generation = std::stoll(file.metadata().at("generation"));
    Tensor<float> t(Shape{.n = values, .c = 1, .h = 1, .w = 1});
    file.get("weights", t, 1);
    for (index_t i = 0; i < t.size(); ++i)
        if (t.data()[i] != static_cast<float>(generation)) throw io::file_error("mixed generations in " + path.string());
    return generation;
}

struct KillReport {
    int kills = 0, during_write = 0, newer_seen = 0;
};

/// Kills a process that rewrites `path` with ever newer generations `kills` times, each after a
/// random delay, and checks the file after each kill.
KillReport kill_writer_repeatedly(const std::filesystem::path& path, int kills,
                                  const std::function<void(const std::filesystem::path&, std::int64_t)>& write,
                                  const std::function<std::int64_t(const std::filesystem::path&)>& read) {
    KillReport report;
    // Kills spread over about three writes, however long a write takes on this machine.
    const auto started = std::chrono::steady_clock::now();
    write(path, 0);
    const double write_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
    Rng rng(2024);
    const std::filesystem::path partial = path.string() + ".partial";
    for (int k = 0; k < kills; ++k) {
        const std::int64_t before = read(path);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {  // the writer: never returns into the test
            try {
                for (std::int64_t generation = before + 1;; ++generation) write(path, generation);
            } catch (...) {
            }
            ::_exit(1);
        }
        ::usleep(static_cast<useconds_t>(rng.uniform(0.0, 3.0 * write_us)));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        ++report.kills;
        if (std::filesystem::exists(partial)) ++report.during_write;
        INFO("kill " << k);
        std::int64_t after = -1;
        REQUIRE_NOTHROW(after = read(path));  // complete, whichever generation
        REQUIRE(after >= before);
        if (after > before) ++report.newer_seen;
    }
    return report;
}

}  // namespace

#if defined(__unix__)
TEST_CASE("a writer killed at 100 random moments leaves the old or the new checkpoint, never a torn one") {
    chroma::testing::TemporaryFolder folder("crash_checkpoint");
    const auto report = kill_writer_repeatedly(folder / "checkpoint.ckpt", 100, write_checkpoint, read_checkpoint);
    INFO(report.during_write << " of " << report.kills << " kills landed during a write; " << report.newer_seen
                             << " found a newer complete file");
    CHECK(report.kills == 100);
    // The test kills writers mid-write, not only between writes: about half the kills in an
    // optimised build, under a tenth in a sanitizer build, where serialising takes longer.
    CHECK(report.during_write >= 1);
}

TEST_CASE("a writer killed at 100 random moments leaves the old or the new model file, never a torn one") {
    chroma::testing::TemporaryFolder folder("crash_model");
    const auto report = kill_writer_repeatedly(folder / "model.safetensors", 100, write_model_file, read_model_file);
    INFO(report.during_write << " of " << report.kills << " kills landed during a write; " << report.newer_seen
                             << " found a newer complete file");
    CHECK(report.kills == 100);
    CHECK(report.during_write >= 1);
}
#endif
