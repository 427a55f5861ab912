#pragma once
// What data-parallel ranks exchange: the starting weights and the optimiser's state, broadcast
// from rank 0 so that every rank starts from the same model however it was built or restored;
// and after every backward the gradients, averaged so that each rank takes the step one process
// would take on the whole global batch. A CPU model's values travel through any Communicator; a
// CUDA model's stay in device memory and need one that reads it (NcclCommunicator).
#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../backend/cpu/cpu.hpp"
#include "../core/error.hpp"
#include "communicator.hpp"

namespace chroma::distributed {

namespace detail {

template <class Tensor>
constexpr bool in_host_memory = std::is_same_v<typename Tensor::backend, cpu>;

/// Throws usage_error unless `communicator` can exchange values where `Tensor`'s backend keeps them.
template <class Tensor>
void require_transport_for(const Communicator& communicator, std::string_view what) {
    if (!in_host_memory<Tensor> && !communicator.reads_device_memory())
        throw usage_error(std::string(what) + ": the model's values are in GPU memory, which " +
                          communicator.describe() + " cannot read; exchange them with NcclCommunicator "
                          "(distributed/nccl.hpp)");
}

/// The values of a tensor, where its backend keeps them (the transport was checked).
template <class Tensor>
std::span<typename Tensor::value_type> values_of(Tensor& tensor) {
    return {tensor.data(), static_cast<std::size_t>(tensor.size())};
}

}  // namespace detail

/// Copies rank 0's parameters and statistics (BatchNorm's running mean and variance) to every rank.
template <class Net>
void broadcast_parameters(Net& net, Communicator& communicator) {
    if (communicator.size() == 1) return;
    net.visit_parameters([&](std::string_view, auto& p) {
        detail::require_transport_for<std::remove_cvref_t<decltype(p.value)>>(communicator, "broadcast_parameters");
        communicator.broadcast(detail::values_of(p.value), 0);
    });
}

/// Copies rank 0's optimiser state (Adam's moments, the step count and the learning rate) to every
/// rank. Every rank's optimiser must hold state for the same parameters (attach() it to the same
/// model, with the same parameters frozen).
template <class Optimiser>
void broadcast_optimiser(Optimiser& optimiser, Communicator& communicator) {
    if (communicator.size() == 1) return;
    optimiser.visit_state([&](const auto&, auto& tensor) {
        detail::require_transport_for<std::remove_cvref_t<decltype(tensor)>>(communicator, "broadcast_optimiser");
        communicator.broadcast(detail::values_of(tensor), 0);
    });
    double scalars[2] = {static_cast<double>(optimiser.steps()), optimiser.learning_rate()};
    communicator.broadcast(std::span<double>(scalars), 0);
    optimiser.set_steps(static_cast<long long>(scalars[0]));
    optimiser.set_learning_rate(scalars[1]);
}

/// Averages the gradients over the ranks after a backward. Each rank's gradient is the mean over
/// its own images; weighted by its share of the global batch (local / global images) and summed,
/// it becomes the gradient of the mean loss over the whole global batch, which is what one
/// process would compute from it, so uneven shares (the last batch of an epoch) are exact too.
///
/// A CPU model's gradients travel in one flat buffer, kept between steps (the extra memory of a
/// rank: one copy of the trainable values), reduced in buckets of `bucket_values` floats as
/// PyTorch's DistributedDataParallel does with its 25 MB buckets: messages large enough to reach
/// the transport's bandwidth, small enough not to hold a second copy inside it. A CUDA model's
/// gradients are reduced where they lie, one weighted all-reduce per parameter (NCCL scales them
/// inside the reduction), with no copy.
class GradientAverager {
public:
    explicit GradientAverager(std::size_t bucket_values = std::size_t(1) << 22) : bucket_values_(bucket_values) {
        if (bucket_values_ == 0) throw usage_error("GradientAverager: the bucket must hold at least one value");
    }

    template <class Net>
    void operator()(Net& net, Communicator& communicator, double local_images, double global_images) {
        if (communicator.size() == 1) return;
        if (!(global_images > 0))
            throw usage_error("GradientAverager: the global batch has no images (" + std::to_string(global_images) + ")");
        const float weight = static_cast<float>(local_images / global_images);
        // Gradients in GPU memory are reduced in place; those in host memory are counted for the buffer.
        std::size_t total = 0;
        net.visit_parameters([&](std::string_view, auto& p) {
            using Gradient = std::remove_cvref_t<decltype(p.gradient())>;
            if (!p.trainable()) return;
            if constexpr (detail::in_host_memory<Gradient>) {
                total += static_cast<std::size_t>(p.value.size());
            } else {
                detail::require_transport_for<Gradient>(communicator, "GradientAverager");
                communicator.all_reduce_weighted_sum(detail::values_of(p.gradient()), weight);
            }
        });
        buffer_.resize(total);
        if (total == 0) return;
        visit_host_gradients(net, [&](std::span<float> gradient, std::size_t at) {  // zeros if this rank had no images
            std::transform(gradient.begin(), gradient.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(at),
                           [weight](float g) { return g * weight; });
        });
        for (std::size_t first = 0; first < total; first += bucket_values_)
            communicator.all_reduce_sum(std::span<float>(buffer_).subspan(first, std::min(bucket_values_, total - first)));
        visit_host_gradients(net, [&](std::span<float> gradient, std::size_t at) {
            std::copy_n(buffer_.begin() + static_cast<std::ptrdiff_t>(at), gradient.size(), gradient.begin());
        });
    }

    /// Values exchanged through the host buffer per step: the trainable values of the last CPU
    /// model averaged (0 for a model in device memory, whose gradients are reduced in place).
    std::size_t values() const { return buffer_.size(); }

private:
    // Calls f(gradient, its offset in the flat buffer) for each trainable gradient in host memory.
    template <class Net, class F>
    static void visit_host_gradients(Net& net, F&& f) {
        std::size_t at = 0;
        net.visit_parameters([&](std::string_view, auto& p) {
            if constexpr (detail::in_host_memory<std::remove_cvref_t<decltype(p.gradient())>>) {
                if (!p.trainable()) return;
                const auto gradient = detail::values_of(p.gradient());
                f(gradient, at);
                at += gradient.size();
            }
        });
    }

    std::size_t bucket_values_;
    std::vector<float> buffer_;
};

}  // namespace chroma::distributed
