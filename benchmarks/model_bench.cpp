// Model-level workloads on the CPU backend, one per process run, for benchmarks/run_all.py to
// set beside their PyTorch twins (benchmarks/torch_workloads.py):
//
//   unet_train      ColorNet U-Net training step at 64x64, batch 16: forward, seed 000's half
//                   sum of squared errors, backward, Adam
//   light64_train   the light 64x64 classifier's training step, batch 32: forward, cross-entropy
//                   against fixed soft targets over the 313 bins, backward, Adam
//   photo_unet_train  PhotoUNet's training step (models/photo_unet.hpp, the network the photo
//                   models were first trained with) at 64x64, batch 16: forward, L1, backward, Adam
//   eccv16_b1       ECCV16 colourisation (evaluation mode) of one 256x256 L image: latency
//   eccv16_b8       the same for a batch of 8: throughput
//   gemm            Eigen's fp32 GEMM, 2048^3
//   chroma_gemm     Chroma's own packed fp32 GEMM (the kernels the CPU backend runs), 2048^3
//   fma_peak        the cores' fp32 FMA peak: independent fused multiply-adds in registers
//
// Usage: model_bench WORKLOAD [--threads N] [--min-time SECONDS] [--min-iterations N]
// Prints one JSON line: the per-iteration times in seconds, the work per iteration (images or
// floating-point operations), the heap allocations per timed iteration and the process's peak
// resident memory (VmHWM, at start and at the end). One untimed iteration comes first, so buffers are sized before timing.
#include <Eigen/Core>
#include <chroma/chroma.hpp>
#include <chroma/models/photo_unet.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <execinfo.h>
#include <map>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

// Heap allocations, counted at glibc's entry points (operator new and Eigen's buffers come through
// them), so a run can say whether an iteration allocates.
namespace {
std::atomic<long> allocation_count{0};

// CHROMA_TRACE_ALLOCATIONS=1: one extra iteration records where each allocation came from (the
// call stack's addresses inside this program, as offsets for addr2line -f -C -e model_bench).
constexpr int traced_frames = 10;
constexpr std::size_t most_traced = 1 << 16;
struct Trace {
    void* frames[traced_frames];
    int depth;
};
std::atomic<bool> tracing{false};
std::atomic<std::size_t> traced{0};
Trace traces[most_traced];
thread_local bool inside_trace = false;

void record_allocation() {
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    if (!tracing.load(std::memory_order_relaxed) || inside_trace) return;
    const std::size_t slot = traced.fetch_add(1);
    if (slot >= most_traced) return;
    inside_trace = true;
    traces[slot].depth = backtrace(traces[slot].frames, traced_frames);
    inside_trace = false;
}
}  // namespace
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* malloc(std::size_t size) {
    record_allocation();
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
    record_allocation();
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
    record_allocation();
    return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
    record_allocation();
    return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    record_allocation();
    *out = __libc_memalign(alignment, size);
    return *out ? 0 : 12;  // ENOMEM
}
}

namespace {

using chroma::index_t;
using chroma::Shape;
using Tensor = chroma::Tensor<float, chroma::cpu>;

/// The process's peak resident memory, VmHWM. (getrusage's ru_maxrss would not do: Linux keeps
/// it across execve, so a child of a large process starts with its parent's peak.)
long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

Tensor uniform_tensor(Shape shape, std::uint64_t seed, double low, double high) {
    Tensor t(shape);
    chroma::Rng rng(seed);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(rng.uniform(low, high));
    return t;
}

/// A soft target: every pixel a distribution over the channels (random, normalised).
Tensor soft_target(Shape shape, std::uint64_t seed) {
    Tensor t = uniform_tensor(shape, seed, 0.0, 1.0);
    const index_t plane = shape.plane();
    for (index_t n = 0; n < shape.n; ++n)
        for (index_t i = 0; i < plane; ++i) {
            double sum = 0;
            for (index_t c = 0; c < shape.c; ++c) sum += t.data()[(n * shape.c + c) * plane + i];
            for (index_t c = 0; c < shape.c; ++c) t.data()[(n * shape.c + c) * plane + i] /= static_cast<float>(sum);
        }
    return t;
}

struct Workload {
    std::function<void()> iteration;
    double work = 0;  // per iteration
    std::string unit; // "images" or "flop"
};

template <class Spec, class Loss>
Workload training_step(Shape input, Tensor target, Loss loss) {
    auto model = std::make_shared<chroma::Model<Spec, chroma::cpu, float>>(1);
    model->train();
    auto adam = std::make_shared<chroma::optim::Adam<>>(chroma::optim::AdamOptions{.learning_rate = 1e-4});
    auto x = std::make_shared<Tensor>(uniform_tensor(input, 2, -1.0, 1.0));
    auto t = std::make_shared<Tensor>(std::move(target));
    auto grad = std::make_shared<Tensor>();
    return {[=] {
                const Tensor& y = model->forward(*x);
                loss.forward_backward(y, *t, *grad);
                model->zero_grad();
                model->backward(*grad);
                adam->step(*model);
            },
            static_cast<double>(input.n), "images"};
}

template <class Spec>
Workload inference(Shape input) {
    auto model = std::make_shared<chroma::Model<Spec, chroma::cpu, float>>(1);
    model->inference();  // as torch.inference_mode in the twin
    auto x = std::make_shared<Tensor>(uniform_tensor(input, 2, 0.0, 100.0));
    return {[=] { model->forward(*x); }, static_cast<double>(input.n), "images"};
}

Workload eigen_gemm(index_t size) {
    auto a = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(size, size));
    auto b = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(size, size));
    auto c = std::make_shared<Eigen::MatrixXf>(size, size);
    return {[=] { c->noalias() = (*a) * (*b); }, 2.0 * double(size) * double(size) * double(size), "flop"};
}

