// Where the gradient exchange puts each model's values, checked in one process: a CPU model's
// gradients go through the flat host buffer and plain sums; a model whose values are in device
// memory (a stand-in backend here, so no GPU is needed) has each gradient reduced in place by the
// transport's weighted sum, and a transport that reads host memory only is refused by name.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/distributed/synchronise.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace chroma;

namespace {

/// Device memory for the test: the CPU may not dereference it, as with CUDA's.
struct stand_in_device {
    template <class T>
    using buffer = std::vector<T>;
    static constexpr std::string_view name = "stand-in device";
    static constexpr bool host_accessible = false;
    static void copy(const float* from, float* to, index_t count) { std::copy_n(from, count, to); }
};

/// Two trainable parameters and a statistic on backend B, with gradients 1, 2, 3, ...
template <class B>
struct TwoParameters {
    Parameter<float, B> weight = Parameter<float, B>::vector(3, parameter_role::weight);
    Parameter<float, B> bias = Parameter<float, B>::vector(2, parameter_role::bias);
    Parameter<float, B> mean = Parameter<float, B>::vector(2, parameter_role::statistic);
    TwoParameters() {
        float next = 1;
        for (auto* p : {&weight, &bias})
            for (index_t i = 0; i < p->value.size(); ++i) p->gradient().data()[i] = next++;
    }
    template <class V>
    void visit_parameters(V&& visit) {
        visit("weight", weight);
        visit("bias", bias);
        visit("running_mean", mean);
    }
};

/// A second rank that always holds what this one holds: every sum doubles. Records the calls.
class MirrorRank final : public distributed::Communicator {
public:
    explicit MirrorRank(bool device) : device_(device) {}
    int rank() const override { return 0; }
    int size() const override { return 2; }
    void all_reduce_sum(std::span<float> values) override {
        sums.push_back(values.size());
        for (float& v : values) v *= 2;
    }
    void all_reduce_sum(std::span<double> values) override {
        for (double& v : values) v *= 2;
    }
    void all_reduce_weighted_sum(std::span<float> values, float weight) override {
        if (!device_) return Communicator::all_reduce_weighted_sum(values, weight);
        weighted.push_back({values.size(), weight});
        for (float& v : values) v *= 2 * weight;
    }
    void broadcast(std::span<float>, int) override {}
    void broadcast(std::span<double>, int) override {}
    void barrier() override {}
    bool reads_device_memory() const override { return device_; }
    std::string describe() const override { return device_ ? "a device transport" : "a host transport"; }

    std::vector<std::size_t> sums;
    std::vector<std::pair<std::size_t, float>> weighted;

private:
    bool device_;
};

}  // namespace

TEST_CASE("a CPU model's gradients are weighted into one host buffer and summed in buckets") {
    TwoParameters<cpu> net;
    MirrorRank ranks(false);
    distributed::GradientAverager average(4);  // buckets of 4: the 5 values go as 4 + 1
    average(net, ranks, 1.0, 4.0);             // this rank has 1 image of 4: weight 1/4, doubled by the mirror
    CHECK(ranks.sums == std::vector<std::size_t>{4, 1});
    CHECK(average.values() == 5);
    for (index_t i = 0; i < 3; ++i) CHECK(net.weight.gradient()[i] == Approx(0.5 * (i + 1)));
    for (index_t i = 0; i < 2; ++i) CHECK(net.bias.gradient()[i] == Approx(0.5 * (i + 4)));
    CHECK_FALSE(net.mean.has_gradient());  // statistics are not exchanged
}

TEST_CASE("a device model's gradients are reduced in place, each with its rank's weight") {
    TwoParameters<stand_in_device> net;
    MirrorRank ranks(true);
    distributed::GradientAverager average;
    average(net, ranks, 3.0, 4.0);
    CHECK(ranks.sums.empty());  // nothing through the host buffer
    REQUIRE(ranks.weighted.size() == 2);
    CHECK(ranks.weighted[0] == std::pair<std::size_t, float>{3, 0.75f});
    CHECK(ranks.weighted[1] == std::pair<std::size_t, float>{2, 0.75f});
    CHECK(average.values() == 0);
    const auto& g = net.weight.grad;
    std::vector<float> weight(g.data(), g.data() + g.size());
    CHECK(weight == std::vector<float>{1.5f, 3.0f, 4.5f});
}

TEST_CASE("a device model with a transport of host memory is refused, naming the transport and NCCL") {
    TwoParameters<stand_in_device> net;
    MirrorRank host_only(false);
    distributed::GradientAverager average;
    CHECK_THROWS_WITH(average(net, host_only, 1.0, 2.0),
                      Catch::Contains("GradientAverager") && Catch::Contains("a host transport") &&
                          Catch::Contains("NcclCommunicator"));
    CHECK_THROWS_WITH(distributed::broadcast_parameters(net, host_only),
                      Catch::Contains("broadcast_parameters") && Catch::Contains("GPU memory"));
}

TEST_CASE("the weighted sum of a host transport scales each rank's values before the sum") {
    MirrorRank ranks(false);
    std::vector<float> values{1, 2, 4};
    ranks.all_reduce_weighted_sum(values, 0.25f);
    CHECK(values == std::vector<float>{0.5f, 1.0f, 2.0f});
}
