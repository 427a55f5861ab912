#pragma once
// A Communicator over MPI: Open MPI from Debian (libopenmpi-dev, openmpi-bin), or any MPI 3
// library. Optional, and not part of chroma.hpp: include it where <mpi.h> is available (the CMake
// target chroma::mpi, defined when CHROMA_MPI is on, carries the include path and libraries), and
// start the program with `mpirun -np N`.
//
// Collectives are non-blocking calls waited on with a deadline: a partner rank that died or hung
// ends the job with a message naming the collective and the wait, where a blocking call would
// hang forever. mpirun itself also ends the job when a rank exits with an error.
#include <mpi.h>

#include <chrono>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#include "communicator.hpp"

namespace chroma::distributed {

/// An MPI call failed (the message names the call and MPI's reason).
struct mpi_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct MpiOptions {
    // How long a collective may wait for the other ranks. Rank 0 writes checkpoints and pictures
    // while the others wait at the next collective, so this is minutes, not milliseconds.
    std::chrono::seconds timeout{600};
};

class MpiCommunicator final : public Communicator {
public:
    /// Initialises MPI (unless the program already has), the calling thread being the only one
    /// that calls MPI, over MPI_COMM_WORLD. MPI is finalised at destruction if this initialised it.
    MpiCommunicator(int* argc, char*** argv, MpiOptions options = {}) : options_(options) {
        int initialised = 0;
        check(MPI_Initialized(&initialised), "MPI_Initialized");
        if (!initialised) {
            int provided = 0;
            check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_mpi_ = true;
        }
        check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
        check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    }
    MpiCommunicator(const MpiCommunicator&) = delete;
    MpiCommunicator& operator=(const MpiCommunicator&) = delete;
    ~MpiCommunicator() override {
        MPI_Comm_free(&comm_);
        if (owns_mpi_) MPI_Finalize();
    }

    int rank() const override { return rank_; }
    int size() const override { return size_; }

    void all_reduce_sum(std::span<float> values) override { reduce(values.data(), values.size(), MPI_FLOAT); }
    void all_reduce_sum(std::span<double> values) override { reduce(values.data(), values.size(), MPI_DOUBLE); }
    void broadcast(std::span<float> values, int root) override { cast(values.data(), values.size(), MPI_FLOAT, root); }
    void broadcast(std::span<double> values, int root) override { cast(values.data(), values.size(), MPI_DOUBLE, root); }
    void barrier() override {
        MPI_Request request;
        check(MPI_Ibarrier(comm_, &request), "MPI_Ibarrier");
        wait(request, "a barrier");
    }

    std::string describe() const override {
        return "MPI, rank " + std::to_string(rank_) + " of " + std::to_string(size_);
    }

private:
    // MPI counts are ints: larger spans go in pieces.
    static constexpr std::size_t piece = std::size_t(1) << 30;

    template <class T>
    void reduce(T* values, std::size_t count, MPI_Datatype type) {
        for (std::size_t first = 0; first < count; first += piece) {
            MPI_Request request;
            check(MPI_Iallreduce(MPI_IN_PLACE, values + first, static_cast<int>(std::min(piece, count - first)), type,
                                 MPI_SUM, comm_, &request),
                  "MPI_Iallreduce");
            wait(request, "an all-reduce of " + std::to_string(count) + " values");
        }
    }
    template <class T>
    void cast(T* values, std::size_t count, MPI_Datatype type, int root) {
        for (std::size_t first = 0; first < count; first += piece) {
            MPI_Request request;
            check(MPI_Ibcast(values + first, static_cast<int>(std::min(piece, count - first)), type, root, comm_,
                             &request),
                  "MPI_Ibcast");
            wait(request, "a broadcast of " + std::to_string(count) + " values from rank " + std::to_string(root));
        }
    }

    // Polls the request: spinning briefly (most collectives finish in microseconds), then sleeping
    // in short steps, so a rank waiting for a slow partner does not take a core from it.
    void wait(MPI_Request& request, const std::string& what) {
        const auto started = std::chrono::steady_clock::now();
        const auto deadline = started + options_.timeout;
        for (long polls = 0;; ++polls) {
            int done = 0;
            check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
            if (done) return;
            if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(polls > 20000 ? 1000 : 50));
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr,
                             "chroma: %s: waited %lld s for the other ranks in %s; one of them has probably died or "
                             "hung (its own messages say why). Ending the job.\n",
                             describe().c_str(), static_cast<long long>(options_.timeout.count()), what.c_str());
                MPI_Abort(MPI_COMM_WORLD, 3);
            }
        }
    }

    void check(int code, const char* call) const {
        if (code == MPI_SUCCESS) return;
        char reason[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(code, reason, &length);
        throw mpi_error(std::string(call) + " failed on rank " + std::to_string(rank_) + ": " +
                        std::string(reason, static_cast<std::size_t>(length)));
    }

    MpiOptions options_;
    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    bool owns_mpi_ = false;
};

}  // namespace chroma::distributed
