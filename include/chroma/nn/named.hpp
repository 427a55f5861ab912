#pragma once
// Named<"encoder", Spec>: gives a child of a container a name instead of its index, so that
// parameter names match a PyTorch module's attributes ("model1.0.weight", "downsample.1.bias").
#include <array>
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

/// Calls body(); a Chroma error escaping it gains `name` (text, or a function giving it, called
/// only then) as one level of its layer path.
template <class Name, class F>
decltype(auto) with_context(const Name& name, F&& body) {
    try {
        return body();
    } catch (error& e) {
        e.add_context(name_text(name));
        throw;
    }
}

/// Visits child's parameters with names prefixed by `prefix`. Names are joined in a buffer per
/// nesting level that keeps its capacity, so the visits of every step (an optimiser's,
/// zero_grad's) allocate nothing once the buffers have grown.
template <class Child, class V>
void visit_child(Child& child, const std::string& prefix, V& visit) {
    constexpr std::size_t deepest = 64;
    thread_local std::array<std::string, deepest> joined;  // never moves: outer levels hold views into it
    thread_local std::size_t depth = 0;
    child.visit_parameters([&](std::string_view name, auto& parameter) {
        if (depth >= deepest) {  // a model nested deeper than any real one: join afresh
            visit(join_name(prefix, name), parameter);
            return;
        }
        std::string& text = joined[depth];
        text.assign(prefix);
        if (!prefix.empty()) text += '.';
        text += name;
        struct Level {
            std::size_t& depth;
            explicit Level(std::size_t& d) : depth(d) { ++depth; }
            ~Level() { --depth; }
        } level(depth);
        visit(std::string_view(text), parameter);
    });
}

}  // namespace detail
}  // namespace chroma
