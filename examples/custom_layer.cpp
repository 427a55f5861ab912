// Adding a layer to Chroma from outside the library, then training a network that uses it.
//
// Two ways, from the lightest to the most general:
//   1. an element-wise activation: write one functor with its value and derivative and wrap it
//      in chroma::Elementwise (it then runs on every backend that runs Elementwise);
//   2. any layer: write a spec with channel counts and a runtime `layer<T, B>` class meeting the
//      chroma::Layer concept (see docs/extending.md). This one, PerChannelAffine, learns a scale
//      and a shift per channel.
// The program checks both layers' gradients numerically, then trains a small network with them.
#include <chroma/chroma.hpp>

#include <cmath>
#include <cstdio>
#include <string>

// ---- 1. An activation: Swish, x * sigmoid(x) ------------------------------------------------
struct swish_op {
    static std::string describe() { return "Swish"; }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return x / (T(1) + std::exp(-x)); }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T x, T y) const {
        const T s = T(1) / (T(1) + std::exp(-x));
        return y + s * (T(1) - y);  // d/dx x·s(x) = s + x·s·(1 - s) = y + s(1 - y)
    }
};
using Swish = chroma::Elementwise<swish_op>;

// ---- 2. A layer with parameters: y = x * scale[c] + shift[c] ---------------------------------
template <int Channels>
struct PerChannelAffine {
    static_assert(Channels > 0, "PerChannelAffine: the channel count must be positive");
    static constexpr int in_channels = Channels;  // checked against the previous layer at compile time
    static constexpr int out_channels = Channels;

    template <class T, chroma::Backend B>
    class layer {
        // This layer is written for host memory only; using it with a device backend is a
        // compile-time error with this message rather than a crash.
        static_assert(B::host_accessible, "PerChannelAffine runs on host backends only");
        using Tensor = chroma::Tensor<T, B>;

    public:
        layer()
            : scale_(chroma::Parameter<T, B>::vector(Channels, chroma::parameter_role::scale)),
              shift_(chroma::Parameter<T, B>::vector(Channels, chroma::parameter_role::shift)) {
            scale_.value.fill(T(1));
        }
        static std::string describe() { return "PerChannelAffine(" + std::to_string(Channels) + ")"; }

        chroma::Shape output_shape(chroma::Shape in) const {
            chroma::require_nonempty(describe, in);  // describe is called only on an error
            chroma::require_channels(describe, Channels, in);
            return in;
        }

        const Tensor& forward(const Tensor& x) {
            output_.resize(output_shape(x.shape()));
            const chroma::index_t plane = x.shape().plane();
            for (chroma::index_t n = 0; n < x.shape().n; ++n)
                for (chroma::index_t c = 0; c < Channels; ++c) {
                    const T a = scale_.value[c], b = shift_.value[c];
                    const T* in = x.data() + (n * Channels + c) * plane;
                    T* out = output_.data() + (n * Channels + c) * plane;
                    for (chroma::index_t i = 0; i < plane; ++i) out[i] = a * in[i] + b;
                }
            input_ = x;  // a view, not a copy: backward needs the input
            return output_;
        }

        const Tensor& backward(const Tensor& dy) {
            chroma::require_same_shape(output_.shape(), dy.shape(), describe() + " backward");
            input_grad_.resize(input_.shape());
            const chroma::index_t plane = dy.shape().plane();
            for (chroma::index_t n = 0; n < dy.shape().n; ++n)
                for (chroma::index_t c = 0; c < Channels; ++c) {
                    const chroma::index_t offset = (n * Channels + c) * plane;
                    T dscale = 0, dshift = 0;
                    for (chroma::index_t i = 0; i < plane; ++i) {
                        dscale += dy.data()[offset + i] * input_.data()[offset + i];
                        dshift += dy.data()[offset + i];
                        input_grad_.data()[offset + i] = dy.data()[offset + i] * scale_.value[c];
                    }
                    scale_.gradient()[c] += dscale;  // allocated by the first backward; accumulates until zero_grad()
                    shift_.gradient()[c] += dshift;
                }
            return input_grad_;
        }

        template <class V>
        void visit_parameters(V&& visit) {
            visit("weight", scale_);
            visit("bias", shift_);
        }
        void set_training(bool) {}

    private:
        chroma::Parameter<T, B> scale_, shift_;
        Tensor input_, output_, input_grad_;
    };
};

// The concept check gives a readable error here if the class misses part of the contract.
static_assert(chroma::LayerSpec<PerChannelAffine<4>>);
static_assert(chroma::LayerSpec<Swish>);

// ---- A network using both ---------------------------------------------------------------------
using Net = chroma::Sequential<chroma::Conv2d<1, 8, 3, 1, chroma::same>, PerChannelAffine<8>, Swish,
                               chroma::Conv2d<8, 8, 3, 1, chroma::same>, Swish, chroma::Conv2d<8, 2, 1>>;

int main() {
    using namespace chroma;

    // Gradients of the new layers against finite differences, in double precision.
    Rng rng(1);
    Model<Sequential<PerChannelAffine<3>, Swish>, cpu, double> probe(2);
    probe.parameter("0.weight").value.fill(0.7);
    const auto check = testing::check_gradients(probe, testing::random_tensor({2, 3, 4, 4}, rng), rng);
    std::printf("gradient check of PerChannelAffine + Swish: max relative error %.2e (%lld points)\n",
                check.max_error, static_cast<long long>(check.points));
    if (check.max_error > 1e-6) return 1;

    // Train: predict two smooth "chroma" maps from a one-channel pattern.
    Model<Net> model(3);
    std::printf("network: %lld parameters\n", static_cast<long long>(model.parameter_count()));
    Tensor<float> x(Shape{.n = 8, .c = 1, .h = 16, .w = 16}), target(Shape{.n = 8, .c = 2, .h = 16, .w = 16});
    for (index_t n = 0; n < 8; ++n)
        for (index_t h = 0; h < 16; ++h)
            for (index_t w = 0; w < 16; ++w) {
                const float v = std::sin(0.3f * static_cast<float>(w + n) + 0.2f * static_cast<float>(h));
                x(n, 0, h, w) = v;
                target(n, 0, h, w) = 0.5f * v * v;
                target(n, 1, h, w) = v > 0 ? -0.25f : 0.25f;
            }
    Tensor<float> grad(target.shape());
    optim::Sgd sgd(0.1);
    double first = 0, loss = 0;
    for (int step = 0; step <= 300; ++step) {
        model.zero_grad();
        const auto& y = model.forward(x);
        loss = 0;
        for (index_t i = 0; i < y.size(); ++i) {
            const float d = y.data()[i] - target.data()[i];
            loss += d * d;
            grad.data()[i] = 2 * d / static_cast<float>(y.size());
        }
        loss /= static_cast<double>(y.size());
        if (step == 0) first = loss;
        if (step % 50 == 0) std::printf("step %3d  loss %.5f\n", step, loss);
        model.backward(grad);
        sgd.step(model);
    }
    std::printf("loss fell from %.5f to %.5f (%.1fx)\n", first, loss, first / loss);
    return loss < first / 5 ? 0 : 1;
}
