#pragma once
// Named<"encoder", Spec>: gives a child of a container a name instead of its index, so that
// parameter names match a PyTorch module's attributes ("model1.0.weight", "downsample.1.bias").
#include <string>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "layer.hpp"

namespace chroma {

template <fixed_string Name, class Spec>
struct Named {
    static_assert(!Name.view().empty(), "Named: the name must not be empty");
    static constexpr int in_channels = Spec::in_channels;
    static constexpr int out_channels = Spec::out_channels;
    static constexpr std::string_view name = Name.view();
    using inner = Spec;
    template <class T, class B>
    using layer = layer_t<Spec, T, B>;
};

namespace detail {

template <class S>
struct child_name_of {
    static std::string get(const std::string& fallback) { return fallback; }
};
template <fixed_string Name, class Spec>
struct child_name_of<Named<Name, Spec>> {
    static std::string get(const std::string&) { return std::string(Name.view()); }
};

/// The name of child S of a container: its Named name, else `fallback` (its index, or "" for a
/// transparent child whose parameters appear directly under the container's name).
template <class S>
std::string child_name(const std::string& fallback) {
    return child_name_of<S>::get(fallback);
}

inline std::string join_name(const std::string& prefix, std::string_view name) {
    if (prefix.empty()) return std::string(name);
    return prefix + "." + std::string(name);
}

/// Calls body(); a Chroma error escaping it gains `name` as one level of its layer path.
template <class F>
decltype(auto) with_context(const std::string& name, F&& body) {
    try {
        return body();
    } catch (error& e) {
        e.add_context(name);
        throw;
    }
}

/// Visits child's parameters with names prefixed by `prefix`.
template <class Child, class V>
void visit_child(Child& child, const std::string& prefix, V& visit) {
    child.visit_parameters([&](std::string_view name, auto& parameter) { visit(join_name(prefix, name), parameter); });
}

}  // namespace detail
}  // namespace chroma
