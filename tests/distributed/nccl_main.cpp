// The NCCL tests' main: MPI starts the ranks and carries NCCL's id, then every rank runs every
// test on its own GPU. With fewer GPUs than ranks it prints why and exits 77 (skipped).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <chroma/distributed/mpi.hpp>
#include <chroma/distributed/nccl.hpp>

#include <cstdio>
#include <memory>

#include "nccl_ranks.hpp"

namespace {
chroma::distributed::NcclCommunicator* the_ranks = nullptr;
}

chroma::distributed::NcclCommunicator& nccl_ranks() { return *the_ranks; }

int main(int argc, char** argv) {
    chroma::distributed::MpiCommunicator mpi(&argc, &argv, {.timeout = std::chrono::seconds(60)});
    const int devices = chroma::distributed::cuda_device_count();
    if (devices < mpi.size()) {
        if (mpi.is_root())
            std::printf("%d CUDA device(s) for %d rank(s): skipping the NCCL tests (NCCL needs a GPU per rank)\n", devices,
                        mpi.size());
        return 77;
    }
    chroma::distributed::NcclCommunicator ranks(mpi, {.timeout = std::chrono::seconds(60)});
    the_ranks = &ranks;
    const int failed = Catch::Session().run(argc, argv);
    double failures[1] = {static_cast<double>(failed)};
    mpi.all_reduce_sum(std::span<double>(failures));
    if (mpi.is_root()) std::printf("%d NCCL ranks: %g failed assertions in all\n", mpi.size(), failures[0]);
    return failures[0] > 0 ? 1 : 0;
}
