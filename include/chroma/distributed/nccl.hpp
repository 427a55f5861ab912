#pragma once
// A Communicator over NCCL, for ranks that each drive one GPU (the CUDA backend). Optional, and not
// part of chroma.hpp: include it where <nccl.h> and the CUDA runtime are (the CMake target
// chroma::nccl, defined when CHROMA_NCCL is on, carries both), in host code built by the C++
// compiler or nvcc.
//
// NCCL does not start processes or find its partners: the ranks are started by mpirun (or any
// launcher) and another Communicator, usually an MpiCommunicator, carries rank 0's NCCL id to the
// others once. From then on every collective runs on this rank's GPU, on its own stream:
//
//   distributed::MpiCommunicator mpi(&argc, &argv);
//   distributed::NcclCommunicator ranks(mpi);   // GPU: the rank's index among the host's GPUs
//
// Values may be in device memory (gradients of a CUDA model: reduced in place, no copy) or in
// host memory (the trainer's per-step loss and image count: staged through a device buffer), so
// the trainer's host-side exchanges work unchanged.
//
// Every collective is waited on with a deadline, as MpiCommunicator's: a partner that died or hung
// aborts the NCCL communicator and throws nccl_error naming the collective, rather than hang.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#include "communicator.hpp"

namespace chroma::distributed {

/// A CUDA or NCCL call failed, or a collective timed out (the message says which).
struct nccl_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct NcclOptions {
    int device = -1;                    // the GPU; -1: this rank's index modulo the host's GPU count
    std::chrono::seconds timeout{600};  // how long a collective may wait for the other ranks
};

namespace detail {

inline void check_cuda(cudaError_t status, const char* call) {
    if (status != cudaSuccess)
        throw nccl_error(std::string(call) + " failed: " + cudaGetErrorString(status));
}

inline void check_nccl(ncclResult_t status, const char* call) {
    if (status != ncclSuccess && status != ncclInProgress)
        throw nccl_error(std::string(call) + " failed: " + ncclGetErrorString(status));
}

template <class T>
constexpr ncclDataType_t nccl_type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "NCCL collectives here take float or double");
    return std::is_same_v<T, float> ? ncclFloat32 : ncclFloat64;
}

}  // namespace detail

/// The number of CUDA devices this process sees (0 without a driver or a GPU).
inline int cuda_device_count() noexcept {
    int devices = 0;
    return cudaGetDeviceCount(&devices) == cudaSuccess ? devices : 0;
}

class NcclCommunicator final : public Communicator {
public:
    /// Joins the NCCL group of `bootstrap`'s ranks (the same ranks, numbered alike) on one GPU each.
    explicit NcclCommunicator(Communicator& bootstrap, NcclOptions options = {})
        : rank_(bootstrap.rank()), size_(bootstrap.size()), options_(options) {
        const int devices = cuda_device_count();
        if (devices == 0) throw nccl_error("NcclCommunicator: no CUDA device (rank " + std::to_string(rank_) + ")");
        device_ = options_.device >= 0 ? options_.device : rank_ % devices;
        if (device_ >= devices)
            throw nccl_error("NcclCommunicator: GPU " + std::to_string(device_) + " asked for, but this host has " +
                             std::to_string(devices));
        detail::check_cuda(cudaSetDevice(device_), "cudaSetDevice");
        // Rank 0's id travels as 32 floats (128 bytes): the bootstrap copies the bits unchanged.
        ncclUniqueId id{};
        if (rank_ == 0) detail::check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
        static_assert(sizeof(ncclUniqueId) % sizeof(float) == 0, "the NCCL id travels as whole floats");
        float words[sizeof(ncclUniqueId) / sizeof(float)];
        std::memcpy(words, &id, sizeof id);
        bootstrap.broadcast(std::span<float>(words), 0);
        std::memcpy(&id, words, sizeof id);
        detail::check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
        detail::check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    }
    ~NcclCommunicator() override {
        if (comm_) ncclCommDestroy(comm_);
        if (stream_) cudaStreamDestroy(stream_);
        if (scratch_) cudaFree(scratch_);
    }
    NcclCommunicator(const NcclCommunicator&) = delete;
    NcclCommunicator& operator=(const NcclCommunicator&) = delete;

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    int device() const noexcept { return device_; }

