#pragma once
// The CPU backend policy: 64-byte aligned host memory, products on Chroma's packed GEMM
// (packed_gemm.hpp) and the rest on Eigen, both cores through OpenMP (one thread count for all).
#include <algorithm>
#include <thread>

#include "../../core/aligned_buffer.hpp"
#include "../../core/backend.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace chroma {

struct cpu {
    template <class T>
    using buffer = aligned_buffer<T>;
    static constexpr std::string_view name = "cpu";
    static constexpr bool host_accessible = true;

    /// Threads used by Chroma's loops and Eigen's GEMM. Defaults to every hardware thread.
    static int threads() {
#if defined(_OPENMP)
        return omp_get_max_threads();
#else
        return 1;
#endif
    }
    /// Sets the thread count (at least 1). Without OpenMP the CPU backend is single-threaded.
    static void set_threads(int count) {
#if defined(_OPENMP)
        omp_set_num_threads(std::max(1, count));
#else
        (void)count;
#endif
    }
};

static_assert(Backend<cpu>);

}  // namespace chroma
