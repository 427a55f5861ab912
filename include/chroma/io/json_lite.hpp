#pragma once
// A small strict JSON reader, enough for file headers such as safetensors': objects, arrays,
// strings (with escapes), integers, numbers, true/false/null. Errors say where parsing stopped.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "atomic_file.hpp"

namespace chroma::io::json {

struct value;
using object = std::map<std::string, value>;
using array = std::vector<value>;

struct value {
    std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> data;

    bool is_object() const { return std::holds_alternative<std::shared_ptr<object>>(data); }
    bool is_array() const { return std::holds_alternative<std::shared_ptr<array>>(data); }
    bool is_string() const { return std::holds_alternative<std::string>(data); }
    bool is_number() const { return std::holds_alternative<double>(data); }
    const object& as_object() const { return *std::get<std::shared_ptr<object>>(data); }
    const array& as_array() const { return *std::get<std::shared_ptr<array>>(data); }
    const std::string& as_string() const { return std::get<std::string>(data); }
    double as_number() const { return std::get<double>(data); }
};

class parser {
public:
    parser(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

    value parse_document() {
        value v = parse_value(0);
        skip_space();
        if (at_ != text_.size()) fail("unexpected text after the end");
        return v;
    }

private:
    static constexpr int max_depth = 64;

    [[noreturn]] void fail(const std::string& what) const {
        throw file_error(source_ + ": malformed JSON at byte " + std::to_string(at_) + ": " + what);
    }
    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
            ++at_;
    }
    char peek() {
        skip_space();
        if (at_ >= text_.size()) fail("unexpected end");
        return text_[at_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++at_;
    }
    bool consume_word(std::string_view word) {
        if (text_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }

    value parse_value(int depth) {
        if (depth > max_depth) fail("nested too deeply");
        const char c = peek();
        if (c == '{') return parse_object(depth);
        if (c == '[') return parse_array(depth);
        if (c == '"') return value{parse_string()};
        if (consume_word("true")) return value{true};
        if (consume_word("false")) return value{false};
        if (consume_word("null")) return value{nullptr};
        return value{parse_number()};
    }
    value parse_object(int depth) {
        expect('{');
        auto result = std::make_shared<object>();
        if (peek() == '}') {
            ++at_;
            return value{result};
        }
        while (true) {
            if (peek() != '"') fail("expected a key");
            std::string key = parse_string();
            expect(':');
            if (!result->emplace(key, parse_value(depth + 1)).second) fail("duplicate key \"" + key + "\"");
            if (peek() == ',') {
                ++at_;
                continue;
            }
            expect('}');
            return value{result};
        }
    }
    value parse_array(int depth) {
        expect('[');
        auto result = std::make_shared<array>();
        if (peek() == ']') {
            ++at_;
            return value{result};
        }
        while (true) {
            result->push_back(parse_value(depth + 1));
            if (peek() == ',') {
                ++at_;
                continue;
            }
            expect(']');
            return value{result};
        }
    }
    std::string parse_string() {
        expect('"');
        std::string out;
        while (true) {
            if (at_ >= text_.size()) fail("unterminated string");
            const char c = text_[at_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ >= text_.size()) fail("unterminated escape");
            const char e = text_[at_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': append_code_point(out); break;
                default: fail("unknown escape");
            }
        }
    }
    void append_code_point(std::string& out) {
        if (text_.size() - at_ < 4) fail("short \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            code <<= 4;
            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        // UTF-8 encode (surrogate pairs are kept as two 3-byte sequences; names never need them).
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }
    double parse_number() {
        const std::size_t start = at_;
        if (at_ < text_.size() && text_[at_] == '-') ++at_;
        while (at_ < text_.size() && ((text_[at_] >= '0' && text_[at_] <= '9') || text_[at_] == '.' || text_[at_] == 'e' ||
                                      text_[at_] == 'E' || text_[at_] == '+' || text_[at_] == '-'))
            ++at_;
        if (start == at_) fail("expected a value");
        try {
            std::size_t used = 0;
            const std::string token(text_.substr(start, at_ - start));
            const double v = std::stod(token, &used);
            if (used != token.size()) fail("bad number");
            return v;
        } catch (const std::exception&) {
            fail("bad number");
        }
    }

    std::string_view text_;
    std::string source_;
    std::size_t at_ = 0;
};

inline value parse(std::string_view text, const std::string& source) { return parser(text, source).parse_document(); }

/// Writes `text` as a JSON string literal.
inline std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[(c >> 4) & 0xF];
            out += hex[c & 0xF];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace chroma::io::json
