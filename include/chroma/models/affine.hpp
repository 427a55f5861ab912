#pragma once
// Affine<Multiply, Add>: y = Multiply * x + Add on every element, with the constants fixed in the
// type. The seed networks scale inside their forward: Zhang et al.'s (L - 50) / 100 on the way in
// and x 110 on the way out (eccv16.hpp), and the Caffe release's x 2.606 on the logits.
#include <string>

#include "../core/host_device.hpp"
#include "../core/number_text.hpp"
#include "../nn/activation.hpp"

namespace chroma {
namespace ops {

template <double Multiply, double Add>
struct affine_map {
    static std::string describe() {
        return "Affine(x " + detail::number_text(Multiply) + " + " + detail::number_text(Add) + ")";
    }
    template <class T>
    CHROMA_HOST_DEVICE T operator()(T x) const { return x * T(Multiply) + T(Add); }
    template <class T>
    CHROMA_HOST_DEVICE T derivative(T, T) const { return T(Multiply); }
};

}  // namespace ops

template <double Multiply, double Add = 0.0>
using Affine = Elementwise<ops::affine_map<Multiply, Add>>;

}  // namespace chroma
