#pragma once
// Small checks that runtime layers share.
#include <string>

#include "../core/tensor.hpp"
#include "forward_observer.hpp"  // notify_forward, which layers with a weight call

namespace chroma::detail {

/// backward() needs a forward() first, and dy must have the shape forward returned.
template <class T, class B>
void require_backward_ready(const std::string& layer, const Tensor<T, B>& last_output, const Tensor<T, B>& dy) {
    if (last_output.empty())  // layers reject empty inputs, so an empty output means no forward yet
        throw usage_error(layer + ": backward() called before forward()");
    require_same_shape(last_output.shape(), dy.shape(), layer + " backward: gradient");
}

}  // namespace chroma::detail