Workload chroma_gemm(index_t size, int threads) {
    namespace cpu = chroma::kernels::cpu_detail;
    auto a = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(size, size));
    auto b = std::make_shared<Eigen::MatrixXf>(Eigen::MatrixXf::Random(size, size));
    auto c = std::make_shared<Eigen::MatrixXf>(size, size);
    return {[=] { cpu::multiply(cpu::as_is(a->data(), size, size), cpu::as_is(b->data(), size, size), c->data(), false, threads); },
            2.0 * double(size) * double(size) * double(size), "flop"};
}

/// Independent FMA chains in registers on every thread: the most the cores can do.
Workload fma_peak(int threads) {
    constexpr long rounds = 20'000'000;
#if defined(__AVX512F__)
    constexpr int lanes = 16;
#elif defined(__AVX2__)
    constexpr int lanes = 8;
#else
    constexpr int lanes = 1;
#endif
    constexpr int chains = 12;  // enough to cover the FMA latency on two pipes
    auto sink = std::make_shared<std::vector<float>>(static_cast<std::size_t>(threads), 0.0f);
    return {[=] {
#pragma omp parallel for num_threads(threads)
                for (int thread = 0; thread < threads; ++thread) {
#if defined(__AVX512F__)
                    __m512 acc[chains];
                    for (int k = 0; k < chains; ++k) acc[k] = _mm512_set1_ps(float(k + thread));
                    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
                    for (long r = 0; r < rounds / chains; ++r)
                        for (int k = 0; k < chains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, a);
                    __m512 total = acc[0];
                    for (int k = 1; k < chains; ++k) total = _mm512_add_ps(total, acc[k]);
                    (*sink)[static_cast<std::size_t>(thread)] = _mm512_reduce_add_ps(total);
#elif defined(__AVX2__)
                    __m256 acc[chains];
                    for (int k = 0; k < chains; ++k) acc[k] = _mm256_set1_ps(float(k + thread));
                    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
                    for (long r = 0; r < rounds / chains; ++r)
                        for (int k = 0; k < chains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, a);
                    float lanes_out[8];
                    __m256 total = acc[0];
                    for (int k = 1; k < chains; ++k) total = _mm256_add_ps(total, acc[k]);
                    _mm256_storeu_ps(lanes_out, total);
                    (*sink)[static_cast<std::size_t>(thread)] = lanes_out[0];
#else
                    float acc[chains];
                    for (int k = 0; k < chains; ++k) acc[k] = float(k + thread);
                    for (long r = 0; r < rounds / chains; ++r)
                        for (int k = 0; k < chains; ++k) acc[k] = acc[k] * 0.999999f + 1e-7f;
                    (*sink)[static_cast<std::size_t>(thread)] = acc[0];
#endif
                }
            },
            2.0 * lanes * double(rounds / chains * chains) * threads, "flop"};
}

