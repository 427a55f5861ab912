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

/// Writes a large file piece by piece with the same guarantee as write_file_atomically: the
/// pieces go to "<path>.partial", and commit() flushes, syncs and renames it over `path`. A writer
/// destroyed without commit() (an exception, an interrupted run) removes the partial file and
/// leaves `path` as it was.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::filesystem::path path)
        : path_(std::move(path)), temporary_(path_.string() + ".partial") {
        file_ = std::fopen(temporary_.c_str(), "wb");
        if (!file_)
            throw file_error("cannot write " + temporary_.string() + ": check that the folder exists and is writable");
    }
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
    ~AtomicFileWriter() {
        if (!file_) return;
        std::fclose(file_);
        std::error_code ignored;
        std::filesystem::remove(temporary_, ignored);
    }

    void write(const void* data, std::size_t size) {
        if (!file_) throw file_error("writing " + path_.string() + " after it was committed");
        if (size != 0 && std::fwrite(data, 1, size, file_) != size) fail("writing");
    }
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    /// Overwrites bytes already written (a header completed at the end), then returns to the end.
    void write_at(long offset, const void* data, std::size_t size) {
        if (!file_) throw file_error("writing " + path_.string() + " after it was committed");
        if (std::fseek(file_, offset, SEEK_SET) != 0 || std::fwrite(data, 1, size, file_) != size ||
            std::fseek(file_, 0, SEEK_END) != 0)
            fail("writing");
    }

    void commit() {
        if (!file_) throw file_error(path_.string() + " was already committed");
        const bool synced = std::fflush(file_) == 0
#if defined(__unix__) || defined(__APPLE__)
                            && ::fsync(::fileno(file_)) == 0
#endif
            ;
        const bool closed = std::fclose(file_) == 0;
        file_ = nullptr;
        std::error_code ignored;
        if (!synced || !closed) {
            std::filesystem::remove(temporary_, ignored);
            throw file_error("writing " + temporary_.string() + " failed (disk full?); " + path_.string() +
                             " is unchanged");
        }
        std::error_code renamed;
        std::filesystem::rename(temporary_, path_, renamed);
        if (renamed) {
            std::filesystem::remove(temporary_, ignored);
            throw file_error("cannot replace " + path_.string() + ": " + renamed.message());
        }
    }

private:
    [[noreturn]] void fail(const char* what) {
        std::fclose(file_);
        file_ = nullptr;
        std::error_code ignored;
        std::filesystem::remove(temporary_, ignored);
        throw file_error(std::string(what) + " " + temporary_.string() + " failed (disk full?); " + path_.string() +
                         " is unchanged");
    }

    std::filesystem::path path_, temporary_;
    std::FILE* file_ = nullptr;
};

inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
    AtomicFileWriter writer(path);
    writer.write(contents);
    writer.commit();
}

}  // namespace chroma::io
