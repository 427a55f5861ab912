#pragma once
// The scratch buffer a convolution uses inside one forward or backward call (patch columns,
// flipped weights, per-thread partial sums). Nothing in it outlives the call, so on the CPU the
// layers of every network share one buffer per thread and number type: a network's scratch
// memory is that of its largest layer rather than the sum over its layers. It grows to the
// largest size asked for and is kept for the next call (no allocation in a steady state), until
// the thread ends. On other backends each layer keeps its own.
#include <type_traits>

#include "../core/tensor.hpp"

namespace chroma {

template <class T, class B>
class ScratchWorkspace {
public:
    Tensor<T, B>& get() {
        if constexpr (std::is_same_v<B, cpu>) {
            thread_local Tensor<T, cpu> shared;
            return shared;
        } else {
            return own_;
        }
    }

private:
    struct Nothing {};
    std::conditional_t<std::is_same_v<B, cpu>, Nothing, Tensor<T, B>> own_;
};

}  // namespace chroma
