#pragma once
// Host memory aligned to 64 bytes (one cache line, one AVX-512 register).
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace chroma {

inline constexpr std::size_t host_alignment = 64;

/// An owning, fixed-size, 64-byte aligned array of trivially copyable values.
/// Its contents start zeroed, so a fresh tensor never exposes uninitialised memory.
template <class T>
class aligned_buffer {
    static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds plain numbers only");

    struct release {
        void operator()(T* p) const noexcept { ::operator delete[](p, std::align_val_t{host_alignment}); }
    };

public:
    aligned_buffer() = default;
    explicit aligned_buffer(std::size_t count)
        : data_(count ? static_cast<T*>(::operator new[](count * sizeof(T), std::align_val_t{host_alignment}))
                      : nullptr),
          size_(count) {
        if (count) std::memset(static_cast<void*>(data_.get()), 0, count * sizeof(T));
    }

    T* data() noexcept { return data_.get(); }
    const T* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }

private:
    std::unique_ptr<T, release> data_;
    std::size_t size_ = 0;
};

}  // namespace chroma
