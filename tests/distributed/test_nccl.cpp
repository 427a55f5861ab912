// The NCCL communicator, run as `mpirun -np N test_nccl` with a GPU per rank: sums and broadcasts
// of values in device memory (in place) and in host memory (staged), and the gradient averaging
// the trainer does over it. With one rank the collectives must leave the values as they are.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/distributed/synchronise.hpp>
#include <chroma/train/regression_task.hpp>

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "nccl_ranks.hpp"
#include "support/synthetic_photos.hpp"

using namespace chroma;

namespace {

/// Values rank r contributes: (r + 1) * (i + 0.5).
template <class T>
std::vector<T> contribution(int rank, std::size_t count) {
    std::vector<T> values(count);
    for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<T>((rank + 1) * (i + 0.5));
    return values;
}

/// The sum of every rank's contribution.
template <class T>
T expected_sum(int ranks, std::size_t i) {
    return static_cast<T>(ranks * (ranks + 1) / 2 * (i + 0.5));
}

/// A device copy of `values`, freed at scope exit.
template <class T>
struct DeviceCopy {
    explicit DeviceCopy(const std::vector<T>& values) : count(values.size()) {
        REQUIRE(cudaMalloc(&data, count * sizeof(T)) == cudaSuccess);
        REQUIRE(cudaMemcpy(data, values.data(), count * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
    }
    ~DeviceCopy() { cudaFree(data); }
    std::vector<T> to_host() const {
        std::vector<T> out(count);
        REQUIRE(cudaMemcpy(out.data(), data, count * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
        return out;
    }
    T* data = nullptr;
    std::size_t count;
};

}  // namespace

TEST_CASE("NCCL sums values over the ranks, in host memory and in device memory") {
    auto& ranks = nccl_ranks();
    CHECK_THAT(ranks.describe(), Catch::Contains("NCCL") && Catch::Contains("GPU"));
    for (const std::size_t count : {std::size_t(1), std::size_t(1000), std::size_t(1) << 20}) {
        INFO(count << " values");
        auto host = contribution<float>(ranks.rank(), count);
        CHECK_FALSE(distributed::NcclCommunicator::on_device(host.data()));
        ranks.all_reduce_sum(std::span<float>(host));
        auto doubles = contribution<double>(ranks.rank(), count);
        ranks.all_reduce_sum(std::span<double>(doubles));
        DeviceCopy<float> device(contribution<float>(ranks.rank(), count));
        CHECK(distributed::NcclCommunicator::on_device(device.data));
        ranks.all_reduce_sum(std::span<float>(device.data, count));
        const auto from_device = device.to_host();
        for (std::size_t i = 0; i < count; ++i) {
            REQUIRE(host[i] == Approx(expected_sum<float>(ranks.size(), i)));
            REQUIRE(doubles[i] == expected_sum<double>(ranks.size(), i));
            REQUIRE(from_device[i] == Approx(expected_sum<float>(ranks.size(), i)));
        }
    }
    ranks.barrier();
}

TEST_CASE("NCCL's weighted sum scales each rank's values by its own weight, in device and host memory") {
    auto& ranks = nccl_ranks();
    CHECK(ranks.reads_device_memory());
    const std::size_t count = 1000;
    // Rank r weighs its values by 1 / (r + 1): every rank then contributes i + 0.5.
    const float weight = 1.0f / static_cast<float>(ranks.rank() + 1);
    DeviceCopy<float> device(contribution<float>(ranks.rank(), count));
    ranks.all_reduce_weighted_sum(std::span<float>(device.data, count), weight);
    auto host = contribution<float>(ranks.rank(), count);
    ranks.all_reduce_weighted_sum(std::span<float>(host), weight);
    const auto from_device = device.to_host();
    for (std::size_t i = 0; i < count; ++i) {
        const double expected = static_cast<double>(ranks.size()) * (static_cast<double>(i) + 0.5);
        REQUIRE(from_device[i] == Approx(expected));
        REQUIRE(host[i] == Approx(expected));
    }
}

TEST_CASE("NCCL broadcast gives every rank the root's values") {
    auto& ranks = nccl_ranks();
    for (const int root : {0, ranks.size() - 1}) {
        auto host = contribution<double>(ranks.rank(), 500);
        ranks.broadcast(std::span<double>(host), root);
        DeviceCopy<float> device(contribution<float>(ranks.rank(), 500));
        ranks.broadcast(std::span<float>(device.data, 500), root);
        const auto from_device = device.to_host();
        for (std::size_t i = 0; i < 500; ++i) {
            REQUIRE(host[i] == contribution<double>(root, 500)[i]);
            REQUIRE(from_device[i] == contribution<float>(root, 500)[i]);
        }
    }
}

TEST_CASE("gradients averaged over NCCL equal the gradient of the whole batch") {
    using Net = Sequential<Conv2d<1, 8, 3, 1, 1>, ReLU, Conv2d<8, 2, 1>>;
    auto& ranks = nccl_ranks();
    const train::Batch whole = test_support::synthetic_photos(9, 2 * ranks.size() + 1, 12);
    const index_t n = whole.size(), first = ranks.rank() * n / ranks.size(), last = (ranks.rank() + 1) * n / ranks.size();
    const Shape l = whole.lightness.shape();
    train::Batch share{Tensor<float>(Shape{.n = last - first, .c = 1, .h = l.h, .w = l.w}),
                       Tensor<float>(Shape{.n = last - first, .c = 2, .h = l.h, .w = l.w})};
    std::copy_n(whole.lightness.data() + first * l.h * l.w, (last - first) * l.h * l.w, share.lightness.data());
    std::copy_n(whole.ab.data() + first * 2 * l.h * l.w, (last - first) * 2 * l.h * l.w, share.ab.data());
    train::RegressionTask<> task;
    auto gradient_of = [&](Model<Net>& model, const train::Batch& batch) {
        Tensor<float> grad;
        task.loss(model.forward(task.input(batch)), batch, grad);
        model.zero_grad();
        model.backward(grad);
    };
    Model<Net> reference(3), mine(3);
    gradient_of(reference, whole);
    gradient_of(mine, share);
    distributed::GradientAverager average(100);  // several messages per step
    average(mine, ranks, static_cast<double>(share.size()), static_cast<double>(n));
    for (const auto& name : reference.parameter_names()) {
        const auto& want = reference.parameter(name).gradient();
        const auto& got = mine.parameter(name).gradient();
        double largest = 0;
        for (index_t i = 0; i < want.size(); ++i) largest = std::max(largest, std::abs(double(want[i])));
        for (index_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-5 * largest));
    }
}
