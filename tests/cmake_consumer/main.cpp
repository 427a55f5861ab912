// Builds a small network from the installed headers, runs a forward pass and checks the shape.
#include <chroma/chroma.hpp>

#include <cmath>
#include <cstdio>

using Net = chroma::Sequential<chroma::Conv2d<1, 8, 3, 1, 1>, chroma::ReLU, chroma::Conv2d<8, 8, 3, 2, 1>, chroma::ReLU,
                               chroma::ConvTranspose2d<8, 2, 4, 2, 1>, chroma::Tanh>;

int main() {
    chroma::Model<Net> model(7);
    model.eval();
    chroma::Tensor<float> x(chroma::Shape{.n = 2, .c = 1, .h = 16, .w = 12});
    x.fill(0.5f);
    const chroma::Tensor<float>& y = model.forward(x);
    const chroma::Shape expected{.n = 2, .c = 2, .h = 16, .w = 12};
    if (!(y.shape() == expected)) {
        std::fprintf(stderr, "consumer: output shape %s, expected %s\n", y.shape().str().c_str(),
                     expected.str().c_str());
        return 1;
    }
    for (chroma::index_t i = 0; i < y.size(); ++i)
        if (!std::isfinite(y.data()[i]) || std::abs(y.data()[i]) > 1.0f) {
            std::fprintf(stderr, "consumer: output %lld is %f, outside tanh's range\n", static_cast<long long>(i),
                         double(y.data()[i]));
            return 1;
        }
    std::printf("consumer: %s -> %s, %lld parameters\n", x.shape().str().c_str(), y.shape().str().c_str(),
                static_cast<long long>(model.parameter_count()));
    return 0;
}
