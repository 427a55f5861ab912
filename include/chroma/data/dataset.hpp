#pragma once
// What the loader reads from: a numbered collection of images. An image folder, CIFAR-10's binary
// batches and a packed file all meet the same concept, so the loader, `chroma pack` and the
// trainers work with any of them.
#include <concepts>
#include <cstddef>
#include <string>

#include "image.hpp"

namespace chroma::data {

/// size() images, numbered 0 .. size()-1 in a fixed order; load(i) decodes image i (throwing an
/// image_error that names it when it cannot be read); name(i) says which file or record it is.
/// load must be safe to call from several threads at once.
template <class D>
concept ImageDataset = requires(const D& dataset, std::size_t index) {
    { dataset.size() } -> std::convertible_to<std::size_t>;
    { dataset.load(index) } -> std::same_as<FloatImage>;
    { dataset.name(index) } -> std::convertible_to<std::string>;
};

}  // namespace chroma::data
