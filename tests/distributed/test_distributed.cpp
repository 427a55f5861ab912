// Data-parallel training over MPI, run as `mpirun -np 2 test_distributed` (every rank runs every
// test case: they are collective). The reference is always one process training on the whole
// global batch, which every rank also computes for itself.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/distributed/synchronise.hpp>
#include <chroma/models/gan.hpp>
#include <chroma/train/gan_trainer.hpp>
#include <chroma/train/regression_task.hpp>
#include <chroma/train/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "ranks.hpp"
#include "support/synthetic_photos.hpp"

using namespace chroma;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, Conv2d<8, 8, 3, 1, 1>, ReLU, Conv2d<8, 2, 1>>;

// Images [first, last) of a batch.
train::Batch images_of(const train::Batch& batch, index_t first, index_t last) {
    const Shape l = batch.lightness.shape();
    train::Batch out{Tensor<float>(Shape{.n = last - first, .c = 1, .h = l.h, .w = l.w}),
                     Tensor<float>(Shape{.n = last - first, .c = 2, .h = l.h, .w = l.w})};
    const index_t per_l = l.h * l.w, per_ab = 2 * l.h * l.w;
    std::copy_n(batch.lightness.data() + first * per_l, (last - first) * per_l, out.lightness.data());
    std::copy_n(batch.ab.data() + first * per_ab, (last - first) * per_ab, out.ab.data());
    return out;
}

// This rank's share of a global batch, as data::Loader's shards cut it.
train::Batch share_of(const train::Batch& global) {
    const auto& ranks = test_ranks();
    const index_t n = global.size(), r = ranks.rank(), size = ranks.size();
    return images_of(global, r * n / size, (r + 1) * n / size);
}

std::vector<train::Batch> global_batches() {
    std::vector<train::Batch> batches;
    for (int i = 0; i < 4; ++i) batches.push_back(test_support::synthetic_photos(20 + i, 8, 12));
    return batches;
}
std::vector<train::Batch> shares(const std::vector<train::Batch>& globals) {
    std::vector<train::Batch> out;
    for (const auto& g : globals) out.push_back(share_of(g));
    return out;
}

// A folder every rank names alike (rank 0 alone writes into it), or one of this rank's own.
fs::path shared_folder(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("chroma_test_distributed_" + name);
    if (test_ranks().is_root()) fs::remove_all(dir);
    test_ranks().barrier();
    return dir;
}
fs::path own_folder(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() /
                         ("chroma_test_distributed_" + name + "_rank" + std::to_string(test_ranks().rank()));
    fs::remove_all(dir);
    return dir;
}

template <class Task = train::RegressionTask<>, class Network = Net>
train::TrainResult run_training(Model<Network>& model, std::vector<train::Batch> batches, const fs::path& out, int epochs,
                         distributed::Communicator* ranks, bool resume = false, Task task = Task(),
                         bool synchronise_batch_norm = false) {
    train::FixedBatches training(std::move(batches)), validation({test_support::synthetic_photos(4, 4, 12)});
    optim::Adam<> adam({.learning_rate = 1e-3});
    train::Trainer trainer(model, task, adam,
                           {.epochs = epochs, .output = out, .resume = resume, .quiet = true, .communicator = ranks,
                            .synchronise_batch_norm = synchronise_batch_norm});
    return trainer.fit(training, validation);
}

// The largest difference between the models' values, relative to the reference's largest value.
template <class Network>
double relative_difference(Model<Network>& reference, Model<Network>& other) {
    double largest = 0, difference = 0;
    for (const auto& name : reference.parameter_names()) {
        const auto& a = reference.parameter(name).value;
        const auto& b = other.parameter(name).value;
        for (index_t i = 0; i < a.size(); ++i) {
            largest = std::max(largest, std::abs(double(a[i])));
            difference = std::max(difference, std::abs(double(a[i]) - double(b[i])));
        }
    }
    return difference / largest;
}

}  // namespace

TEST_CASE("collectives: every rank gets the sums and the root's values") {
    auto& ranks = test_ranks();
    REQUIRE(ranks.size() >= 2);
    const float r = static_cast<float>(ranks.rank());
    std::vector<float> values = {r + 1, 2 * r, -r};
    ranks.all_reduce_sum(values);
    const float n = static_cast<float>(ranks.size());
    CHECK(values[0] == n * (n + 1) / 2);
    CHECK(values[1] == n * (n - 1));
    CHECK(values[2] == -n * (n - 1) / 2);
    std::vector<double> from_root = {ranks.is_root() ? 0.125 : -1.0, ranks.is_root() ? 1e300 : 0.0};
    ranks.broadcast(std::span<double>(from_root), 0);
    CHECK(from_root == std::vector<double>{0.125, 1e300});
    ranks.barrier();
}

