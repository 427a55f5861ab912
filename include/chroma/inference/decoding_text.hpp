#pragma once
// Decodings written as text, as command lines and model files name them:
//   annealed:T  the annealed mean at temperature T (Zhang et al.: 0.38)
//   topk:K      the mean of the K most likely bins, renormalised (seed 003: 2)
//   mean        the plain expectation (annealed at T = 1)
//   mode        the most likely bin
// Any of them followed by ",rebalance:LAMBDA" (0 < LAMBDA <= 1) decodes the distribution
// rebalanced by Zhang's prior first (color/decoding.hpp): "annealed:0.38,rebalance:0.5".
#include <cstdlib>
#include <string>

#include "../color/decoding.hpp"
#include "../core/error.hpp"
#include "../core/number_text.hpp"

namespace chroma::inference {

inline color::Decoding parse_decoding(const std::string& whole) {
    const auto fail = [&]() -> color::Decoding {
        throw usage_error("decoding '" + whole + "' is not one of annealed:T (T > 0), topk:K (K 1 to " +
                          std::to_string(color::max_top_k) + "), mean, mode, optionally followed by ,rebalance:LAMBDA "
                          "(0 < LAMBDA <= 1)");
    };
    const auto comma = whole.find(',');
    if (comma != std::string::npos) {
        const std::string rest = whole.substr(comma + 1), prefix = "rebalance:";
        if (!rest.starts_with(prefix) || rest.size() == prefix.size()) return fail();
        char* end = nullptr;
        const double lambda = std::strtod(rest.c_str() + prefix.size(), &end);
        if (*end != '\0' || !(lambda > 0.0 && lambda <= 1.0)) return fail();
        const auto base = whole.substr(0, comma);
        if (base.find(',') != std::string::npos) return fail();
        try {
            return parse_decoding(base).rebalanced(lambda);
        } catch (const usage_error&) {
            return fail();
        }
    }
    const std::string& text = whole;
    if (text == "mean") return color::Decoding::mean();
    if (text == "mode") return color::Decoding::mode();
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon + 1 == text.size()) return fail();
    const std::string kind = text.substr(0, colon), value = text.substr(colon + 1);
    char* end = nullptr;
    if (kind == "annealed") {
        const double t = std::strtod(value.c_str(), &end);
        if (*end != '\0' || !(t > 0.0) || !(t < 1e6)) return fail();
        return color::Decoding::annealed_mean(t);
    }
    if (kind == "topk") {
        const long k = std::strtol(value.c_str(), &end, 10);
        if (*end != '\0' || k < 1 || k > color::max_top_k) return fail();
        return color::Decoding::top_k_mean(static_cast<int>(k));
    }
    return fail();
}

/// The text parse_decoding reads back: "annealed:0.38", "topk:2", "mode", "annealed:0.38,rebalance:0.5".
inline std::string decoding_text(const color::Decoding& decoding) {
    std::string text;
    switch (decoding.method) {
        case color::Decoding::Method::mode:
            text = "mode";
            break;
        case color::Decoding::Method::top_k_mean:
            text = "topk:" + std::to_string(decoding.k);
            break;
        default:
            text = "annealed:" + chroma::detail::number_text(decoding.temperature);
    }
    if (decoding.rebalancing()) text += ",rebalance:" + chroma::detail::number_text(decoding.rebalance);
    return text;
}

}  // namespace chroma::inference
