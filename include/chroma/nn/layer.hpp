#pragma once
// The layer contract.
//
// A layer comes in two parts:
//   * a *spec*: the type written in a network definition, e.g. Conv2d<1, 64, 3>. It carries the
//     hyper-parameters and the channel counts as compile-time constants and names its runtime
//     class for any number type and backend through `template <class T, class B> class layer`;
//   * the *runtime layer* `Spec::layer<T, B>`: parameters, cached activations, forward, backward.
// The backend is chosen once, when a whole network is instantiated (Model<Net, cpu>), so one
// definition serves every backend. See docs/extending.md for a worked example.
#include <concepts>
#include <string>
#include <type_traits>
#include <string_view>

#include "../core/parameter.hpp"
#include "../core/tensor.hpp"

namespace chroma {

/// Channel count of a layer that works with any number of channels (activations, pooling).
/// As out_channels it means "as many as came in".
inline constexpr int any_channels = -1;

/// The visitor type used to check the contract: anything callable as (name, Parameter&).
template <class T, class B>
struct parameter_visitor_archetype {
    void operator()(std::string_view, Parameter<T, B>&) const {}
};

/// What a runtime layer must offer. Reference semantics:
///  * forward(x) returns the output, kept in the layer's own buffer until the next forward;
///    in training mode it keeps what backward needs (usually a view of x).
///  * backward(dy) takes the gradient of the loss w.r.t. the last forward's output, *adds* the
///    parameter gradients into each Parameter::grad, and returns the gradient w.r.t. its input.
///  * output_shape(s) is the shape forward would return for input shape s; it throws
///    shape_error naming the layer and the shape when s cannot be used.
///  * visit_parameters(v) calls v(name, parameter) for each parameter and statistic, with
///    PyTorch's names ("weight", "bias", "running_mean", ...).
///  * set_training(bool) switches between training and evaluation behaviour.
///  * describe() is a short human-readable name used in error messages and summaries.
template <class L, class T, class B>
concept Layer = requires(L& layer, const L& const_layer, const Tensor<T, B>& tensor, Shape shape, bool training,
                         parameter_visitor_archetype<T, B> visitor) {
    { const_layer.output_shape(shape) } -> std::same_as<Shape>;
    { layer.forward(tensor) } -> std::same_as<const Tensor<T, B>&>;
    { layer.backward(tensor) } -> std::same_as<const Tensor<T, B>&>;
    layer.visit_parameters(visitor);
    layer.set_training(training);
    { L::describe() } -> std::convertible_to<std::string>;
};

/// What a spec must offer: its channel counts (or any_channels) and its runtime layer, which
/// must meet Layer for float and double on the CPU backend.
template <class S>
concept LayerSpec = requires {
    { S::in_channels } -> std::convertible_to<int>;
    { S::out_channels } -> std::convertible_to<int>;
    typename S::template layer<float, cpu>;
    typename S::template layer<double, cpu>;
} && Layer<typename S::template layer<float, cpu>, float, cpu> && Layer<typename S::template layer<double, cpu>, double, cpu>;

/// The runtime layer of spec S for number type T on backend B.
template <class S, class T, class B>
using layer_t = typename S::template layer<T, B>;

namespace detail {
/// A layer's name for a message: text, or a function giving it (a layer's describe), called only
/// when there is an error to report, so that a step that goes well builds no strings.
template <class Name>
std::string name_text(const Name& name) {
    if constexpr (std::is_invocable_v<const Name&>)
        return name();
    else
        return std::string(name);
}
}  // namespace detail

/// Throws shape_error unless x has `channels` channels (or channels is any_channels). `layer` is
/// its name or its describe function (detail::name_text).
template <class Name>
void require_channels(const Name& layer, int channels, const Shape& x) {
    if (channels != any_channels && x.c != channels)
        throw shape_error(detail::name_text(layer) + " expects " + std::to_string(channels) +
                          " input channels, got input of shape " + x.str());
}

/// Throws shape_error unless x has at least one element in every dimension.
template <class Name>
void require_nonempty(const Name& layer, const Shape& x) {
    if (x.n <= 0 || x.c <= 0 || x.h <= 0 || x.w <= 0)
        throw shape_error(detail::name_text(layer) + " needs a non-empty input, got shape " + x.str());
}

}  // namespace chroma
