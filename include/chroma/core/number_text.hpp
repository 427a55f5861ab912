#pragma once
// The shortest text that reads back as the same double ("0.1", "1e-05"), for hyper-parameters
// shown in layer descriptions; std::to_string would print 0.1 as "0.100000".
#include <charconv>
#include <string>

namespace chroma::detail {

inline std::string number_text(double value) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

}  // namespace chroma::detail
