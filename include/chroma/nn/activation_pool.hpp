#pragma once
// Buffers shared between the layers of a network: outputs in inference, input gradients in
// backward.
//
// In training every layer keeps its output for backward. Its input gradient, though, is read
// once, by the layer before it: Sequential and Skip hand it back here as soon as it has been
// read, so a backward pass holds a few gradients at a time instead of one per layer. A network run by Model::inference()
// will not be differentiated, so once the next layer has read a layer's output, its Sequential
// hands that buffer back here, and the next layer to need an output takes it: a chain then
// holds about two activations at a time (plus the skips still waiting for their merge) instead
// of one per layer. The pool keeps what it is given, so after the first call a steady run
// allocates nothing. On the CPU the layers of every network in a thread share one pool; other
// backends keep each layer's own buffer.
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/backend.hpp"
#include "../core/tensor.hpp"

namespace chroma {

template <class T, class B>
class ActivationPool {
public:
    /// Makes `output` the given shape, from a pooled buffer when it has no storage of its own.
    static void take(Tensor<T, B>& output, Shape shape) {
        if constexpr (std::is_same_v<B, cpu>) {
            if (output.capacity() == 0) {
                auto& free = buffers();
                // The smallest buffer that fits, so large ones stay for large outputs.
                std::size_t best = free.size();
                for (std::size_t i = 0; i < free.size(); ++i)
                    if (free[i].capacity() >= shape.count() &&
                        (best == free.size() || free[i].capacity() < free[best].capacity()))
                        best = i;
                if (best < free.size()) {
                    output = std::move(free[best]);
                    free.erase(free.begin() + static_cast<std::ptrdiff_t>(best));
                }
            }
        }
        output.resize(shape);
    }

    /// Hands `output`'s buffer to the pool, leaving `output` empty (on the CPU; elsewhere a no-op).
    static void give(Tensor<T, B>& output) {
        if constexpr (std::is_same_v<B, cpu>) {
            if (output.capacity() > 0) buffers().push_back(std::move(output));
            output = Tensor<T, B>();
        }
    }

    /// Buffers waiting in this thread's pool (for tests).
    static std::size_t pooled() {
        if constexpr (std::is_same_v<B, cpu>) return buffers().size();
        return 0;
    }

private:
    static std::vector<Tensor<T, B>>& buffers() {
        thread_local std::vector<Tensor<T, B>> free;
        return free;
    }
};

namespace detail {

/// Hands a layer's output back to the pool where the layer supports it.
template <class L>
void release_output(L& layer) {
    if constexpr (requires { layer.release_output(); }) layer.release_output();
}

/// Hands a layer's input gradient back to the pool where the layer supports it (Sequential and
/// Skip do, in backward, once the gradient has been read).
template <class L>
void release_input_gradient(L& layer) {
    if constexpr (requires { layer.release_input_gradient(); }) layer.release_input_gradient();
}

/// Tells a layer whether its network runs for inference only, where the layer supports it.
template <class L>
void set_inference(L& layer, bool inference) {
    if constexpr (requires { layer.set_inference(inference); }) layer.set_inference(inference);
}

}  // namespace detail

}  // namespace chroma
