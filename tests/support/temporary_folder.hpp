#pragma once
// A fresh folder under the system's temporary directory, removed when the test ends.
#include <atomic>
#include <filesystem>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace chroma::testing {

struct TemporaryFolder {
    std::filesystem::path path;
    explicit TemporaryFolder(const std::string& label = "test") {
        static std::atomic<int> counter{0};
        long process = 0;
#if defined(__unix__) || defined(__APPLE__)
        process = static_cast<long>(::getpid());
#endif
        path = std::filesystem::temp_directory_path() /
               ("chroma_" + label + "_" + std::to_string(process) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    TemporaryFolder(const TemporaryFolder&) = delete;
    TemporaryFolder& operator=(const TemporaryFolder&) = delete;
    ~TemporaryFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace chroma::testing
