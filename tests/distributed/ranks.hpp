#pragma once
// The communicator of the distributed tests' job (MPI, started in mpi_main.cpp).
#include <chroma/distributed/communicator.hpp>

chroma::distributed::Communicator& test_ranks();
