#pragma once
// Optimiser updates on the GPU: the rules of optim/update_rules.hpp (compiled for the device
// through CHROMA_HOST_DEVICE) applied to every element, and the reductions gradient clipping needs.
#include "../../core/tensor.hpp"
#include "../../optim/update_rules.hpp"
#include "cuda.hpp"
#include "launch.cuh"
#include "reduce.cuh"

namespace chroma::kernels {
namespace cuda_detail {

template <class T>
struct sgd_op {
    optim::sgd_rule rule;
    T* value;
    const T* grad;
    T* buffer;  // may be null (no momentum)
    CHROMA_HOST_DEVICE void operator()(index_t i) const { rule(value[i], grad[i], buffer ? buffer + i : nullptr); }
};

template <class T>
struct adam_op {
    optim::adam_rule rule;
    T *value, *exp_avg, *exp_avg_sq;
    const T* grad;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { rule(value[i], grad[i], exp_avg[i], exp_avg_sq[i]); }
};

template <class T>
struct scale_op {
    T* data;
    T factor;
    CHROMA_HOST_DEVICE void operator()(index_t i) const { data[i] *= factor; }
};

/// Blocks of the first pass of sum_of_squares; fixed, so the grouping of the sums never changes.
inline constexpr int square_sum_blocks = 256;

template <class T>
__global__ void partial_square_sums_kernel(const T* data, index_t count, double* partial) {
    double sum = 0.0;
    for (index_t i = static_cast<index_t>(blockIdx.x) * reduce_threads + threadIdx.x; i < count;
         i += static_cast<index_t>(reduce_threads) * square_sum_blocks)
        sum += static_cast<double>(data[i]) * static_cast<double>(data[i]);
    sum = block_sum(sum);
    if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

template <class T>  // a template only so that a header may define it (one kernel per number type)
__global__ void total_kernel(const double* partial, int count, double* total) {
    double sum = 0.0;
    for (int i = static_cast<int>(threadIdx.x); i < count; i += reduce_threads) sum += partial[i];
    sum = block_sum(sum);
    if (threadIdx.x == 0) *total = sum;
}

}  // namespace cuda_detail

template <class T>
void sgd_update(const optim::sgd_rule& rule, Tensor<T, cuda>& value, const Tensor<T, cuda>& grad,
                Tensor<T, cuda>* momentum_buffer) {
    cuda_detail::for_each_index(
        "sgd_update", value.size(),
        cuda_detail::sgd_op<T>{rule, value.data(), grad.data(), momentum_buffer ? momentum_buffer->data() : nullptr});
}

template <class T>
void adam_update(const optim::adam_rule& rule, Tensor<T, cuda>& value, const Tensor<T, cuda>& grad,
                 Tensor<T, cuda>& exp_avg, Tensor<T, cuda>& exp_avg_sq) {
    cuda_detail::for_each_index(
        "adam_update", value.size(),
        cuda_detail::adam_op<T>{rule, value.data(), exp_avg.data(), exp_avg_sq.data(), grad.data()});
}

/// Sum of squares of all elements in double, in a fixed grouping (the same result every run;
/// it differs from the CPU's sequential sum only by rounding). Waits for the GPU.
template <class T>
double sum_of_squares(const Tensor<T, cuda>& t) {
    using namespace cuda_detail;
    if (t.empty()) return 0.0;
    chroma::cuda_detail::device_buffer<double> scratch(square_sum_blocks + 1);  // partial sums, then the total
    partial_square_sums_kernel<<<square_sum_blocks, reduce_threads, 0, stream()>>>(t.data(), t.size(), scratch.data());
    check_launch("sum_of_squares");
    total_kernel<T><<<1, reduce_threads, 0, stream()>>>(scratch.data(), square_sum_blocks,
                                                     scratch.data() + square_sum_blocks);
    check_launch("sum_of_squares (total)");
    double total = 0.0;
    check(cudaMemcpyAsync(&total, scratch.data() + square_sum_blocks, sizeof(double), cudaMemcpyDeviceToHost,
                          stream()),
          "reading a sum from the GPU");
    check(cudaStreamSynchronize(stream()), "waiting for the GPU");
    return total;
}

/// t *= factor
template <class T>
void scale(Tensor<T, cuda>& t, T factor) {
    cuda_detail::for_each_index("scale", t.size(), cuda_detail::scale_op<T>{t.data(), factor});
}

}  // namespace chroma::kernels
