// The trainer: learning on fixed batches, its files, NaN handling, resuming and early stopping.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/train/regression_task.hpp>
#include <chroma/train/trainer.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "support/synthetic_photos.hpp"

using namespace chroma;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, Conv2d<8, 8, 3, 1, 1>, ReLU, Conv2d<8, 2, 1>>;

train::Batch make_batch(int seed, index_t n = 4, index_t size = 12) { return test_support::synthetic_photos(seed, n, size); }

fs::path fresh_folder(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("chroma_test_trainer_" + name);
    fs::remove_all(dir);
    return dir;
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A task that reports a NaN loss from a given step on.
struct FailingTask : train::RegressionTask<> {
    int calls = 0, fail_from = 0;
    double loss(const Tensor<float>& p, const train::Batch& b, Tensor<float>& g) {
        const double value = train::RegressionTask<>::loss(p, b, g);
        return ++calls >= fail_from ? std::numeric_limits<double>::quiet_NaN() : value;
    }
};

// The runs the resume tests compare: the regression task, Adam at 1e-3, quiet.
train::TrainResult train_adam(Model<Net>& model, train::FixedBatches& training, train::FixedBatches& validation,
                              const fs::path& out, int epochs, bool resume) {
    train::RegressionTask<> task;
    optim::Adam<> adam({.learning_rate = 1e-3});
    train::Trainer trainer(model, task, adam, {.epochs = epochs, .output = out, .resume = resume, .quiet = true});
    return trainer.fit(training, validation);
}

}  // namespace

TEST_CASE("the trainer lowers the loss and writes its log, curve, samples and checkpoint") {
    Model<Net> model(1);
    train::RegressionTask<> task;
    optim::Adam<> adam({.learning_rate = 3e-3});
    train::FixedBatches training({make_batch(1), make_batch(2), make_batch(3)}), validation({make_batch(4)});
    const fs::path out = fresh_folder("basic");
    train::Trainer trainer(model, task, adam, {.epochs = 6, .output = out, .sample_rows = 2, .quiet = true});
    const auto result = trainer.fit(training, validation);
    REQUIRE(result.reason == train::stop_reason::finished);
    REQUIRE(result.epochs.size() == 6);
    CHECK(result.epochs.back().validation_loss < 0.5 * result.epochs.front().validation_loss);
    CHECK(result.epochs.back().model.psnr_rgb.has_value());
    CHECK(result.epochs.back().gray.delta_e2000 > 0);
    for (const char* file : {"checkpoint.ckpt", "log.csv", "loss.png", "samples_epoch_001.png", "samples_epoch_006.png"})
        CHECK(fs::exists(out / file));
    const std::string log = read_all(out / "log.csv");
    CHECK(log.starts_with("epoch,train_loss,validation_loss"));
    CHECK(std::count(log.begin(), log.end(), '\n') == 7);  // header + 6 epochs
    const Image samples = load_image(out / "samples_epoch_006.png");
    CHECK(samples.height > 2 * 12);  // two rows of 12-pixel images under titles
}

TEST_CASE("a NaN loss stops training and keeps the last good checkpoint") {
    Model<Net> model(2);
    FailingTask task;
    task.fail_from = 5;  // epoch 1 has 3 training + 1 validation loss calls; the NaN comes in epoch 2
    optim::Adam<> adam;
    train::FixedBatches training({make_batch(1), make_batch(2), make_batch(3)}), validation({make_batch(4)});
    const fs::path out = fresh_folder("nan");
    train::Trainer trainer(model, task, adam, {.epochs = 5, .output = out, .quiet = true});
    const auto result = trainer.fit(training, validation);
    CHECK(result.reason == train::stop_reason::non_finite_loss);
    CHECK_THAT(result.message, Catch::Contains("NaN") && Catch::Contains("epoch 2") && Catch::Contains("checkpoint.ckpt"));
    REQUIRE(result.epochs.size() == 1);
    const auto checkpoint = io::Checkpoint::load(out / "checkpoint.ckpt");
    CHECK(checkpoint.get_integer("epoch") == 1);
}

