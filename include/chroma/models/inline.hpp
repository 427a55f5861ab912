#pragma once
// Inline<Spec>: a child whose parameters appear directly under its container's name, without a
// name or index of its own. A PyTorch module often keeps a U-Net's skips as attributes beside the
// blocks they join ("model2", "skip2_9"); nesting them in Chroma's Skip would otherwise add an
// index ("1.model2.0.weight"). Inline keeps the PyTorch names ("model2.0.weight").
#include <string>

#include "../nn/layer.hpp"
#include "../nn/named.hpp"

namespace chroma {

template <class Spec>
struct Inline {
    static constexpr int in_channels = Spec::in_channels;
    static constexpr int out_channels = Spec::out_channels;
    using inner = Spec;
    template <class T, class B>
    using layer = layer_t<Spec, T, B>;
};

namespace detail {
// An empty name is what containers treat as "no level of its own" (join_name and error paths
// skip it), as Skip does for its inner path.
template <class Spec>
struct child_name_of<Inline<Spec>> {
    static std::string get(const std::string&) { return ""; }
};
}  // namespace detail

}  // namespace chroma
