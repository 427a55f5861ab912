#pragma once
// A read-only view of a whole file: memory-mapped where the system offers it (pages are read on
// demand and shared between processes), read into memory otherwise.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../io/atomic_file.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define CHROMA_HAS_MMAP 1
#endif

namespace chroma::data {

class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path) : path_(path) {
        const std::string name = path.string();
#if defined(CHROMA_HAS_MMAP)
        const int fd = ::open(name.c_str(), O_RDONLY);
        if (fd < 0) throw io::file_error("cannot open '" + name + "': " + std::strerror(errno));
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            ::close(fd);
            throw io::file_error("cannot read the size of '" + name + "'");
        }
        size_ = static_cast<std::size_t>(info.st_size);
        if (size_ > 0) {
            void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
            if (mapped == MAP_FAILED) {
                ::close(fd);
                throw io::file_error("cannot map '" + name + "' into memory: " + std::strerror(errno));
            }
            data_ = static_cast<const std::uint8_t*>(mapped);
        }
        ::close(fd);  // the mapping keeps the file open
#else
        std::ifstream in(path, std::ios::binary);
        if (!in) throw io::file_error("cannot open '" + name + "'");
        copy_.assign(std::istreambuf_iterator<char>(in), {});
        size_ = copy_.size();
        data_ = reinterpret_cast<const std::uint8_t*>(copy_.data());
#endif
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
#if defined(CHROMA_HAS_MMAP)
        if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
#endif
    }

    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
#if !defined(CHROMA_HAS_MMAP)
    std::vector<char> copy_;
#endif
};

}  // namespace chroma::data