TEST_CASE("resuming from the checkpoint gives the same model as an uninterrupted run") {
    train::FixedBatches training({make_batch(1), make_batch(2)}), validation({make_batch(4)});
    auto run = [&](const fs::path& out, int epochs, bool resume, Model<Net>& model) {
        return train_adam(model, training, validation, out, epochs, resume);
    };
    Model<Net> straight(3), interrupted(3), resumed(77);
    run(fresh_folder("straight"), 4, false, straight);
    const fs::path out = fresh_folder("resume");
    run(out, 2, false, interrupted);
    const auto second_half = run(out, 4, true, resumed);  // picks up after epoch 2
    REQUIRE(second_half.epochs.size() == 2);
    CHECK(second_half.epochs.front().epoch == 3);
    for (const auto& name : straight.parameter_names())
        for (index_t i = 0; i < straight.parameter(name).value.size(); ++i)
            REQUIRE(resumed.parameter(name).value[i] == straight.parameter(name).value[i]);
    const std::string log = read_all(out / "log.csv");
    CHECK(std::count(log.begin(), log.end(), '\n') == 5);  // one header, four epochs
}

TEST_CASE("a learning-rate schedule sets each epoch's rate, resumed runs included") {
    train::FixedBatches training({make_batch(1)}), validation({make_batch(4)});
    const optim::CosineAnnealing cosine(1e-2, 4, 1e-4);
    auto run = [&](const fs::path& out, int epochs, bool resume, Model<Net>& model) {
        train::RegressionTask<> task;
        optim::Adam<> adam({.learning_rate = 0.5});  // replaced by the schedule from the first epoch
        train::TrainerOptions options{.epochs = epochs, .output = out, .resume = resume, .quiet = true};
        options.learning_rate_at = [&](int epoch) { return cosine.rate(epoch); };
        train::Trainer trainer(model, task, adam, options);
        return trainer.fit(training, validation);
    };
    Model<Net> straight(5), first_half(5), resumed(6);
    const auto all = run(fresh_folder("schedule"), 4, false, straight);
    REQUIRE(all.epochs.size() == 4);
    for (int e = 0; e < 4; ++e) CHECK(all.epochs[static_cast<std::size_t>(e)].learning_rate == Approx(cosine.rate(e)));
    CHECK(all.epochs[0].learning_rate == Approx(1e-2));
    CHECK(all.epochs[2].learning_rate == Approx(0.5 * (1e-2 + 1e-4)));
    const fs::path out = fresh_folder("schedule_resume");
    run(out, 2, false, first_half);
    const auto second_half = run(out, 4, true, resumed);
    REQUIRE(second_half.epochs.size() == 2);
    CHECK(second_half.epochs[0].learning_rate == Approx(cosine.rate(2)));
    for (const auto& name : straight.parameter_names())
        for (index_t i = 0; i < straight.parameter(name).value.size(); ++i)
            REQUIRE(resumed.parameter(name).value[i] == straight.parameter(name).value[i]);
}

TEST_CASE("early stopping ends a run whose validation loss stops improving") {
    Model<Net> model(4);
    train::RegressionTask<> task;
    optim::Sgd<> frozen(0.0);  // nothing changes, so nothing improves after the first epoch
    train::FixedBatches training({make_batch(1)}), validation({make_batch(4)});
    train::Trainer trainer(model, task, frozen,
                           {.epochs = 20, .output = fresh_folder("early"), .early_stopping_patience = 3, .quiet = true});
    const auto result = trainer.fit(training, validation);
    CHECK(result.reason == train::stop_reason::early_stopping);
    CHECK(result.epochs.size() == 4);
}

