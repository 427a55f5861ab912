#pragma once
// Tensor<T, Backend>: an NCHW array of float or double on one backend.
//
// Copies are shallow (they share storage, like PyTorch tensors); clone() makes a deep copy.
// batch() and reshaped() are views without copies. resize() keeps the storage when it is large
// enough, which is how layers reuse their buffers from one step to the next without allocating.
#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>

#include "../backend/cpu/cpu.hpp"
#include "backend.hpp"
#include "error.hpp"
#include "shape.hpp"

namespace chroma {

template <class T, Backend B = cpu>
class Tensor {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "chroma::Tensor holds float (training, inference) or double (gradient checks)");

public:
    using value_type = T;
    using backend = B;
    using storage_type = typename B::template buffer<T>;

    Tensor() = default;
    /// A zero-filled tensor of the given shape.
    explicit Tensor(Shape shape) { allocate(shape); }

    const Shape& shape() const noexcept { return shape_; }
    index_t size() const noexcept { return shape_.count(); }
    bool empty() const noexcept { return size() == 0; }

    T* data() noexcept { return storage_ ? storage_->data() + offset_ : nullptr; }
    const T* data() const noexcept { return storage_ ? storage_->data() + offset_ : nullptr; }

    /// Unchecked element access (host backends only).
    T& operator()(index_t n, index_t c, index_t h, index_t w) requires B::host_accessible {
        return data()[((n * shape_.c + c) * shape_.h + h) * shape_.w + w];
    }
    const T& operator()(index_t n, index_t c, index_t h, index_t w) const requires B::host_accessible {
        return data()[((n * shape_.c + c) * shape_.h + h) * shape_.w + w];
    }
    /// Checked element access: throws usage_error naming the index and the shape.
    T& at(index_t n, index_t c, index_t h, index_t w) requires B::host_accessible {
        check_index(n, c, h, w);
        return (*this)(n, c, h, w);
    }
    const T& at(index_t n, index_t c, index_t h, index_t w) const requires B::host_accessible {
        check_index(n, c, h, w);
        return (*this)(n, c, h, w);
    }
    /// Flat element access in NCHW order, checked.
    T& operator[](index_t i) requires B::host_accessible {
        if (i < 0 || i >= size())
            throw usage_error("flat index " + std::to_string(i) + " is outside a tensor of shape " + shape_.str());
        return data()[i];
    }
    const T& operator[](index_t i) const requires B::host_accessible {
        return const_cast<Tensor&>(*this)[i];
    }

    /// A view of `count` consecutive batch items starting at `first`; shares storage.
    Tensor batch(index_t first, index_t count = 1) const {
        if (first < 0 || count < 0 || first + count > shape_.n)
            throw usage_error("batch view [" + std::to_string(first) + ", " + std::to_string(first + count) +
                              ") is outside a tensor of shape " + shape_.str());
        Tensor view = *this;
        view.offset_ = offset_ + first * shape_.per_sample();
        view.shape_.n = count;
        return view;
    }
    /// A view with another shape of the same element count; shares storage.
    Tensor reshaped(Shape shape) const {
        if (shape.count() != size())
            throw shape_error("cannot reshape " + shape_.str() + " (" + std::to_string(size()) + " elements) to " +
                              shape.str() + " (" + std::to_string(shape.count()) + " elements)");
        Tensor view = *this;
        view.shape_ = shape;
        return view;
    }
    /// Makes this tensor the given shape. Keeps the storage (and so the views of it) when it is
    /// large enough; otherwise allocates new zeroed storage. Contents are unspecified afterwards.
    void resize(Shape shape) {
        if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
            throw shape_error("negative dimension in shape " + shape.str());
        if (storage_ && offset_ + shape.count() <= static_cast<index_t>(storage_->size())) {
            shape_ = shape;
            return;
        }
        allocate(shape);
    }
    /// A deep copy with its own storage.
    Tensor clone() const {
        Tensor copy(shape_);
        if (size()) copy_values(data(), copy.data(), size());
        return copy;
    }
    /// Sets every element to `value` (host backends only; device backends use kernels::fill).
    void fill(T value) requires B::host_accessible { std::fill_n(data(), size(), value); }

    bool shares_storage_with(const Tensor& other) const noexcept { return storage_ && storage_ == other.storage_; }
    /// Elements resize() can reach without allocating (0 without storage).
    index_t capacity() const noexcept { return storage_ ? static_cast<index_t>(storage_->size()) - offset_ : 0; }

private:
    void allocate(Shape shape) {
        if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
            throw shape_error("negative dimension in shape " + shape.str());
        storage_ = std::make_shared<storage_type>(static_cast<std::size_t>(shape.count()));
        offset_ = 0;
        shape_ = shape;
    }
    void check_index(index_t n, index_t c, index_t h, index_t w) const {
        if (n < 0 || n >= shape_.n || c < 0 || c >= shape_.c || h < 0 || h >= shape_.h || w < 0 || w >= shape_.w)
            throw usage_error("index (" + std::to_string(n) + ", " + std::to_string(c) + ", " + std::to_string(h) +
                              ", " + std::to_string(w) + ") is outside a tensor of shape " + shape_.str());
    }
    static void copy_values(const T* from, T* to, index_t count) {
        if constexpr (B::host_accessible)
            std::copy_n(from, count, to);
        else
            B::copy(from, to, count);  // device backends provide a same-device copy
    }

    std::shared_ptr<storage_type> storage_;
    index_t offset_ = 0;
    Shape shape_{};
};

/// Throws shape_error unless `actual` equals `expected`; `what` names the layer or operation.
inline void require_same_shape(const Shape& expected, const Shape& actual, const std::string& what) {
    if (!(expected == actual))
        throw shape_error(what + ": expected shape " + expected.str() + ", got " + actual.str());
}

}  // namespace chroma
