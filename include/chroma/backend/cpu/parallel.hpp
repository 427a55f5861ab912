#pragma once
// A parallel loop over [0, count) on the CPU backend's threads; runs serially for small work so
// that thread start-up never costs more than it saves.
#include "../../core/shape.hpp"

namespace chroma::kernels::cpu_detail {

/// Below this many elements, element-wise loops stay on one thread.
inline constexpr index_t parallel_grain = 32768;

template <class F>
void parallel_for(index_t count, index_t work_per_item, F&& body) {
    [[maybe_unused]] const bool worth_it = count > 1 && count * work_per_item >= parallel_grain;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (worth_it)
#endif
    for (index_t i = 0; i < count; ++i) body(i);
}

}  // namespace chroma::kernels::cpu_detail
