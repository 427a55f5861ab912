#pragma once
// A string usable as a template argument, so that names can be part of a network's type:
// Named<"encoder", Sequential<...>>.
#include <algorithm>
#include <cstddef>
#include <string_view>

namespace chroma {

template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&text)[N]) { std::copy_n(text, N, chars); }
    constexpr std::string_view view() const { return {chars, N - 1}; }
};

}  // namespace chroma