    void all_reduce_sum(std::span<float> values) override { collective(values, -1); }
    void all_reduce_sum(std::span<double> values) override { collective(values, -1); }
    /// NCCL multiplies each rank's values by its weight inside the reduction (a pre-multiplied
    /// sum), so a device gradient is averaged where it lies, with no kernel of Chroma's.
    void all_reduce_weighted_sum(std::span<float> values, float weight) override {
        ncclRedOp_t weighted{};
        detail::check_nccl(ncclRedOpCreatePreMulSum(&weighted, &weight, ncclFloat32, ncclScalarHostImmediate, comm_),
                           "ncclRedOpCreatePreMulSum");
        try {
            collective(values, -1, weighted);
        } catch (...) {
            if (comm_) ncclRedOpDestroy(weighted, comm_);
            throw;
        }
        detail::check_nccl(ncclRedOpDestroy(weighted, comm_), "ncclRedOpDestroy");
    }
    bool reads_device_memory() const override { return true; }
    void broadcast(std::span<float> values, int root) override { collective(values, root); }
    void broadcast(std::span<double> values, int root) override { collective(values, root); }
    void barrier() override {
        float one = 1.0f;
        collective(std::span<float>(&one, 1), -1);
    }

    std::string describe() const override {
        return "NCCL, rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " on GPU " +
               std::to_string(device_);
    }

    /// Whether `pointer` is memory a GPU kernel can read directly (device or managed).
    static bool on_device(const void* pointer) {
        cudaPointerAttributes attributes{};
        if (cudaPointerGetAttributes(&attributes, pointer) != cudaSuccess) {
            cudaGetLastError();  // unregistered host memory on old runtimes: clear the error
            return false;
        }
        return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
    }

private:
    // root < 0: an all-reduce with `reduction`; otherwise a broadcast from root.
    template <class T>
    void collective(std::span<T> values, int root, ncclRedOp_t reduction = ncclSum) {
        if (values.empty()) return;
        const char* what = root < 0 ? "an all-reduce" : "a broadcast";
        const std::size_t bytes = values.size_bytes();
        T* data = values.data();
        const bool staged = !on_device(data);
        if (staged) {
            reserve_scratch(bytes);
            detail::check_cuda(cudaMemcpyAsync(scratch_, data, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
            data = static_cast<T*>(scratch_);
        }
        if (root < 0)
            detail::check_nccl(ncclAllReduce(data, data, values.size(), detail::nccl_type<T>(), reduction, comm_, stream_),
                               "ncclAllReduce");
        else
            detail::check_nccl(ncclBroadcast(data, data, values.size(), detail::nccl_type<T>(), root, comm_, stream_),
                               "ncclBroadcast");
        if (staged)
            detail::check_cuda(cudaMemcpyAsync(values.data(), scratch_, bytes, cudaMemcpyDeviceToHost, stream_),
                               "cudaMemcpyAsync");
        wait(what, values.size());
    }

    // Polls the stream until the collective is done, the communicator reports an error, or the
    // deadline passes; then aborts the communicator so that no rank is left inside NCCL.
    void wait(const char* what, std::size_t count) {
        const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
        for (;;) {
            const cudaError_t status = cudaStreamQuery(stream_);
            if (status == cudaSuccess) return;
            if (status != cudaErrorNotReady) detail::check_cuda(status, "cudaStreamQuery");
            ncclResult_t async = ncclSuccess;
            detail::check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
            if (async != ncclSuccess && async != ncclInProgress) {
                abort_communicator();
                throw nccl_error(describe() + ": " + what + " of " + std::to_string(count) +
                                 " values failed: " + ncclGetErrorString(async));
            }
            if (std::chrono::steady_clock::now() > deadline) {
                abort_communicator();
                throw nccl_error(describe() + ": waited " + std::to_string(options_.timeout.count()) +
                                 " s for the other ranks in " + what + " of " + std::to_string(count) +
                                 " values; one of them has probably died or hung");
            }
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }

    void abort_communicator() noexcept {
        if (comm_) ncclCommAbort(comm_);
        comm_ = nullptr;
    }

    void reserve_scratch(std::size_t bytes) {
        if (bytes <= scratch_bytes_) return;
        if (scratch_) detail::check_cuda(cudaFree(scratch_), "cudaFree");
        scratch_ = nullptr;
        scratch_bytes_ = 0;
        detail::check_cuda(cudaMalloc(&scratch_, bytes), "cudaMalloc");
        scratch_bytes_ = bytes;
    }

    int rank_, size_;
    NcclOptions options_;
    int device_ = 0;
    ncclComm_t comm_ = nullptr;
    cudaStream_t stream_ = nullptr;
    void* scratch_ = nullptr;
    std::size_t scratch_bytes_ = 0;
};

}  // namespace chroma::distributed