TEST_CASE("a run resumed just before a frozen block is released trains as the uninterrupted run does") {
    // The checkpoint after epoch 2 has no optimiser state for the first convolution, which was
    // frozen; it trains from epoch 3 on, with fresh Adam moments in both runs.
    train::FixedBatches training({make_batch(1), make_batch(2)}), validation({make_batch(4)});
    auto run = [&](const fs::path& out, int epochs, bool resume, Model<Net>& model) {
        train::RegressionTask<> task;
        optim::Adam<> adam({.learning_rate = 1e-3});
        train::TrainerOptions options{.epochs = epochs, .output = out, .resume = resume, .quiet = true};
        options.before_epoch = [&model](int epoch) { set_frozen_parameters(model, epoch < 2, "0."); };
        train::Trainer trainer(model, task, adam, options);
        return trainer.fit(training, validation);
    };
    Model<Net> straight(8), first_half(8), resumed(9);
    run(fresh_folder("release_straight"), 4, false, straight);
    const fs::path out = fresh_folder("release_resume");
    run(out, 2, false, first_half);
    const auto checkpoint = io::Checkpoint::load(out / "checkpoint.ckpt");
    CHECK_FALSE(checkpoint.contains("optimiser.0.weight.exp_avg"));
    CHECK(checkpoint.contains("optimiser.2.weight.exp_avg"));
    const auto second_half = run(out, 4, true, resumed);
    REQUIRE(second_half.epochs.size() == 2);
    bool first_layer_moved = false;
    for (const auto& name : straight.parameter_names())
        for (index_t i = 0; i < straight.parameter(name).value.size(); ++i) {
            REQUIRE(resumed.parameter(name).value[i] == straight.parameter(name).value[i]);
            if (name == "0.weight") first_layer_moved |= resumed.parameter(name).value[i] != first_half.parameter(name).value[i];
        }
    CHECK(first_layer_moved);
}

namespace {

// Compares two log.csv files row by row, every column but the wall-clock seconds.
void check_same_log(const fs::path& expected, const fs::path& actual) {
    const auto want = train::CsvLog::rows(read_all(expected)), got = train::CsvLog::rows(read_all(actual));
    REQUIRE(got.size() == want.size());
    for (std::size_t r = 0; r < want.size(); ++r)
        for (const auto& [column, value] : want[r]) {
            if (column == "seconds") continue;
            INFO("row " << r << ", column " << column);
            REQUIRE(got[r].count(column) == 1);
            if (std::isnan(value))
                CHECK(std::isnan(got[r].at(column)));
            else
                CHECK(got[r].at(column) == value);
        }
}

void check_same_parameters(Model<Net>& expected, Model<Net>& actual) {
    for (const auto& name : expected.parameter_names())
        for (index_t i = 0; i < expected.parameter(name).value.size(); ++i)
            REQUIRE(actual.parameter(name).value[i] == expected.parameter(name).value[i]);
}

// The run the kill test interrupts: 6 epochs of 8 batches, long enough for kills to land in
// every part of an epoch, short enough to repeat.
constexpr int kill_test_epochs = 6;
train::TrainResult kill_test_training(const fs::path& out, bool resume, Model<Net>& model) {
    std::vector<train::Batch> batches;
    for (int i = 0; i < 8; ++i) batches.push_back(make_batch(100 + i, 4, 16));
    train::FixedBatches training(std::move(batches)), validation({make_batch(4)});
    return train_adam(model, training, validation, out, kill_test_epochs, resume);
}

}  // namespace

TEST_CASE("a resumed run rewrites log.csv to its checkpoint's epochs, whichever was written last") {
    train::FixedBatches training({make_batch(1), make_batch(2)}), validation({make_batch(4)});
    auto run = [&](const fs::path& out, int epochs, bool resume, Model<Net>& model) {
        return train_adam(model, training, validation, out, epochs, resume);
    };
    const fs::path straight_out = fresh_folder("log_straight");
    Model<Net> straight(3);
    run(straight_out, 4, false, straight);

    // Killed after epoch 3's row reached log.csv but before its checkpoint did: the file has
    // three rows, the checkpoint two.
    const fs::path out = fresh_folder("log_killed");
    Model<Net> first(3);
    run(out, 2, false, first);
    fs::copy_file(out / "checkpoint.ckpt", out / "after_two.ckpt");
    Model<Net> second(3);
    run(out, 3, true, second);
    REQUIRE(train::CsvLog::rows(read_all(out / "log.csv")).size() == 3);
    fs::rename(out / "after_two.ckpt", out / "checkpoint.ckpt");
    Model<Net> resumed(77);
    const auto result = run(out, 4, true, resumed);
    CHECK(result.epochs.front().epoch == 3);
    check_same_log(straight_out / "log.csv", out / "log.csv");  // four rows, epoch 3 once
    check_same_parameters(straight, resumed);

    // A log row lost (killed the other way round): it comes back from the checkpoint.
    const std::string full = read_all(out / "log.csv");
    std::ofstream(out / "log.csv", std::ios::binary) << full.substr(0, full.rfind('\n', full.size() - 2) + 1);
    REQUIRE(train::CsvLog::rows(read_all(out / "log.csv")).size() == 3);
    Model<Net> again(77);
    run(out, 5, true, again);
    const auto rows = train::CsvLog::rows(read_all(out / "log.csv"));
    REQUIRE(rows.size() == 5);
    CHECK(rows[3].at("epoch") == 4);
    CHECK(rows[3].at("train_loss") == train::CsvLog::rows(read_all(straight_out / "log.csv"))[3].at("train_loss"));
}