TEST_CASE("broadcast_parameters gives every rank the root's model") {
    auto& ranks = test_ranks();
    Model<Net> mine(100 + static_cast<std::uint64_t>(ranks.rank())), roots(100);
    distributed::broadcast_parameters(mine, ranks);
    CHECK(relative_difference(roots, mine) == 0.0);
}

TEST_CASE("averaged gradients of uneven shares equal the gradient of the whole batch") {
    auto& ranks = test_ranks();
    const train::Batch whole = test_support::synthetic_photos(7, 5, 12);  // 5 images: shares of 2 and 3
    train::RegressionTask<> task;
    auto gradient_of = [&](Model<Net>& model, const train::Batch& batch) {
        Tensor<float> grad;
        task.loss(model.forward(task.input(batch)), batch, grad);
        model.zero_grad();
        model.backward(grad);
    };
    Model<Net> reference(3), mine(3);
    gradient_of(reference, whole);
    const train::Batch share = share_of(whole);
    gradient_of(mine, share);
    distributed::GradientAverager average(100);  // small buckets: several messages per step
    average(mine, ranks, static_cast<double>(share.size()), static_cast<double>(whole.size()));
    CHECK(average.values() == static_cast<std::size_t>(mine.parameter_count()));
    for (const auto& name : reference.parameter_names()) {
        const auto& want = reference.parameter(name).gradient();
        const auto& got = mine.parameter(name).gradient();
        double largest = 0;
        for (index_t i = 0; i < want.size(); ++i) largest = std::max(largest, std::abs(double(want[i])));
        for (index_t i = 0; i < want.size(); ++i) {
            INFO(name << "[" << i << "]");
            REQUIRE(got[i] == Approx(want[i]).margin(1e-5 * largest));
        }
    }
}

TEST_CASE("ranks training on their shares reach the weights and losses of one process on the whole batches") {
    auto& ranks = test_ranks();
    const auto globals = global_batches();
    Model<Net> alone(3), together(3 + static_cast<std::uint64_t>(ranks.rank()));  // broadcast makes them equal
    const auto expected = run_training(alone, globals, own_folder("alone"), 3, nullptr);
    const fs::path out = shared_folder("together");
    const auto result = run_training(together, shares(globals), out, 3, &ranks);
    REQUIRE(result.epochs.size() == 3);
    const double difference = relative_difference(alone, together);
    INFO("largest difference, relative to the largest weight: " << difference);
    CHECK(difference < 1e-6);
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(result.epochs[e].train_loss == Approx(expected.epochs[e].train_loss).epsilon(1e-6));
        CHECK(result.epochs[e].validation_loss == Approx(expected.epochs[e].validation_loss).epsilon(1e-6));
    }
    // Rank 0 alone wrote the run's files.
    if (ranks.is_root()) CHECK(fs::exists(out / "checkpoint.ckpt"));
}

TEST_CASE("with synchronised BatchNorm, ranks reach one process's weights and statistics; with their own, they do not") {
    // No bias before the BatchNorm: its gradient is zero but for rounding, which Adam would turn
    // into steps of the full rate in directions no two reductions agree on.
    using NormNet = Sequential<Conv2d<1, 8, 3, 1, 1, 1, false>, BatchNorm2d<8>, ReLU, Conv2d<8, 2, 1>>;
    auto& ranks = test_ranks();
    std::vector<train::Batch> globals;  // 7 images a batch: uneven shares of 3 and 4
    for (int i = 0; i < 3; ++i) globals.push_back(test_support::synthetic_photos(40 + i, 7, 12));
    Model<NormNet> alone(3);
    run_training(alone, globals, own_folder("norm_alone"), 2, nullptr);
    for (const bool synchronise : {true, false}) {
        Model<NormNet> together(3);
        run_training(together, shares(globals), shared_folder("norm_together"), 2, &ranks, false,
                     train::RegressionTask<>(), synchronise);
        const double difference = relative_difference(alone, together);
        INFO((synchronise ? "synchronised" : "per-rank") << " BatchNorm: largest difference, relative to the largest value: "
                                                        << difference);
        if (synchronise)
            CHECK(difference < 1e-6);
        else
            CHECK(difference > 1e-5);  // so the synchronised run's agreement is not an accident
    }

    // A global batch in which the last rank had no readable image: every rank skips it (the
    // layers' exchange needs them all), so the run is the one without that batch.
    auto with_gap = shares(globals);
    const train::Batch extra = test_support::synthetic_photos(50, 7, 12);
    with_gap.insert(with_gap.begin() + 1, ranks.rank() == ranks.size() - 1 ? images_of(extra, 0, 0) : share_of(extra));
    Model<NormNet> skipped(3);
    run_training(skipped, with_gap, shared_folder("norm_gap"), 2, &ranks, false, train::RegressionTask<>(), true);
    CHECK(relative_difference(alone, skipped) < 1e-6);
}

