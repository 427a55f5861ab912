#pragma once
// What data-parallel ranks exchange: the starting weights and the optimiser's state, broadcast
// from rank 0 so that every rank starts from the same model however it was built or restored;
// and after every backward the gradients, averaged so that each rank takes the step one process
// would take on the whole global batch.
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
std::span<typename Tensor::value_type> values_of(Tensor& tensor) {
    static_assert(std::is_same_v<typename Tensor::backend, cpu>,
                  "distributed training exchanges host memory: the model must be on the CPU backend "
                  "(a CUDA model needs a communicator for device memory)");
    return {tensor.data(), static_cast<std::size_t>(tensor.size())};
}

}  // namespace detail

/// Copies rank 0's parameters and statistics (BatchNorm's running mean and variance) to every rank.
template <class Net>
void broadcast_parameters(Net& net, Communicator& communicator) {
    if (communicator.size() == 1) return;
    net.visit_parameters(
        [&](std::string_view, auto& p) { communicator.broadcast(detail::values_of(p.value), 0); });
}

/// Copies rank 0's optimiser state (Adam's moments, the step count and the learning rate) to every
/// rank. Every rank's optimiser must hold state for the same parameters (attach() it to the same
/// model, with the same parameters frozen).
template <class Optimiser>
void broadcast_optimiser(Optimiser& optimiser, Communicator& communicator) {
    if (communicator.size() == 1) return;
    optimiser.visit_state([&](const auto&, auto& tensor) { communicator.broadcast(detail::values_of(tensor), 0); });
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
/// The gradients travel in one flat buffer, kept between steps (the extra memory of a rank: one
/// copy of the trainable values), reduced in buckets of `bucket_values` floats as PyTorch's
/// DistributedDataParallel does with its 25 MB buckets: messages large enough to reach the
/// transport's bandwidth, small enough not to hold a second copy inside it.
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
        std::size_t total = 0;
        net.visit_parameters([&](std::string_view, auto& p) {
            if (p.trainable()) total += static_cast<std::size_t>(p.value.size());
        });
        buffer_.resize(total);
        std::size_t at = 0;
        net.visit_parameters([&](std::string_view, auto& p) {
            if (!p.trainable()) return;
            const auto gradient = detail::values_of(p.gradient());  // zeros if this rank had no images
            std::transform(gradient.begin(), gradient.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(at),
                           [weight](float g) { return g * weight; });
            at += gradient.size();
        });
        for (std::size_t first = 0; first < total; first += bucket_values_)
            communicator.all_reduce_sum(std::span<float>(buffer_).subspan(first, std::min(bucket_values_, total - first)));
        at = 0;
        net.visit_parameters([&](std::string_view, auto& p) {
            if (!p.trainable()) return;
            const auto gradient = detail::values_of(p.gradient());
            std::copy_n(buffer_.begin() + static_cast<std::ptrdiff_t>(at), gradient.size(), gradient.begin());
            at += gradient.size();
        });
    }

    /// Values exchanged per step (the trainable values of the last model averaged).
    std::size_t values() const { return buffer_.size(); }

private:
    std::size_t bucket_values_;
    std::vector<float> buffer_;
};

}  // namespace chroma::distributed
