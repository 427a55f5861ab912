#pragma once
// Small checks that runtime layers share.
#include <string>

#include "../core/tensor.hpp"
#include "layer.hpp"
#include "forward_observer.hpp"  // notify_forward, which layers with a weight call

namespace chroma::detail {

/// backward() needs a forward() first, and dy must have the shape forward returned.
/// `layer` is its name or its describe function (name_text).
template <class Name, class T, class B>
void require_backward_ready(const Name& layer, const Tensor<T, B>& last_output, const Tensor<T, B>& dy) {
    if (last_output.empty())  // layers reject empty inputs, so an empty output means no forward yet
        throw usage_error(name_text(layer) + ": backward() called before forward()");
    if (last_output.shape() != dy.shape())
        require_same_shape(last_output.shape(), dy.shape(), name_text(layer) + " backward: gradient");
}

}  // namespace chroma::detail
