#pragma once
// Errors thrown by Chroma. Every message names what went wrong in words a user can act on:
// the layer, the file or the shapes involved.
#include <exception>
#include <string>
#include <utility>

namespace chroma {

/// Base of every Chroma exception. The message can gain context (a layer path) as it
/// travels up through containers, so the user sees where in a network a problem arose.
class error : public std::exception {
public:
    explicit error(std::string message) : message_(std::move(message)), full_(message_) {}
    const char* what() const noexcept override { return full_.c_str(); }
    /// The message without the layer path.
    const std::string& message() const noexcept { return message_; }
    /// The hierarchical name of the layer where the error arose ("encoder.2"), or empty.
    const std::string& layer_path() const noexcept { return path_; }
    /// Prepends one level of layer path; containers call this as the error travels outwards,
    /// so what() reads "in layer 'encoder.2': Conv2d(...) expects 64 input channels, ...".
    void add_context(const std::string& segment) {
        if (segment.empty()) return;
        path_ = path_.empty() ? segment : segment + "." + path_;
        full_ = "in layer '" + path_ + "': " + message_;
    }

private:
    std::string message_, path_, full_;
};

/// A tensor or layer received a shape it cannot work with.
class shape_error : public error {
public:
    using error::error;
};

/// Misuse of an API: an index out of range, a call in the wrong order, a bad argument.
class usage_error : public error {
public:
    using error::error;
};

}  // namespace chroma