#if defined(__linux__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

extern char** environ;

// Run in a child process by the kill test below (hidden: not part of a normal run).
TEST_CASE("kill test child: trains into CHROMA_KILL_TEST_OUT", "[.]") {
    const char* out = std::getenv("CHROMA_KILL_TEST_OUT");
    if (out == nullptr) return;
    Model<Net> model(3);
    kill_test_training(out, false, model);
}

namespace {

// Starts this test executable again, running only the child test case, training into `out`.
pid_t start_training_child(const fs::path& out) {
    static const std::string variable_prefix = "CHROMA_KILL_TEST_OUT=";
    std::vector<std::string> environment;
    for (char** e = environ; *e != nullptr; ++e)
        if (std::string_view(*e).rfind(variable_prefix, 0) != 0) environment.emplace_back(*e);
    environment.push_back(variable_prefix + out.string());
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    std::string program = "test_trainer", name = "kill test child: trains into CHROMA_KILL_TEST_OUT",
                out_flag = "--out", null_device = "/dev/null";
    char* argv[] = {program.data(), name.data(), out_flag.data(), null_device.data(), nullptr};
    const pid_t child = ::fork();
    if (child == 0) {  // only exec between fork and exec: the parent may have threads
        ::execve(self.c_str(), argv, envp.data());
        ::_exit(127);
    }
    return child;
}

}  // namespace

TEST_CASE("training killed with SIGKILL at random moments resumes to the uninterrupted run's model and log") {
    const fs::path straight_out = fresh_folder("kill_straight");
    Model<Net> straight(3);
    kill_test_training(straight_out, false, straight);

    // A child run left alone first: the same model and log as in this process, and its duration.
    const fs::path whole = fresh_folder("kill_whole");
    const auto started = std::chrono::steady_clock::now();
    const pid_t first = start_training_child(whole);
    REQUIRE(first > 0);
    int status = 0;
    ::waitpid(first, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    const double child_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
    check_same_log(straight_out / "log.csv", whole / "log.csv");

    Rng rng(17);
    int mid_run = 0;
    for (int k = 0; k < 8; ++k) {
        INFO("kill " << k);
        const fs::path out = fresh_folder("kill_" + std::to_string(k));
        const pid_t child = start_training_child(out);
        REQUIRE(child > 0);
        ::usleep(static_cast<useconds_t>(rng.uniform(0.0, child_us)));
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        const bool checkpointed = fs::exists(out / "checkpoint.ckpt");
        if (checkpointed) {
            const auto epochs_done = io::Checkpoint::load(out / "checkpoint.ckpt").get_integer("epoch");
            if (epochs_done > 0 && epochs_done < kill_test_epochs) ++mid_run;
        }
        Model<Net> resumed(77);  // every value comes from the checkpoint, or from seed 3 on a fresh start
        if (!checkpointed) resumed = Model<Net>(3);
        kill_test_training(out, true, resumed);
        check_same_parameters(straight, resumed);
        check_same_log(straight_out / "log.csv", out / "log.csv");
    }
    CHECK(mid_run >= 2);  // kills spread over the run mostly land between its first and last checkpoints
}
#endif
