#pragma once
// Whose batch training-mode BatchNorm takes its statistics from. By default each process
// normalises with its own batch, as PyTorch's DistributedDataParallel does. Inside a
// SynchronisedBatchNorm scope, every BatchNorm2d (CPU backend) on this thread normalises with
// the mean and variance of the whole global batch, summed over the communicator's ranks (as
// torch.nn.SyncBatchNorm), and its backward sums the matching terms: the ranks then compute
// what one process would compute on the whole batch, which matters when each rank's share is
// small. Every rank must run the same layers in the same order, each with images.
// train::Trainer opens the scope around its steps when TrainerOptions::synchronise_batch_norm.
#include "../distributed/communicator.hpp"

namespace chroma {

namespace detail {
inline thread_local distributed::Communicator* batch_norm_group = nullptr;
}  // namespace detail

/// The ranks whose batches BatchNorm layers on this thread share, or nullptr (their own batch).
inline distributed::Communicator* batch_norm_group() noexcept { return detail::batch_norm_group; }

/// For its lifetime, BatchNorm layers on this thread normalise over the ranks of `ranks`.
class SynchronisedBatchNorm {
public:
    explicit SynchronisedBatchNorm(distributed::Communicator& ranks) noexcept : previous_(detail::batch_norm_group) {
        detail::batch_norm_group = &ranks;
    }
    ~SynchronisedBatchNorm() { detail::batch_norm_group = previous_; }
    SynchronisedBatchNorm(const SynchronisedBatchNorm&) = delete;
    SynchronisedBatchNorm& operator=(const SynchronisedBatchNorm&) = delete;

private:
    distributed::Communicator* previous_;
};

}  // namespace chroma
