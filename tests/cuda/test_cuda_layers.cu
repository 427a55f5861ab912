// CPU/CUDA parity for every layer's forward and backward (float, relative 1e-4): the same
// parameters and inputs on both backends, comparing outputs, input gradients and parameter
// gradients (and BatchNorm's running statistics).
#include "parity.cuh"

using namespace chroma;
using chroma::cuda_testing::check_parity;

namespace {

/// Runs two training forwards on the same inputs (moving BatchNorm's running statistics), then
/// switches to evaluation: the preparation for checking evaluation mode.
struct train_twice_then_eval {
    template <class M>
    void operator()(M& model) const {
        Rng rng(11);
        model.set_training(true);
        for (int step = 0; step < 2; ++step) {
            const Tensor<float> x = chroma::cuda_testing::random_tensor({3, 3, 4, 4}, rng, 1.0, 4.0);
            if constexpr (std::is_same_v<typename M::backend, cuda>) {
                const Tensor<float, cuda> x_device = to_device(x);
                model.forward(x_device);
            } else {
                model.forward(x);
            }
        }
        model.set_training(false);
    }
};

/// Gives a Dropout model the same mask sequence on both backends.
struct same_dropout_seed {
    template <class M>
    void operator()(M& model) const {
        model.seed(1234);
    }
};

}  // namespace

TEST_CASE("Conv2d matches the CPU on the GPU", "[cuda][conv]") {
    SECTION("3x3, padding 1") { check_parity<Conv2d<3, 5, 3, 1, 1>>({2, 3, 7, 6}); }
    SECTION("'same' padding, one image") { check_parity<Conv2d<2, 4, 5, 1, same>>({1, 2, 9, 9}); }
    SECTION("stride 2, dilation 2, no bias") { check_parity<Conv2d<3, 4, 3, 2, 0, 2, false>>({2, 3, 9, 8}); }
    SECTION("1x1 (the pointwise path)") { check_parity<Conv2d<4, 6, 1>>({3, 4, 5, 5}); }
    SECTION("1x1 with stride 2 (not pointwise)") { check_parity<Conv2d<3, 4, 1, 2>>({2, 3, 6, 7}); }
    SECTION("4x4, stride 2, padding 1") { check_parity<Conv2d<2, 3, 4, 2, 1>>({2, 2, 8, 8}); }
}

TEST_CASE("ConvTranspose2d matches the CPU on the GPU", "[cuda][conv]") {
    SECTION("4x4, stride 2, padding 1") { check_parity<ConvTranspose2d<4, 3, 4, 2, 1>>({2, 4, 5, 4}); }
    SECTION("output padding 1, dilation 2") { check_parity<ConvTranspose2d<3, 2, 3, 2, 1, 1, 2>>({2, 3, 4, 5}); }
    SECTION("1x1 (the pointwise path), no bias") {
        check_parity<ConvTranspose2d<4, 3, 1, 1, 0, 0, 1, false>>({3, 4, 4, 4});
    }
    SECTION("3x3, stride 1") { check_parity<ConvTranspose2d<2, 2, 3>>({1, 2, 6, 5}); }
}

TEST_CASE("activations match the CPU on the GPU", "[cuda][activation]") {
    const Shape shape{2, 3, 5, 4};
    SECTION("ReLU") { check_parity<ReLU>(shape); }
    SECTION("LeakyReLU(0.2)") { check_parity<LeakyReLU<0.2f>>(shape); }
    SECTION("Tanh") { check_parity<Tanh>(shape); }
    SECTION("Sigmoid") { check_parity<Sigmoid>(shape); }
    SECTION("Identity") { check_parity<Sequential<Identity, Tanh>>(shape); }
}

TEST_CASE("BatchNorm2d matches the CPU on the GPU in training and evaluation", "[cuda][batch_norm]") {
    SECTION("training: batch statistics and running statistics") { check_parity<BatchNorm2d<3>>({4, 3, 5, 6}); }
    SECTION("training, one value per image and channel") { check_parity<BatchNorm2d<5, 0.3>>({6, 5, 1, 1}); }
    SECTION("evaluation, after training forwards moved the running statistics") {
        check_parity<BatchNorm2d<3>>({2, 3, 5, 5}, false, 7, train_twice_then_eval{});
    }
}

TEST_CASE("Dropout gives the CPU's masks on the GPU", "[cuda][dropout]") {
    SECTION("training") { check_parity<Dropout<0.3>>({2, 3, 8, 7}, true, 7, same_dropout_seed{}); }
    SECTION("evaluation passes through") { check_parity<Dropout<0.3>>({2, 3, 4, 4}, false, 7, same_dropout_seed{}); }
}

TEST_CASE("MaxPool2d matches the CPU on the GPU", "[cuda][pooling]") {
    SECTION("2x2") { check_parity<MaxPool2d<2>>({2, 3, 8, 6}); }
    SECTION("3x3, stride 2, padding 1 (overlapping windows)") { check_parity<MaxPool2d<3, 2, 1>>({2, 2, 9, 7}); }
    SECTION("3x3, stride 1 (heavily overlapping)") { check_parity<MaxPool2d<3, 1>>({1, 2, 6, 6}); }
}

TEST_CASE("Upsample matches the CPU on the GPU", "[cuda][upsample]") {
    SECTION("nearest x2") { check_parity<Upsample<2>>({2, 3, 4, 5}); }
    SECTION("nearest x3") { check_parity<Upsample<3>>({1, 2, 3, 4}); }
    SECTION("bilinear x2") { check_parity<Upsample<2, upsample_mode::bilinear>>({2, 3, 4, 5}); }
    SECTION("bilinear x3") { check_parity<Upsample<3, upsample_mode::bilinear>>({1, 2, 5, 3}); }
    SECTION("bilinear x4") { check_parity<Upsample<4, upsample_mode::bilinear>>({2, 2, 3, 4}); }
    SECTION("bilinear x1") { check_parity<Upsample<1, upsample_mode::bilinear>>({1, 2, 3, 4}); }
}

TEST_CASE("Softmax over channels matches the CPU on the GPU", "[cuda][softmax]") {
    SECTION("a few channels") { check_parity<Softmax>({2, 5, 4, 3}); }
    SECTION("313 channels, as Zhang et al.'s bins") { check_parity<Softmax>({1, 313, 3, 4}); }
}

TEST_CASE("merges and composition match the CPU on the GPU", "[cuda][composition]") {
    SECTION("Skip with a Concat merge") {
        check_parity<Skip<Conv2d<3, 3, 3, 1, 1>, Conv2d<3, 2, 1>, Concat>>({2, 3, 6, 5});
    }
    SECTION("Skip with an add-then-Tanh merge") {
        check_parity<Skip<Sequential<Conv2d<3, 4, 3, 2, 1>, ReLU, ConvTranspose2d<4, 3, 4, 2, 1>>, Identity,
                          AddThen<Tanh>>>({2, 3, 6, 8});
    }
    SECTION("Named layers in a Sequential, and a Residual block") {
        check_parity<Sequential<Named<"stem", Conv2d<2, 4, 3, 1, 1>>,
                                Residual<Sequential<Named<"conv1", Conv2d<4, 4, 3, 1, 1>>, ReLU,
                                                    Named<"conv2", Conv2d<4, 4, 3, 1, 1>>>,
                                         Named<"downsample", Conv2d<4, 4, 1>>>,
                                MaxPool2d<2>, Upsample<2, upsample_mode::bilinear>, Conv2d<4, 3, 1>, Softmax>>(
            {2, 2, 8, 8});
    }
}