TEST_CASE("a run checkpointed by the ranks resumes in one process, and one process's run resumes on the ranks") {
    auto& ranks = test_ranks();
    const auto globals = global_batches();
    Model<Net> straight(3);
    run_training(straight, globals, own_folder("straight"), 4, nullptr);

    // Two epochs on the ranks, the last two in one process (on rank 0, from the ranks' checkpoint).
    const fs::path by_ranks = shared_folder("by_ranks");
    Model<Net> first_half(3);
    run_training(first_half, shares(globals), by_ranks, 2, &ranks);
    ranks.barrier();
    if (ranks.is_root()) {
        Model<Net> second_half(77);
        const auto result = run_training(second_half, globals, by_ranks, 4, nullptr, true);
        CHECK(result.epochs.front().epoch == 3);
        CHECK(relative_difference(straight, second_half) < 1e-6);
    }

    // Two epochs in one process (rank 0), the last two on the ranks.
    const fs::path by_one = shared_folder("by_one");
    if (ranks.is_root()) {
        Model<Net> first(3);
        run_training(first, globals, by_one, 2, nullptr);
    }
    ranks.barrier();
    Model<Net> resumed(55 + static_cast<std::uint64_t>(ranks.rank()));
    const auto result = run_training(resumed, shares(globals), by_one, 4, &ranks, true);
    REQUIRE(!result.epochs.empty());
    CHECK(result.epochs.front().epoch == 3);
    CHECK(relative_difference(straight, resumed) < 1e-6);
}

namespace {
// A small conditional GAN: L -> ab through tanh, and a patch critic of (L, ab).
using GanGenerator = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, Conv2d<8, 2, 3, 1, 1>, Tanh>;
using GanCritic = Sequential<Conv2d<3, 8, 4, 2, 1>, LeakyReLU<0.2f>, Conv2d<8, 1, 3, 1, 1>>;

train::GanResult run_gan(Model<GanGenerator>& generator, Model<GanCritic>& critic, std::vector<train::Batch> batches,
                         const fs::path& out, int epochs, distributed::Communicator* ranks, bool resume = false) {
    train::FixedBatches training(std::move(batches)), validation({test_support::synthetic_photos(4, 4, 12)});
    optim::Adam<> generator_adam({.learning_rate = 2e-3, .beta1 = 0.5}), critic_adam({.learning_rate = 2e-3, .beta1 = 0.5});
    train::GanTrainer trainer(generator, train::ScoreCritic<Model<GanCritic>>(critic), loss::NonSaturatingGan{},
                              generator_adam, critic_adam,
                              {.epochs = epochs, .output = out, .critic_steps = 2, .resume = resume, .quiet = true,
                               .communicator = ranks});
    return trainer.fit(training, validation);
}
}  // namespace

