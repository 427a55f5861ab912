// Builds against the single header alone (single_include/, not include/): a small U-Net-like
// network learns to map a fixed input to a fixed target, which exercises layers, composition,
// the CPU backend, initialisation and the optimiser as one user would.
#include <chroma/chroma.hpp>

#include <cmath>
#include <cstdio>
#include <exception>

namespace {

using Net = chroma::Sequential<
    chroma::Conv2d<1, 8, 3, 1, 1>, chroma::ReLU,
    chroma::Skip<chroma::Sequential<chroma::Conv2d<8, 8, 3, 2, 1>, chroma::ReLU, chroma::ConvTranspose2d<8, 8, 4, 2, 1>>,
                 chroma::Identity, chroma::Concat>,
    chroma::Conv2d<16, 2, 1>, chroma::Tanh>;
static_assert(Net::in_channels == 1 && Net::out_channels == 2);

// Mean squared error; writes its gradient with respect to the prediction into `grad`.
double mse(const chroma::Tensor<float>& prediction, const chroma::Tensor<float>& target,
           chroma::Tensor<float>& grad) {
    grad.resize(prediction.shape());
    double sum = 0.0;
    const auto n = prediction.size();
    for (chroma::index_t i = 0; i < n; ++i) {
        const double d = double(prediction.data()[i]) - double(target.data()[i]);
        sum += d * d;
        grad.data()[i] = static_cast<float>(2.0 * d / double(n));
    }
    return sum / double(n);
}

int fail(const char* what) {
    std::fprintf(stderr, "single-header test failed: %s\n", what);
    return 1;
}

}  // namespace

int main() try {
    const chroma::Shape in{.n = 2, .c = 1, .h = 8, .w = 8};
    chroma::Tensor<float> x(in), target(chroma::Shape{.n = 2, .c = 2, .h = 8, .w = 8}), grad;
    chroma::Rng rng(1);
    for (chroma::index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
    for (chroma::index_t n = 0; n < 2; ++n)
        for (chroma::index_t h = 0; h < 8; ++h)
            for (chroma::index_t w = 0; w < 8; ++w) {
                target(n, 0, h, w) = 0.5f * x(n, 0, h, w);
                target(n, 1, h, w) = -0.25f * x(n, 0, h, w);
            }

    chroma::Model<Net> model(42);
    if (!(model.output_shape(in) == target.shape())) return fail("output_shape is not [2, 2, 8, 8]");

    chroma::optim::Sgd<> sgd(0.1);
    model.train();
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 200; ++step) {
        const auto& y = model.forward(x);
        if (!(y.shape() == target.shape())) return fail("forward gave the wrong shape");
        last = mse(y, target, grad);
        if (!std::isfinite(last)) return fail("the loss is not finite");
        if (step == 0) first = last;
        model.zero_grad();
        model.backward(grad);
        sgd.step(model);
    }
    std::printf("single header: %lld parameters, loss %.5f -> %.5f\n",
                static_cast<long long>(model.parameter_count()), first, last);
    if (!(last < 0.25 * first)) return fail("training did not reduce the loss to a quarter");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "single-header test failed with an exception: %s\n", e.what());
    return 1;
}
