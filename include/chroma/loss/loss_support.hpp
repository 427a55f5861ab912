#pragma once
// Argument checks shared by the losses, with messages that name the loss and the shapes.
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace chroma::loss::detail {

/// Throws shape_error unless `x` has at least one element.
inline void require_nonempty(const std::string& loss, const std::string& what, const Shape& x) {
    if (x.count() <= 0) throw shape_error(loss + " needs a non-empty " + what + ", got shape " + x.str());
}

/// Throws shape_error unless the two tensors have the same shape, naming both.
inline void require_same_shape(const std::string& loss, const std::string& first_name, const Shape& first,
                               const std::string& second_name, const Shape& second) {
    if (!(first == second))
        throw shape_error(loss + ": the " + first_name + " has shape " + first.str() + " but the " + second_name +
                          " has shape " + second.str() + "; they must be equal");
}

/// Throws shape_error unless a per-class vector (weights, prior) has one value per channel.
inline void require_one_per_class(const std::string& loss, const std::string& what, std::size_t length,
                                  const Shape& logits) {
    if (static_cast<index_t>(length) != logits.c)
        throw shape_error(loss + " has " + std::to_string(length) + " " + what + " but the logits of shape " +
                          logits.str() + " have " + std::to_string(logits.c) + " channels (classes)");
}

/// Throws usage_error if the output tensor shares storage with an input: writing the output
/// would overwrite the values it is computed from.
template <class T, Backend B>
void require_separate_output(const std::string& loss, const Tensor<T, B>& output, const Tensor<T, B>& input,
                             const Tensor<T, B>* other_input = nullptr) {
    if (output.shares_storage_with(input) || (other_input && output.shares_storage_with(*other_input)))
        throw usage_error(loss + ": the output tensor shares storage with an input; pass a separate tensor");
}

/// Makes `grad` the shape of `like` after checking that it is a separate tensor.
template <class T, Backend B>
void prepare_gradient(const std::string& loss, Tensor<T, B>& grad, const Tensor<T, B>& like,
                      const Tensor<T, B>* other = nullptr) {
    require_separate_output(loss, grad, like, other);
    grad.resize(like.shape());
}

}  // namespace chroma::loss::detail
