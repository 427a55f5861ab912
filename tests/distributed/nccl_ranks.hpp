#pragma once
// The NCCL communicator of the NCCL tests' job (started in nccl_main.cpp).
#include <chroma/distributed/nccl.hpp>

chroma::distributed::NcclCommunicator& nccl_ranks();
