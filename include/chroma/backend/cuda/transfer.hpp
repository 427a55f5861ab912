#pragma once
// Moving numbers between the CPU and the GPU, always explicitly: to_device / to_host make new
// tensors, transfer(from, to) reuses the destination's storage (a training loop's input batch),
// and copy_parameters moves a whole model's weights and statistics by name.
// Plain C++ over the CUDA runtime API: usable from .cpp files compiled without nvcc.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

#include "../../core/parameter.hpp"
#include "../../core/tensor.hpp"
#include "cuda.hpp"

namespace chroma {
namespace cuda_detail {

template <class T>
void copy_bytes(const T* from, T* to, index_t count, cudaMemcpyKind kind, std::string_view what) {
    if (count <= 0) return;
    check(cudaMemcpyAsync(to, from, static_cast<std::size_t>(count) * sizeof(T), kind, stream()), what);
}

}  // namespace cuda_detail

/// Makes `to` the shape of `from` (keeping its storage when large enough) and copies the values
/// across. Host to device returns once the host values have been read; device to host waits for
/// the GPU (and so reports any earlier kernel failure as cuda_error).
template <class T>
void transfer(const Tensor<T, cpu>& from, Tensor<T, cuda>& to) {
    to.resize(from.shape());
    cuda_detail::copy_bytes(from.data(), to.data(), from.size(), cudaMemcpyHostToDevice, "copying to the GPU");
}
template <class T>
void transfer(const Tensor<T, cuda>& from, Tensor<T, cpu>& to) {
    to.resize(from.shape());
    if (from.empty()) return;
    cuda_detail::copy_bytes(from.data(), to.data(), from.size(), cudaMemcpyDeviceToHost, "copying from the GPU");
    cuda::synchronize();
}
template <class T>
void transfer(const Tensor<T, cuda>& from, Tensor<T, cuda>& to) {
    to.resize(from.shape());
    cuda::copy(from.data(), to.data(), from.size());
}
template <class T>
void transfer(const Tensor<T, cpu>& from, Tensor<T, cpu>& to) {
    to.resize(from.shape());
    std::copy_n(from.data(), from.size(), to.data());
}

/// A new device tensor holding the values of a host tensor.
template <class T>
Tensor<T, cuda> to_device(const Tensor<T, cpu>& host) {
    Tensor<T, cuda> device(host.shape());
    transfer(host, device);
    return device;
}

/// A new host tensor holding the values of a device tensor (waits for the GPU).
template <class T>
Tensor<T, cpu> to_host(const Tensor<T, cuda>& device) {
    Tensor<T, cpu> host(device.shape());
    transfer(device, host);
    return host;
}

/// Copies every parameter and statistic value (weights, biases, BatchNorm running statistics)
/// from one model to another of the same network, matched by name, whatever their backends:
/// `copy_parameters(cpu_model, cuda_model)` before training on the GPU, the reverse to save.
/// Gradients are not copied. Throws usage_error when a name is missing or a shape differs.
template <class From, class To>
void copy_parameters(From& from, To& to) {
    using source = Parameter<typename From::value_type, typename From::backend>;
    using destination = Parameter<typename To::value_type, typename To::backend>;
    static_assert(std::is_same_v<typename From::value_type, typename To::value_type>,
                  "copy_parameters: both models must hold the same number type");
    std::map<std::string, source*, std::less<>> by_name;
    from.visit_parameters([&](std::string_view name, source& p) { by_name.emplace(std::string(name), &p); });
    std::size_t copied = 0;
    to.visit_parameters([&](std::string_view name, destination& p) {
        const auto found = by_name.find(name);
        if (found == by_name.end())
            throw usage_error("copy_parameters: the source model has no parameter named '" + std::string(name) + "'");
        require_same_shape(found->second->value.shape(), p.value.shape(),
                           "copy_parameters: parameter '" + std::string(name) + "'");
        transfer(found->second->value, p.value);
        ++copied;
    });
    if (copied != by_name.size())
        throw usage_error("copy_parameters: the source model has " + std::to_string(by_name.size()) +
                          " parameters, the destination " + std::to_string(copied) + ": they are different networks");
}

}  // namespace chroma
