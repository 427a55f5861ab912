// The distributed tests' main: MPI is started before Catch2 runs and ended after it, every rank
// runs every test (they are collective), and the job fails when any rank's tests failed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <chroma/distributed/mpi.hpp>

#include <cstdio>
#include <cstdlib>

#include "ranks.hpp"

namespace {
chroma::distributed::Communicator* the_ranks = nullptr;
}

chroma::distributed::Communicator& test_ranks() { return *the_ranks; }

int main(int argc, char** argv) {
    // A partner that fails a REQUIRE leaves its collectives unmatched: end the job in a minute
    // (CHROMA_TEST_COLLECTIVE_TIMEOUT seconds, for the test of the timeout itself).
    const char* timeout = std::getenv("CHROMA_TEST_COLLECTIVE_TIMEOUT");
    chroma::distributed::MpiCommunicator ranks(&argc, &argv,
                                               {.timeout = std::chrono::seconds(timeout ? std::atoi(timeout) : 60)});
    the_ranks = &ranks;
    const int failed = Catch::Session().run(argc, argv);
    double failures[1] = {static_cast<double>(failed)};
    ranks.all_reduce_sum(std::span<double>(failures));
    if (ranks.is_root()) std::printf("%d ranks: %g failed assertions in all\n", ranks.size(), failures[0]);
    return failures[0] > 0 ? 1 : 0;
}
