// sRGB <-> CIELAB throughput on a 3840 x 2160 float image: Chroma against OpenCV's cvtColor in
// the same binary, both on 2 threads. Reported as megapixels per second (the "Mpx/s" counter).
//
// Chroma converts planar tensors (sRGB [1,3,H,W] <-> L [1,1,H,W] and ab [1,2,H,W]); OpenCV
// converts interleaved CV_32FC3 (COLOR_RGB2Lab, COLOR_Lab2RGB). Both read and write 12 bytes
// per pixel, and both use D65 (OpenCV's white differs from scikit-image's in the fourth digit).
// One untimed conversion before timing allocates every output, for both.
#include <benchmark/benchmark.h>

#include <chroma/color/conversion.hpp>
#include <chroma/core/random.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace {

constexpr int width = 3840, height = 2160, threads = 2;
constexpr double megapixels = width * height / 1e6;

chroma::Tensor<float> random_rgb() {
    chroma::Tensor<float> rgb(chroma::Shape{.n = 1, .c = 3, .h = height, .w = width});
    chroma::Rng rng(1);
    for (chroma::index_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = static_cast<float>(rng.uniform());
    return rgb;
}

cv::Mat random_rgb_mat() {
    cv::Mat rgb(height, width, CV_32FC3);
    cv::randu(rgb, 0.0f, 1.0f);
    return rgb;
}

void report(benchmark::State& state) {
    state.counters["Mpx/s"] = benchmark::Counter(megapixels, benchmark::Counter::kIsIterationInvariantRate);
}

void chroma_rgb_to_lab(benchmark::State& state) {
    chroma::cpu::set_threads(threads);
    const chroma::Tensor<float> rgb = random_rgb();
    chroma::Tensor<float> lightness, ab;
    chroma::color::rgb_to_lab(rgb, lightness, ab);
    for (auto _ : state) {
        chroma::color::rgb_to_lab(rgb, lightness, ab);
        benchmark::DoNotOptimize(ab.data());
    }
    report(state);
}

void chroma_lab_to_rgb(benchmark::State& state) {
    chroma::cpu::set_threads(threads);
    chroma::Tensor<float> lightness, ab, rgb;
    chroma::color::rgb_to_lab(random_rgb(), lightness, ab);
    chroma::color::lab_to_rgb(lightness, ab, rgb);
    for (auto _ : state) {
        chroma::color::lab_to_rgb(lightness, ab, rgb);
        benchmark::DoNotOptimize(rgb.data());
    }
    report(state);
}

void opencv_rgb_to_lab(benchmark::State& state) {
    cv::setNumThreads(threads);
    const cv::Mat rgb = random_rgb_mat();
    cv::Mat lab;
    cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
    for (auto _ : state) {
        cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
        benchmark::DoNotOptimize(lab.data);
    }
    report(state);
}

void opencv_lab_to_rgb(benchmark::State& state) {
    cv::setNumThreads(threads);
    cv::Mat lab, rgb;
    cv::cvtColor(random_rgb_mat(), lab, cv::COLOR_RGB2Lab);
    cv::cvtColor(lab, rgb, cv::COLOR_Lab2RGB);
    for (auto _ : state) {
        cv::cvtColor(lab, rgb, cv::COLOR_Lab2RGB);
        benchmark::DoNotOptimize(rgb.data);
    }
    report(state);
}

}  // namespace

BENCHMARK(chroma_rgb_to_lab)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(opencv_rgb_to_lab)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(chroma_lab_to_rgb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(opencv_lab_to_rgb)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
