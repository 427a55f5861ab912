#pragma once
// Dropout masks on the GPU. The mask is the same functor the CPU uses (ops::dropout_mask: a hash
// of the layer's key and the flat index), so the GPU drops exactly the elements the CPU drops.
#include "../../core/tensor.hpp"
#include "cuda.hpp"
#include "launch.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T, class Mask>
struct apply_mask_op {
    const T* in;
    T* out;
    Mask mask;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { out[i] = in[i] * mask(i); }
};

}  // namespace cuda_detail

/// y[i] = x[i] * mask(i). Dropout uses it for forward (x -> y) and backward (dy -> dx).
template <class T, class Mask>
void apply_mask(const Tensor<T, cuda>& x, Tensor<T, cuda>& y, Mask mask) {
    cuda_detail::for_each_index("apply_mask", x.size(), cuda_detail::apply_mask_op<T, Mask>{x.data(), y.data(), mask});
}

}  // namespace chroma::kernels
