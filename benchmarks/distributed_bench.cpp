// Data-parallel training over MPI, measured: run under mpirun (benchmarks/run_distributed.sh runs
// it on 1 and 2 ranks of 1 thread each and prints the scaling efficiency).
//
//   allreduce   latency and bandwidth of Communicator::all_reduce_sum by message size (2+ ranks)
//   step        PhotoUNet's training step at 64 px on a global batch of 16 images shared out
//               among the ranks: forward, loss, backward, gradient averaging, Adam; the
//               averaging's share of the step; each rank's peak resident memory and the
//               averaging buffer (the memory data-parallel training adds to a rank)
//
// Output: one JSON object per line from rank 0. Medians of the repetitions.
#include <chroma/chroma.hpp>
#include <chroma/distributed/mpi.hpp>
#include <chroma/distributed/synchronise.hpp>
#include <chroma/models/photo_unet.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace chroma;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

void allreduce(distributed::Communicator& ranks) {
    for (std::size_t values : {std::size_t(1), std::size_t(16), std::size_t(256), std::size_t(4096),
                               std::size_t(65536), std::size_t(1) << 20, std::size_t(1) << 22}) {
        std::vector<float> buffer(values, 1.0f);
        const int repetitions = values >= (std::size_t(1) << 20) ? 10 : 200;
        std::vector<double> times;
        for (int r = 0; r < repetitions + 3; ++r) {
            ranks.barrier();
            const auto started = Clock::now();
            ranks.all_reduce_sum(buffer);
            if (r >= 3) times.push_back(seconds_since(started));
        }
        const double t = median(times), bytes = static_cast<double>(values * sizeof(float)), n = ranks.size();
        // Bus bandwidth as NCCL reports it: a ring all-reduce moves 2 (n - 1) / n of the data per rank.
        if (ranks.is_root())
            std::printf("{\"benchmark\": \"allreduce\", \"ranks\": %d, \"values\": %zu, \"bytes\": %.0f, "
                        "\"latency_us\": %.2f, \"algorithm_gb_s\": %.3f, \"bus_gb_s\": %.3f}\n",
                        ranks.size(), values, bytes, t * 1e6, bytes / t / 1e9, bytes / t / 1e9 * 2 * (n - 1) / n);
    }
}

void step(distributed::Communicator& ranks, int global_batch, int steps) {
    using Net = models::PhotoUNet;
    if (global_batch % ranks.size() != 0) throw usage_error("the global batch must divide evenly among the ranks");
    const index_t local = global_batch / ranks.size();
    Model<Net> model(1);
    model.train();
    optim::Adam<> adam({.learning_rate = 1e-4});
    distributed::broadcast_parameters(model, ranks);
    Tensor<float> x(Shape{.n = local, .c = 1, .h = 64, .w = 64}), target(Shape{.n = local, .c = 2, .h = 64, .w = 64}),
        grad;
    Rng rng(static_cast<std::uint64_t>(7 + ranks.rank()));
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    for (index_t i = 0; i < target.size(); ++i) target.data()[i] = static_cast<float>(rng.uniform(-0.5, 0.5));
    loss::MSELoss mse;
    distributed::GradientAverager average;
    std::vector<double> step_times, averaging_times;
    for (int s = 0; s < steps + 2; ++s) {
        ranks.barrier();
        const auto started = Clock::now();
        mse.forward_backward(model.forward(x), target, grad);
        model.zero_grad();
        model.backward(grad);
        const auto averaging = Clock::now();
        average(model, ranks, static_cast<double>(local), static_cast<double>(global_batch));
        const double averaging_seconds = seconds_since(averaging);
        adam.step(model);
        if (s >= 2) {
            step_times.push_back(seconds_since(started));
            averaging_times.push_back(averaging_seconds);
        }
    }
    // Every rank's peak memory: rank 0 prints the largest.
    double peaks[1] = {static_cast<double>(peak_rss_kb())}, largest = peaks[0];
    std::vector<double> all(static_cast<std::size_t>(ranks.size()), 0.0);
    all[static_cast<std::size_t>(ranks.rank())] = peaks[0];
    ranks.all_reduce_sum(all);
    for (double p : all) largest = std::max(largest, p);
    const double t = median(step_times);
    if (ranks.is_root())
        std::printf("{\"benchmark\": \"step\", \"model\": \"photo_unet\", \"ranks\": %d, \"threads_per_rank\": %d, "
                    "\"global_batch\": %d, \"step_ms\": %.2f, \"images_per_s\": %.2f, \"averaging_ms\": %.3f, "
                    "\"averaged_values\": %zu, \"averaging_buffer_kb\": %zu, \"peak_rss_kb_largest_rank\": %.0f}\n",
                    ranks.size(), cpu::threads(), global_batch, t * 1e3, global_batch / t,
                    median(averaging_times) * 1e3, average.values(), average.values() * sizeof(float) / 1024,
                    largest);
}

}  // namespace

int main(int argc, char** argv) {
    distributed::MpiCommunicator ranks(&argc, &argv);
    const std::string what = argc > 1 ? argv[1] : "all";
    const int steps = argc > 2 ? std::atoi(argv[2]) : 15;
    try {
        if ((what == "allreduce" || what == "all") && ranks.size() > 1) allreduce(ranks);
        if (what == "step" || what == "all") step(ranks, 16, steps);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "distributed_bench (%s): %s\n", ranks.describe().c_str(), e.what());
        return 1;
    }
    return 0;
}
