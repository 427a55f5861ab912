#pragma once
// A group of processes ("ranks") training one model together, data-parallel: each rank computes
// the gradient of its share of every global batch and the ranks sum them, so all hold the same
// weights after every step. Communicator is the transport's interface (MPI in mpi.hpp, or one
// process); the trainers take a pointer to it, so they are not templates over the transport.
//
// Every collective is called by every rank in the same order with the same sizes; a rank whose
// partners stop answering ends the job with a message (see the transports) rather than hang.
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>

namespace chroma::distributed {

class Communicator {
public:
    virtual ~Communicator() = default;

    virtual int rank() const = 0;
    virtual int size() const = 0;
    bool is_root() const { return rank() == 0; }

    /// Sums `values` element-wise over the ranks, in place; every rank gets the same sums.
    virtual void all_reduce_sum(std::span<float> values) = 0;
    virtual void all_reduce_sum(std::span<double> values) = 0;
    /// Sums `weight` times each rank's `values` (every rank its own weight), in place: the
    /// average of gradients over uneven shares. Scales on the host, then sums; a transport that
    /// can scale inside the reduction (NCCL) does so there, in device memory too.
    virtual void all_reduce_weighted_sum(std::span<float> values, float weight) {
        for (float& v : values) v *= weight;
        all_reduce_sum(values);
    }
    /// Copies the root's `values` into every other rank's.
    virtual void broadcast(std::span<float> values, int root) = 0;
    virtual void broadcast(std::span<double> values, int root) = 0;
    /// Waits until every rank has reached it.
    virtual void barrier() = 0;

    /// Whether the collectives take values in GPU memory (a CUDA model's parameters and
    /// gradients). MPI and one process take host memory only; NCCL takes both.
    virtual bool reads_device_memory() const { return false; }

    /// For messages: "MPI, rank 1 of 2".
    virtual std::string describe() const = 0;
};

/// One process alone: every collective leaves the values as they are.
class SingleProcess final : public Communicator {
public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    void all_reduce_sum(std::span<float>) override {}
    void all_reduce_sum(std::span<double>) override {}
    void broadcast(std::span<float>, int) override {}
    void broadcast(std::span<double>, int) override {}
    void barrier() override {}
    std::string describe() const override { return "one process"; }
};

/// Whether this process was started by an MPI launcher (mpirun, srun) with more than one rank:
/// the programs use MPI then, and run alone otherwise, without initialising MPI at all.
inline bool launched_by_mpi() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
        if (const char* value = std::getenv(name); value != nullptr && std::atoi(value) > 1) return true;
    return false;
}

}  // namespace chroma::distributed
