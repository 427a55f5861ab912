#pragma once
// A parallel sum over [0, count) on the CPU whose result does not depend on the thread count:
// the range is cut into fixed chunks, each summed in order, and the chunk sums are added in
// order. Losses and metrics use it so that a run is reproducible bit for bit on any machine.
#include <vector>

#include "parallel.hpp"

namespace chroma::kernels::cpu_detail {

/// Items summed by one task; fixed, so the grouping of the additions never changes.
inline constexpr index_t ordered_sum_chunk = 1024;

/// Returns term(0) + ... + term(count - 1) in double, grouped in fixed chunks. `term` may also
/// write per-item outputs (gradients); it runs exactly once per item, possibly on several threads.
/// `work_per_item` says roughly how many operations one term costs (for the serial cut-off).
template <class Term>
double ordered_sum(index_t count, index_t work_per_item, Term&& term) {
    if (count <= 0) return 0.0;
    const index_t chunks = (count + ordered_sum_chunk - 1) / ordered_sum_chunk;
    std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
    parallel_for(chunks, ordered_sum_chunk * work_per_item, [&](index_t chunk) {
        const index_t first = chunk * ordered_sum_chunk;
        const index_t last = first + ordered_sum_chunk < count ? first + ordered_sum_chunk : count;
        double sum = 0.0;
        for (index_t i = first; i < last; ++i) sum += term(i);
        partial[static_cast<std::size_t>(chunk)] = sum;
    });
    double total = 0.0;
    for (const double p : partial) total += p;
    return total;
}

/// The same for `width` sums at once: term(i, sums) adds item i's contributions into
/// sums[0..width). Returns the element-wise totals, grouped in fixed chunks as above.
template <class Term>
std::vector<double> ordered_sums(index_t count, index_t width, index_t work_per_item, Term&& term) {
    std::vector<double> total(static_cast<std::size_t>(width), 0.0);
    if (count <= 0) return total;
    const index_t chunks = (count + ordered_sum_chunk - 1) / ordered_sum_chunk;
    std::vector<double> partial(static_cast<std::size_t>(chunks * width), 0.0);
    parallel_for(chunks, ordered_sum_chunk * work_per_item, [&](index_t chunk) {
        const index_t first = chunk * ordered_sum_chunk;
        const index_t last = first + ordered_sum_chunk < count ? first + ordered_sum_chunk : count;
        double* sums = partial.data() + chunk * width;
        for (index_t i = first; i < last; ++i) term(i, sums);
    });
    for (index_t chunk = 0; chunk < chunks; ++chunk)
        for (index_t k = 0; k < width; ++k)
            total[static_cast<std::size_t>(k)] += partial[static_cast<std::size_t>(chunk * width + k)];
    return total;
}

}  // namespace chroma::kernels::cpu_detail
