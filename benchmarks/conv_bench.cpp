// Convolution throughput on the CPU backend: forward, and forward + backward (gradients of the
// input, the weight and the bias), in float, for the convolution shapes the colorization networks
// spend their time in.
//
// Each benchmark is named "<shape>/<pass>" (Google Benchmark appends "/real_time") and reports
// a counter "flops": floating-point operations per second, shown as e.g. "flops=52.3G/s", i.e.
// GFLOP/s. A forward pass counts 2*N*Cout*Hout*Wout*Cin*K*K operations; forward + backward counts
// three times that (the weight and input gradients are each a product of the same size). A
// transposed convolution counts the multiply-adds of its equivalent convolution, which runs
// from its output back to its input.
//
// Time is wall-clock time (several threads work at once). Each benchmark runs one untimed
// forward (and backward) pass before timing, so buffer allocation and first touches of memory
// are excluded.
//
// Threads: --threads=N (or --threads N), else the environment variable CHROMA_THREADS, else 2.
// Every other option is Google Benchmark's, e.g.
//   conv_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   conv_bench --benchmark_filter='conv1x1.*/forward/'
#include <benchmark/benchmark.h>

#include <chroma/chroma.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using chroma::index_t;
using chroma::Shape;
using Tensor = chroma::Tensor<float, chroma::cpu>;

Tensor random_tensor(Shape shape, std::uint64_t seed) {
    Tensor t(shape);
    chroma::Rng rng(seed);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
    return t;
}

/// 2 * N * Cout * Hout * Wout * Cin * K * K, of the (equivalent) convolution.
double conv_flops(index_t n, index_t in_channels, index_t out_channels, index_t out_h, index_t out_w,
                  index_t kernel) {
    return 2.0 * static_cast<double>(n) * static_cast<double>(out_channels) * static_cast<double>(out_h * out_w) *
           static_cast<double>(in_channels) * static_cast<double>(kernel * kernel);
}

enum class pass { forward, forward_backward };

template <class Spec>
void run_conv(benchmark::State& state, Shape input, double forward_flops, pass which) {
    chroma::Model<Spec, chroma::cpu, float> model(/*seed=*/1);
    model.train();
    const Tensor x = random_tensor(input, 2);
    const Tensor dy = random_tensor(model.output_shape(input), 3);

    // Warm-up, untimed: sizes every buffer and touches its memory once.
    model.forward(x);
    if (which == pass::forward_backward) model.backward(dy);

    for (auto _ : state) {
        const Tensor& y = model.forward(x);
        benchmark::DoNotOptimize(y.data());
        if (which == pass::forward_backward) {
            const Tensor& dx = model.backward(dy);
            benchmark::DoNotOptimize(dx.data());
        }
        benchmark::ClobberMemory();
    }
    const double flops = which == pass::forward ? forward_flops : 3.0 * forward_flops;
    state.counters["flops"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Spec>
void register_shape(const std::string& name, Shape input, double forward_flops) {
    for (const pass which : {pass::forward, pass::forward_backward}) {
        const std::string full = name + (which == pass::forward ? "/forward" : "/forward_backward");
        benchmark::RegisterBenchmark(full.c_str(),
                                     [=](benchmark::State& state) { run_conv<Spec>(state, input, forward_flops, which); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
}

void register_all() {
    using namespace chroma;
    // 3x3, 32 -> 32, 64x64, batch 16, padding 1 (the bundled model's and the U-Nets' first levels).
    register_shape<Conv2d<32, 32, 3, 1, 1>>("conv3x3_c32-32_64x64_n16", Shape{.n = 16, .c = 32, .h = 64, .w = 64},
                                            conv_flops(16, 32, 32, 64, 64, 3));
    // 3x3, 64 -> 64, 64x64, batch 16, padding 1.
    register_shape<Conv2d<64, 64, 3, 1, 1>>("conv3x3_c64-64_64x64_n16", Shape{.n = 16, .c = 64, .h = 64, .w = 64},
                                            conv_flops(16, 64, 64, 64, 64, 3));
    // 3x3, 256 -> 256, 16x16, batch 16, padding 1.
    register_shape<Conv2d<256, 256, 3, 1, 1>>("conv3x3_c256-256_16x16_n16",
                                              Shape{.n = 16, .c = 256, .h = 16, .w = 16},
                                              conv_flops(16, 256, 256, 16, 16, 3));
    // 3x3 dilation 2, 512 -> 512, 32x32, batch 1, padding 2.
    register_shape<Conv2d<512, 512, 3, 1, 2, 2>>("conv3x3_d2_c512-512_32x32_n1",
                                                 Shape{.n = 1, .c = 512, .h = 32, .w = 32},
                                                 conv_flops(1, 512, 512, 32, 32, 3));
    // ConvTranspose2d 4x4 stride 2 padding 1, 512 -> 256, from 32x32 to 64x64, batch 1. The
    // equivalent convolution maps 256 channels of 64x64 to 512 channels of 32x32.
    register_shape<ConvTranspose2d<512, 256, 4, 2, 1>>("convT4x4_s2_c512-256_32x32_n1",
                                                       Shape{.n = 1, .c = 512, .h = 32, .w = 32},
                                                       conv_flops(1, 256, 512, 32, 32, 4));
    // 1x1, 256 -> 313 (the ab-bin logits), 64x64, batch 8.
    register_shape<Conv2d<256, 313, 1>>("conv1x1_c256-313_64x64_n8", Shape{.n = 8, .c = 256, .h = 64, .w = 64},
                                        conv_flops(8, 256, 313, 64, 64, 1));
}

bool parse_threads(std::string_view text, int& threads) {
    try {
        std::size_t used = 0;
        const int value = std::stoi(std::string(text), &used);
        if (used != text.size() || value < 1) return false;
        threads = value;
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

/// Takes --threads=N / --threads N out of argv; falls back on CHROMA_THREADS, then 2.
/// Returns 0 when the value cannot be read.
int take_threads_option(int& argc, char** argv) {
    int threads = 2;
    if (const char* env = std::getenv("CHROMA_THREADS"); env && *env) {
        if (!parse_threads(env, threads)) {
            std::cerr << "CHROMA_THREADS must be a positive integer, got '" << env << "'\n";
            return 0;
        }
    }
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::string_view value;
        if (arg.starts_with("--threads=")) {
            value = arg.substr(std::string_view("--threads=").size());
        } else if (arg == "--threads" && i + 1 < argc) {
            value = argv[++i];
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        if (!parse_threads(value, threads)) {
            std::cerr << "--threads needs a positive integer, got '" << value << "'\n";
            return 0;
        }
    }
    argc = kept;
    argv[argc] = nullptr;
    return threads;
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = take_threads_option(argc, argv);
    if (threads == 0) return 2;
    chroma::cpu::set_threads(threads);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("chroma_threads", std::to_string(chroma::cpu::threads()));
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
