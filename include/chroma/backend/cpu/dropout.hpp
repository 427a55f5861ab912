#pragma once
// Multiplies each element by a factor chosen from its flat index (a dropout mask) on the CPU.
// The mask is a function of the index, not a stored tensor, so forward and backward recompute
// it for free and the result does not depend on how the loop is split among threads.
#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace chroma::kernels {

/// y[i] = x[i] * mask(i). Dropout uses it for forward (x -> y) and backward (dy -> dx).
template <class T, class Mask>
void apply_mask(const Tensor<T, cpu>& x, Tensor<T, cpu>& y, Mask mask) {
    const T* in = x.data();
    T* out = y.data();
    cpu_detail::parallel_for(x.size(), 4, [&](index_t i) { out[i] = in[i] * mask(i); });
}

}  // namespace chroma::kernels
