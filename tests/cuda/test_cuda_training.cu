// CUDA backend beyond single layers: optimiser steps, gradient clipping and a small composed
// network's training steps against the CPU; transfers; and the error paths, some of which run
// without a GPU (tagged [no_device]: cuda_main.cu runs only those when there is no device).
#include "parity.cuh"

#include <cstring>

using namespace chroma;
using chroma::cuda_testing::check_same_parameters;
using chroma::cuda_testing::max_relative_error;
using chroma::cuda_testing::random_tensor;
using chroma::cuda_testing::tolerance;

namespace {

/// Sequential + Skip + BatchNorm: the shape of a small colorization U-Net.
using SmallUNet = Sequential<
    Conv2d<1, 8, 3, 1, same>, BatchNorm2d<8>, ReLU,
    Skip<Sequential<Conv2d<8, 12, 3, 2, 1>, BatchNorm2d<12>, LeakyReLU<0.2f>, Dropout<0.25>,
                    ConvTranspose2d<12, 8, 4, 2, 1>>,
         Conv2d<8, 8, 1>, AddThen<ReLU>>,
    Skip<Sequential<MaxPool2d<2>, Conv2d<8, 4, 3, 1, 1>, Upsample<2, upsample_mode::bilinear>>, Identity, Concat>,
    Conv2d<12, 2, 1>, Tanh>;

/// The gradient of 0.5 * |y - target|^2, computed on the host.
Tensor<float> squared_error_gradient(const Tensor<float>& y, const Tensor<float>& target) {
    Tensor<float> grad(y.shape());
    for (index_t i = 0; i < y.size(); ++i) grad.data()[i] = y.data()[i] - target.data()[i];
    return grad;
}

/// Seeds every Dropout layer the composed nets above hold (none, or the one inside SmallUNet's skip).
template <class M>
void seed_dropout(M& model, std::uint64_t seed) {
    if constexpr (std::is_same_v<typename M::spec, SmallUNet>)
        model.template child<3>().inner().template child<3>().seed(seed);
}

/// Runs `steps` training steps of the same model on both backends with optimisers made by
/// make_optimizer(model), seeding Dropout layers alike, and compares outputs and parameters.
template <class Net, class MakeOptimizer>
void check_training_parity(Shape input_shape, int steps, MakeOptimizer make_optimizer, bool clip = false) {
    Model<Net, cpu, float> host(3);
    Model<Net, cuda, float> device(3);  // the same start: Model<Net, cuda>(seed) initialises as the CPU does
    check_same_parameters(host, device, false);
    auto host_optimizer = make_optimizer(host);
    auto device_optimizer = make_optimizer(device);
    Rng rng(5);
    for (int step = 0; step < steps; ++step) {
        INFO("step " << step);
        const Tensor<float> x = random_tensor(input_shape, rng);
        const Tensor<float, cuda> x_device = to_device(x);
        const std::uint64_t dropout_seed = rng.next();
        seed_dropout(host, dropout_seed);
        seed_dropout(device, dropout_seed);
        const Tensor<float> y = host.forward(x).clone();
        const Tensor<float> y_device = to_host(device.forward(x_device));
        CHECK(max_relative_error(y_device, y) < tolerance);
        const Tensor<float> target = random_tensor(y.shape(), rng, -0.5, 0.5);
        host.zero_grad();
        device.zero_grad();
        host.backward(squared_error_gradient(y, target));
        const Tensor<float, cuda> dy_device = to_device(squared_error_gradient(y_device, target));
        device.backward(dy_device);
        check_same_parameters(host, device, true);
        if (clip) {
            const double host_norm = optim::clip_grad_norm(host, 0.05);
            const double device_norm = optim::clip_grad_norm(device, 0.05);
            CHECK(std::abs(device_norm - host_norm) <= 1e-5 * host_norm);
        }
        host_optimizer.step(host);
        device_optimizer.step(device);
        check_same_parameters(host, device, true);
    }
}

}  // namespace

TEST_CASE("an SGD step matches the CPU on the GPU", "[cuda][optim]") {
    using Net = Sequential<Conv2d<2, 3, 3, 1, 1>, Tanh, Conv2d<3, 2, 1>>;
    SECTION("plain") {
        check_training_parity<Net>({2, 2, 5, 5}, 2, [](auto& m) {
            return optim::Sgd<float, typename std::remove_reference_t<decltype(m)>::backend>(0.1);
        });
    }
    SECTION("Nesterov momentum and weight decay") {
        check_training_parity<Net>({2, 2, 5, 5}, 3, [](auto& m) {
            return optim::Sgd<float, typename std::remove_reference_t<decltype(m)>::backend>(
                optim::SgdOptions{.learning_rate = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3});
        });
    }
}

TEST_CASE("an Adam step matches the CPU on the GPU", "[cuda][optim]") {
    using Net = Sequential<Conv2d<2, 3, 3, 1, 1>, Tanh, Conv2d<3, 2, 1>>;
    SECTION("Adam") {
        check_training_parity<Net>({2, 2, 5, 5}, 3, [](auto& m) {
            return optim::Adam<float, typename std::remove_reference_t<decltype(m)>::backend>(
                optim::AdamOptions{.learning_rate = 1e-2, .weight_decay = 1e-4});
        });
    }
    SECTION("AdamW, with gradient clipping") {
        check_training_parity<Net>(
            {2, 2, 5, 5}, 2,
            [](auto& m) {
                return optim::Adam<float, typename std::remove_reference_t<decltype(m)>::backend>(
                    optim::adamw_options(1e-2));
            },
            true);
    }
}

