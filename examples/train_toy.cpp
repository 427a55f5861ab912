// Trains a small U-Net-shaped network (two scales, a 1x1 projection skip merged by add then
// ReLU) to fit a fixed batch, printing the loss as it falls: the smallest end-to-end use of
// Chroma's layers, composition, backward pass and optimiser.
#include <chroma/chroma.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace chroma;

using ToyUNet = Sequential<Conv2d<1, 16, 3, 1, same>, ReLU,
                           Skip<Sequential<Conv2d<16, 32, 3, 2, 1>, ReLU, Conv2d<32, 32, 3, 1, 1>, ReLU,
                                           ConvTranspose2d<32, 16, 4, 2, 1>>,
                                Conv2d<16, 16, 1>, AddThen<ReLU>>,
                           Conv2d<16, 2, 1>, Tanh>;

int main(int argc, char** argv) {
    const int steps = argc > 1 ? std::atoi(argv[1]) : 300;
    Model<ToyUNet> model(7);
    std::printf("ToyUNet: %lld parameters, %d CPU threads\n", static_cast<long long>(model.parameter_count()),
                cpu::threads());

    // A fixed batch: the target "chroma" channels are non-linear functions of the input pattern.
    Rng rng(8);
    const Shape in{.n = 8, .c = 1, .h = 32, .w = 32};
    Tensor<float> x(in), target(Shape{.n = in.n, .c = 2, .h = in.h, .w = in.w});
    for (index_t n = 0; n < in.n; ++n) {
        const double fx = rng.uniform(0.1, 0.5), fy = rng.uniform(0.1, 0.5), phase = rng.uniform(0, 6);
        for (index_t h = 0; h < in.h; ++h)
            for (index_t w = 0; w < in.w; ++w) {
                const double v = std::sin(fx * w + phase) * std::cos(fy * h);
                x(n, 0, h, w) = static_cast<float>(v);
                target(n, 0, h, w) = static_cast<float>(0.6 * v * v - 0.2);
                target(n, 1, h, w) = static_cast<float>(v > 0 ? -0.3 : 0.3);
            }
    }

    Tensor<float> grad(target.shape());
    optim::Sgd sgd(0.3);
    double first = 0, loss = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step <= steps; ++step) {
        model.zero_grad();
        const Tensor<float>& y = model.forward(x);
        loss = 0;
        for (index_t i = 0; i < y.size(); ++i) {
            const double d = static_cast<double>(y.data()[i]) - target.data()[i];
            loss += d * d;
            grad.data()[i] = static_cast<float>(2 * d / static_cast<double>(y.size()));
        }
        loss /= static_cast<double>(y.size());
        if (!std::isfinite(loss)) {
            std::fprintf(stderr, "loss is not finite at step %d: stopping\n", step);
            return 1;
        }
        if (step == 0) first = loss;
        if (step % 25 == 0) std::printf("step %4d  mse %.5f\n", step, loss);
        model.backward(grad);
        sgd.step(model);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("mse %.5f -> %.5f (%.1fx lower) in %.1f s, %.0f images/s\n", first, loss, first / loss, seconds,
                (steps + 1) * in.n / seconds);
    return loss < first ? 0 : 1;
}
