#pragma once
// Writing a file so that readers only ever see the old or the complete new contents: write a
// temporary file beside it, flush it to disk, then rename it over the target.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "../core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace chroma::io {

/// A file could not be read or written, or its contents are not what they should be.
class file_error : public error {
public:
    using error::error;
};

inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
    const std::filesystem::path temporary = path.string() + ".partial";
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (!file) throw file_error("cannot write " + temporary.string() + ": check that the folder exists and is writable");
    const bool written = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size() &&
                         std::fflush(file) == 0
#if defined(__unix__) || defined(__APPLE__)
                         && ::fsync(::fileno(file)) == 0
#endif
        ;
    const bool closed = std::fclose(file) == 0;
    std::error_code ignored;
    if (!written || !closed) {
        std::filesystem::remove(temporary, ignored);
        throw file_error("writing " + temporary.string() + " failed (disk full?); " + path.string() + " is unchanged");
    }
    std::error_code renamed;
    std::filesystem::rename(temporary, path, renamed);
    if (renamed) {
        std::filesystem::remove(temporary, ignored);
        throw file_error("cannot replace " + path.string() + ": " + renamed.message());
    }
}

}  // namespace chroma::io
