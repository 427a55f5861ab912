#pragma once
// The Chroma twin of composed_net() in tests/reference/cases_composition.py: Sequential, Named,
// Skip with add and concat merges, and Residual, with PyTorch's parameter names.
#include <chroma/chroma.hpp>

namespace chroma::testing {

using ComposedNet = Sequential<
    Conv2d<2, 4, 3, 1, 1>, ReLU,
    Skip<Sequential<Conv2d<4, 6, 3, 2, 1>, ReLU, ConvTranspose2d<6, 4, 4, 2, 1>>, Conv2d<4, 4, 1>, AddThen<ReLU>>,
    Residual<Sequential<Named<"conv1", Conv2d<4, 4, 3, 1, 1>>, ReLU, Named<"conv2", Conv2d<4, 4, 3, 1, 1>>>,
             Named<"downsample", Conv2d<4, 4, 1>>>,
    Skip<Conv2d<4, 3, 3, 1, 1>, Identity, Concat>, Conv2d<7, 2, 1>, Tanh>;

}  // namespace chroma::testing
