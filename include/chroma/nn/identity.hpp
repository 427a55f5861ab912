#pragma once
// Identity: passes its input through; the default projection of Skip and shortcut of Residual.
#include <string>

#include "layer.hpp"

namespace chroma {

struct Identity {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;

    template <class T, Backend B>
    class layer {
    public:
        static std::string describe() { return "Identity"; }
        Shape output_shape(Shape in) const { return in; }
        const Tensor<T, B>& forward(const Tensor<T, B>& x) { return x; }
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) { return dy; }
        template <class V>
        void visit_parameters(V&&) {}
        void set_training(bool) {}
    };
};

}  // namespace chroma