Workload make_workload(const std::string& name, int threads) {
    namespace models = chroma::models;
    if (name == "unet_train") {
        const Shape input{.n = 16, .c = 1, .h = 64, .w = 64};
        return training_step<models::ColorNetUNet>(input, uniform_tensor({.n = 16, .c = 2, .h = 64, .w = 64}, 3, -1, 1),
                                                   chroma::loss::HalfSumSquaredError{});
    }
    if (name == "light64_train") {
        const Shape input{.n = 32, .c = 1, .h = 64, .w = 64};
        return training_step<models::LightClassifier>(
            input, soft_target({.n = 32, .c = chroma::color::zhang_bin_count, .h = 64, .w = 64}, 3),
            chroma::loss::RebalancedCrossEntropy{});
    }
    if (name == "photo_unet_train") {
        const Shape input{.n = 16, .c = 1, .h = 64, .w = 64};
        return training_step<models::PhotoUNet>(input, uniform_tensor({.n = 16, .c = 2, .h = 64, .w = 64}, 3, -0.5, 0.5),
                                                chroma::loss::L1Loss{});
    }
    if (name == "eccv16_b1") return inference<models::Eccv16Colorizer>({.n = 1, .c = 1, .h = 256, .w = 256});
    if (name == "eccv16_b8") return inference<models::Eccv16Colorizer>({.n = 8, .c = 1, .h = 256, .w = 256});
    if (name == "gemm") return eigen_gemm(2048);
    if (name == "chroma_gemm") return chroma_gemm(2048, threads);
    if (name == "fma_peak") return fma_peak(threads);
    throw chroma::usage_error("unknown workload '" + name +
                              "' (unet_train, light64_train, photo_unet_train, eccv16_b1, eccv16_b8, gemm, chroma_gemm, fma_peak)");
}

/// One more iteration with every allocation's call stack recorded; prints each distinct stack
/// (offsets in this program, innermost first, the allocator's own frames dropped) with its count.
void print_allocation_sites(const Workload& workload) {
    void* warm[2];
    backtrace(warm, 2);  // loads the unwinder, which allocates, before tracing starts
    traced = 0;
    tracing = true;
    workload.iteration();
    tracing = false;
    Dl_info self{};
    dladdr(reinterpret_cast<void*>(&print_allocation_sites), &self);
    const auto base = reinterpret_cast<std::uintptr_t>(self.dli_fbase);
    std::map<std::string, int> sites;
    for (std::size_t i = 0; i < std::min(traced.load(), most_traced); ++i) {
        std::string stack;
        for (int f = 2; f < traces[i].depth; ++f) {
            Dl_info where{};
            if (!dladdr(traces[i].frames[f], &where) || where.dli_fbase != self.dli_fbase) continue;
            char text[24];
            std::snprintf(text, sizeof text, " 0x%lx", static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(traces[i].frames[f]) - base - 1));
            stack += text;
        }
        ++sites[stack];
    }
    std::fprintf(stderr, "%zu allocations in one iteration, at %zu call stacks (count, then offsets):\n", traced.load(),
                 sites.size());
    for (const auto& [stack, count] : sites) std::fprintf(stderr, "%d%s\n", count, stack.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s WORKLOAD [--threads N] [--min-time SECONDS] [--min-iterations N]\n", argv[0]);
        return 2;
    }
    const long rss_start = peak_rss_kb();
    const std::string name = argv[1];
    int threads = 2, min_iterations = 3;
    double min_time = 2.0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string option = argv[i];
        if (option == "--threads") threads = std::atoi(argv[i + 1]);
        else if (option == "--min-time") min_time = std::atof(argv[i + 1]);
        else if (option == "--min-iterations") min_iterations = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", option.c_str());
            return 2;
        }
    }
    chroma::cpu::set_threads(threads);
    Eigen::setNbThreads(threads);
    try {
        const Workload workload = make_workload(name, threads);
        workload.iteration();  // untimed: sizes every buffer
        std::vector<double> times;
        times.reserve(100000);
        double elapsed = 0;
        const long allocations_before = allocation_count.load();
        while (elapsed < min_time || static_cast<int>(times.size()) < min_iterations) {
            const auto start = std::chrono::steady_clock::now();
            workload.iteration();
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            times.push_back(seconds);
            elapsed += seconds;
        }
        const double allocations = double(allocation_count.load() - allocations_before) / double(times.size());
        if (const char* trace = std::getenv("CHROMA_TRACE_ALLOCATIONS"); trace && std::string(trace) == "1")
            print_allocation_sites(workload);
        std::printf("{\"workload\": \"%s\", \"threads\": %d, \"work\": %.17g, \"unit\": \"%s\", \"times\": [", name.c_str(),
                    chroma::cpu::threads(), workload.work, workload.unit.c_str());
        for (std::size_t i = 0; i < times.size(); ++i) std::printf("%s%.6g", i ? ", " : "", times[i]);
        std::printf("], \"allocations_per_iteration\": %.1f, \"rss_start_kb\": %ld, \"rss_peak_kb\": %ld}\n",
                    allocations, rss_start, peak_rss_kb());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "model_bench %s: %s\n", name.c_str(), e.what());
        return 1;
    }
}
