#pragma once
// A hook for seeing what a layer with a weight produced, without changing any layer's interface.
// Layers with a weight (Conv2d, ConvTranspose2d) call notify_forward(weight, output) at the end
// of forward. Tools that need an inner layer's output (the data-dependent initialiser in
// init/data_dependent.hpp) install a ForwardObserver for the duration of a few forwards.
// When no observer is installed, notify_forward is one test of a thread-local pointer.
#include "../core/parameter.hpp"
#include "../core/tensor.hpp"

namespace chroma {

/// Where a weight keeps its output channels, so an observer can scale one output channel.
enum class weight_layout {
    out_in,  // [Out, In, K, K]: Conv2d and the Parameter::make convention
    in_out,  // [In, Out, K, K]: ConvTranspose2d, as PyTorch stores it
};

/// Told, after each forward of a layer with a weight, the weight and the output it produced.
/// The output is the layer's own buffer: read it during the call, it changes with the next forward.
template <class T, class B>
class ForwardObserver {
public:
    virtual void after_forward(const Parameter<T, B>& weight, const Tensor<T, B>& output, weight_layout layout) = 0;

protected:
    ~ForwardObserver() = default;  // never owned through this interface
};

namespace detail {
// One per number type and backend and per thread, so concurrent models on other threads are not seen.
template <class T, class B>
inline thread_local ForwardObserver<T, B>* active_forward_observer = nullptr;
}  // namespace detail

/// Installs an observer for its lifetime and then restores the one installed before (scopes nest).
template <class T, class B>
class ForwardObserverScope {
public:
    explicit ForwardObserverScope(ForwardObserver<T, B>& observer)
        : previous_(detail::active_forward_observer<T, B>) {
        detail::active_forward_observer<T, B> = &observer;
    }
    ~ForwardObserverScope() { detail::active_forward_observer<T, B> = previous_; }
    ForwardObserverScope(const ForwardObserverScope&) = delete;
    ForwardObserverScope& operator=(const ForwardObserverScope&) = delete;

private:
    ForwardObserver<T, B>* previous_;
};

/// Called by a layer at the end of forward with its weight and its output.
template <class T, class B>
inline void notify_forward(const Parameter<T, B>& weight, const Tensor<T, B>& output,
                           weight_layout layout = weight_layout::out_in) {
    if (ForwardObserver<T, B>* observer = detail::active_forward_observer<T, B>) [[unlikely]]
        observer->after_forward(weight, output, layout);
}

}  // namespace chroma