TEST_CASE("a small U-Net (Sequential, Skip, BatchNorm, Dropout) trains alike on both backends", "[cuda][training]") {
    check_training_parity<SmallUNet>({4, 1, 8, 8}, 3, [](auto& m) {
        return optim::Adam<float, typename std::remove_reference_t<decltype(m)>::backend>(
            optim::AdamOptions{.learning_rate = 1e-2});
    });
}

TEST_CASE("tensors move between host and device unchanged", "[cuda][transfer]") {
    Rng rng(1);
    const Tensor<float> host = random_tensor({2, 3, 4, 5}, rng);
    const Tensor<float, cuda> device = to_device(host);
    CHECK(device.shape() == host.shape());
    const Tensor<float> back = to_host(device);
    CHECK(std::memcmp(back.data(), host.data(), sizeof(float) * static_cast<std::size_t>(host.size())) == 0);

    SECTION("clone is a deep copy on the device") {
        Tensor<float, cuda> copy = device.clone();
        CHECK_FALSE(copy.shares_storage_with(device));
        kernels::fill(copy, 2.5f);
        CHECK(to_host(copy).data()[7] == 2.5f);
        CHECK(to_host(device).data()[7] == host.data()[7]);
    }
    SECTION("batch views read the right images") {
        CHECK(std::memcmp(to_host(device.batch(1)).data(), host.batch(1).data(), sizeof(float) * 60) == 0);
    }
    SECTION("transfer reuses the destination's storage") {
        Tensor<float, cuda> destination(Shape{4, 3, 4, 5});
        const float* storage = destination.data();
        transfer(host, destination);
        CHECK(destination.data() == storage);
        CHECK(destination.shape() == host.shape());
        CHECK(max_relative_error(destination, host) == 0.0);
    }
    SECTION("double tensors too") {
        Tensor<double> d(Shape{1, 1, 2, 2});
        d.data()[3] = 0.125;
        CHECK(to_host(to_device(d)).data()[3] == 0.125);
    }
}

TEST_CASE("copy_parameters moves a model to the GPU and back", "[cuda][transfer]") {
    using Net = Sequential<Conv2d<1, 2, 3>, BatchNorm2d<2>>;
    Model<Net> host(1);
    host.parameter("1.running_mean").value.fill(0.5f);
    Model<Net, cuda> device(2);
    copy_parameters(host, device);
    Model<Net> back(3);
    copy_parameters(device, back);
    for (const auto& name : host.parameter_names()) {
        INFO(name);
        CHECK(max_relative_error(back.parameter(name).value, host.parameter(name).value) == 0.0);
    }
}

TEST_CASE("CUDA errors are clear exceptions", "[cuda][errors]") {
    SECTION("out of GPU memory") {
        try {
            Tensor<float, cuda> huge(Shape{1 << 20, 1 << 20, 1 << 10, 1});  // 4 PiB
            FAIL("allocating 4 PiB on the GPU did not throw");
        } catch (const cuda_error& e) {
            CHECK_THAT(e.what(), Catch::Contains("out of GPU memory"));
            CHECK_THAT(e.what(), Catch::Contains("allocating"));
        }
    }
    SECTION("a wrong input shape on the GPU is a shape_error, as on the CPU") {
        Model<Conv2d<3, 2, 3>, cuda> model(1);
        const Tensor<float, cuda> x(Shape{1, 2, 5, 5});
        CHECK_THROWS_AS(model.forward(x), shape_error);
    }
}

TEST_CASE("without a device, the CUDA backend fails with a clear message", "[no_device][errors]") {
    SECTION("empty tensors need no device") {
        const Tensor<float, cuda> empty;
        CHECK(to_host(empty).empty());
        const Tensor<float, cuda> zero_images(Shape{0, 3, 4, 4});
        CHECK(to_host(zero_images).shape() == Shape{0, 3, 4, 4});
        CHECK(to_device(Tensor<float>()).empty());
    }
    SECTION("copy_parameters names what does not match") {
        Model<Conv2d<1, 2, 3>> a(1);
        Model<Sequential<Conv2d<1, 2, 3>>> b(1);
        CHECK_THROWS_WITH(copy_parameters(a, b), Catch::Contains("no parameter named '0.weight'"));
    }
    if (cuda::device_available()) return;
    SECTION("allocating on the GPU throws cuda_error saying there is no device") {
        CHECK_FALSE(cuda::device_available());
        try {
            Tensor<float, cuda> t(Shape{1, 1, 2, 2});
            FAIL("allocating without a device did not throw");
        } catch (const cuda_error& e) {
            CHECK_THAT(e.what(), Catch::Contains("no usable CUDA device"));
            CHECK_THAT(e.what(), Catch::Contains("allocating 16 bytes"));
        }
        CHECK_THROWS_AS(to_device(Tensor<float>(Shape{1, 1, 1, 1})), cuda_error);
    }
}