TEST_CASE("GAN: ranks on their shares reach one process's generator, critic and losses on the whole batches") {
    auto& ranks = test_ranks();
    std::vector<train::Batch> globals;  // 7 images a batch: uneven shares of 3 and 4
    for (int i = 0; i < 3; ++i) globals.push_back(test_support::synthetic_photos(60 + i, 7, 12));
    Model<GanGenerator> generator_alone(5);
    Model<GanCritic> critic_alone(6);
    const auto expected = run_gan(generator_alone, critic_alone, globals, own_folder("gan_alone"), 3, nullptr);

    const std::uint64_t r = static_cast<std::uint64_t>(ranks.rank());
    Model<GanGenerator> generator(5 + 10 * r);  // rank 0's weights reach the others
    Model<GanCritic> critic(6 + 10 * r);
    const fs::path out = shared_folder("gan_together");
    const auto result = run_gan(generator, critic, shares(globals), out, 3, &ranks);
    REQUIRE(result.epochs.size() == 3);
    CHECK(relative_difference(generator_alone, generator) < 1e-6);
    CHECK(relative_difference(critic_alone, critic) < 1e-6);
    for (std::size_t e = 0; e < 3; ++e) {
        INFO("epoch " << e + 1);
        CHECK(result.epochs[e].discriminator_loss == Approx(expected.epochs[e].discriminator_loss).epsilon(1e-5));
        CHECK(result.epochs[e].generator_loss == Approx(expected.epochs[e].generator_loss).epsilon(1e-5));
        CHECK(result.epochs[e].validation_loss == Approx(expected.epochs[e].validation_loss).epsilon(1e-5));
    }
    if (ranks.is_root()) CHECK(fs::exists(out / "checkpoint.ckpt"));

    // Resumed on the ranks from rank 0's checkpoint after 3 epochs, to 5: one process's 5 epochs.
    Model<GanGenerator> generator_five(5);
    Model<GanCritic> critic_five(6);
    run_gan(generator_five, critic_five, globals, own_folder("gan_five"), 5, nullptr);
    Model<GanGenerator> generator_resumed(99 + r);
    Model<GanCritic> critic_resumed(98 + r);
    const auto resumed = run_gan(generator_resumed, critic_resumed, shares(globals), out, 5, &ranks, true);
    REQUIRE(!resumed.epochs.empty());
    CHECK(resumed.epochs.front().epoch == 4);
    CHECK(relative_difference(generator_five, generator_resumed) < 1e-6);
    CHECK(relative_difference(critic_five, critic_resumed) < 1e-6);

    // A share with no images: its rank takes the same updates from the others' gradients.
    auto with_gap = shares(globals);
    with_gap[1] = ranks.rank() == ranks.size() - 1 ? images_of(globals[1], 0, 0) : images_of(globals[1], 0, 7);
    Model<GanGenerator> generator_gap(5);
    Model<GanCritic> critic_gap(6);
    run_gan(generator_gap, critic_gap, with_gap, shared_folder("gan_gap"), 1, &ranks);
    if (ranks.size() == 2) {
        // One process on batches 0 and 2 as shared, and batch 1 whole on rank 0.
        Model<GanGenerator> generator_ref(5);
        Model<GanCritic> critic_ref(6);
        run_gan(generator_ref, critic_ref, globals, own_folder("gan_gap_alone"), 1, nullptr);
        CHECK(relative_difference(generator_ref, generator_gap) < 1e-6);
        CHECK(relative_difference(critic_ref, critic_gap) < 1e-6);
    }
}

namespace {
// Reports a NaN loss on the last rank from its `fail_from`-th call on.
struct NaNOnLastRank : train::RegressionTask<> {
    int calls = 0, fail_from = 6;
    double loss(const Tensor<float>& p, const train::Batch& b, Tensor<float>& g) {
        const double value = train::RegressionTask<>::loss(p, b, g);
        const auto& ranks = test_ranks();
        const bool last = ranks.rank() == ranks.size() - 1;
        return last && ++calls >= fail_from ? std::numeric_limits<double>::quiet_NaN() : value;
    }
};
}  // namespace

TEST_CASE("a NaN loss on one rank stops every rank, and rank 0 keeps the last good checkpoint") {
    auto& ranks = test_ranks();
    const fs::path out = shared_folder("nan");
    Model<Net> model(3);
    // 4 batches per epoch (validation calls loss() once): the 6th call is in epoch 2.
    const auto result = run_training(model, shares(global_batches()), out, 4, &ranks, false, NaNOnLastRank());
    CHECK(result.reason == train::stop_reason::non_finite_loss);
    CHECK(result.epochs.size() == 1);
    if (ranks.is_root()) CHECK(io::Checkpoint::load(out / "checkpoint.ckpt").get_integer("epoch") == 1);
}

// Run alone by the timeout test (tests/distributed/CMakeLists.txt), never in the normal run: the
// last rank stops answering, and the others must end the job with a message, not hang.
TEST_CASE("timeout: a rank that stops answering ends the job with a message", "[.]") {
    auto& ranks = test_ranks();
    if (ranks.rank() == ranks.size() - 1) {
        std::this_thread::sleep_for(std::chrono::seconds(60));  // ended before this by the others' abort
        return;
    }
    double value[1] = {1.0};
    ranks.all_reduce_sum(std::span<double>(value));
    FAIL("the all-reduce returned without the last rank");
}
