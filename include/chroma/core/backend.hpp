#pragma once
// The backend seam. A backend is a policy type that says where a tensor's numbers live and
// how to allocate them. Layers never touch memory directly: they call free functions in
// namespace chroma::kernels whose overloads take Tensor<T, Backend>, so a new backend adds
// kernel overloads and no layer changes. A layer used with a backend that lacks one of its
// kernels fails to compile at that call (no overload for Tensor<T, that_backend>).
#include <concepts>
#include <cstddef>
#include <string_view>

namespace chroma {

template <class B>
concept Backend = requires {
    // Storage for n values of T on this backend: default-constructible, sized, with data().
    typename B::template buffer<float>;
    { B::name } -> std::convertible_to<std::string_view>;
    // True when the CPU may dereference the storage (element access, printing).
    { B::host_accessible } -> std::convertible_to<bool>;
};

}  // namespace chroma
