#pragma once
// A folder of photos, searched recursively: ImageNet, Places, CelebA, Tiny ImageNet or a folder
// of personal photos all look like this. Files are listed once, sorted by path, so the order (and
// with it every shuffle and split) is the same on every machine.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "file_split.hpp"
#include "image.hpp"

namespace chroma::data {

/// The extensions listed as images (lower case; matching ignores case).
inline const std::vector<std::string>& image_extensions() {
    static const std::vector<std::string> extensions = {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif"};
    return extensions;
}

inline bool has_image_extension(const std::filesystem::path& path) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto& known = image_extensions();
    return std::find(known.begin(), known.end(), extension) != known.end();
}

/// Every file with an image extension under `root` (recursively, following no symlinked
/// folders), sorted. Hidden files and folders (names starting with '.') are skipped.
inline std::vector<std::filesystem::path> list_images(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(root, ec)) throw image_not_found_error("image folder '" + root.string() + "' does not exist");
    if (!fs::is_directory(root, ec)) {
        if (has_image_extension(root)) return {root};
        throw image_error("'" + root.string() + "' is neither a folder nor an image file");
    }
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw image_error("cannot list the folder '" + root.string() + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) throw image_error("cannot list the folder '" + root.string() + "': " + ec.message());
        const std::string leaf = it->path().filename().string();
        if (!leaf.empty() && leaf[0] == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec) && has_image_extension(it->path())) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// Images from a list of files (usually list_images of a folder, or one half of a split).
/// load(i) decodes file i to float RGB(A) as stored; it throws an image_error naming the file
/// when the file is missing, damaged, not an image or over the pixel limit.
class ImageFiles {
public:
    explicit ImageFiles(std::vector<std::filesystem::path> files, ImageLimits limits = {})
        : files_(std::move(files)), limits_(limits) {}

    std::size_t size() const { return files_.size(); }
    std::string name(std::size_t index) const { return files_.at(index).string(); }
    const std::filesystem::path& path(std::size_t index) const { return files_.at(index); }
    const std::vector<std::filesystem::path>& files() const { return files_; }
    FloatImage load(std::size_t index) const { return load_image_float(files_.at(index), 0, limits_); }

private:
    std::vector<std::filesystem::path> files_;
    ImageLimits limits_;
};

static_assert(ImageDataset<ImageFiles>);

/// A folder's images split by file into train and validation (see split_by_file).
struct FolderSplit {
    ImageFiles train;
    ImageFiles validation;
};

inline FolderSplit split_image_folder(const std::filesystem::path& root, double validation_fraction = 0.1,
                                      std::uint64_t seed = 0, ImageLimits limits = {}) {
    const auto files = list_images(root);
    if (files.empty()) throw image_error("no images (" + std::string(".jpg .jpeg .png .bmp .tga .gif") + ") under '" + root.string() + "'");
    FileSplit split = split_by_file(files, validation_fraction, seed, root);
    return {ImageFiles(std::move(split.train), limits), ImageFiles(std::move(split.validation), limits)};
}

}  // namespace chroma::data
