#pragma once
// CIFAR-10's binary format (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"): each
// record is one label byte then a 32x32 image as three 1024-byte planes, red, green, blue.
// The training set is data_batch_1.bin .. data_batch_5.bin, the test set test_batch.bin.
#include <algorithm>
#include <array>
#include <iterator>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "image.hpp"

namespace chroma::data {

class Cifar10 {
public:
    static constexpr int side = 32;
    static constexpr std::size_t image_bytes = 3 * side * side;
    static constexpr std::size_t record_bytes = 1 + image_bytes;
    enum class Part { train, test };

    /// `location` is one .bin file, or the folder holding the batches (then `part` picks
    /// data_batch_1..5.bin or test_batch.bin). Everything is read into memory (150 MB for the
    /// training set). A missing file or a size that is not a whole number of records throws
    /// image_error naming the file.
    explicit Cifar10(const std::filesystem::path& location, Part part = Part::train) {
        std::error_code ec;
        if (std::filesystem::is_directory(location, ec)) {
            if (part == Part::train)
                for (int i = 1; i <= 5; ++i) read_batch(location / ("data_batch_" + std::to_string(i) + ".bin"));
            else
                read_batch(location / "test_batch.bin");
        } else {
            read_batch(location);
        }
    }

    std::size_t size() const { return labels_.size(); }
    int label(std::size_t index) const { return labels_.at(index); }
    std::string name(std::size_t index) const {
        if (index >= size()) throw usage_error("CIFAR-10 has " + std::to_string(size()) + " images, asked for number " +
                                               std::to_string(index));
        // The batch file holding this record: the last one whose first record is at or before it.
        const auto batch = std::prev(std::upper_bound(first_record_.begin(), first_record_.end(), index));
        const auto file = static_cast<std::size_t>(batch - first_record_.begin());
        return files_[file] + " record " + std::to_string(index - *batch);
    }
    FloatImage load(std::size_t index) const {
        if (index >= size())
            throw usage_error("CIFAR-10 has " + std::to_string(size()) + " images, asked for number " +
                              std::to_string(index));
        const std::uint8_t* planes = pixels_.data() + index * image_bytes;
        FloatImage image;
        image.width = side;
        image.height = side;
        image.channels = 3;
        image.values.resize(image_bytes);
        constexpr std::size_t plane = side * side;
        for (std::size_t p = 0; p < plane; ++p)
            for (std::size_t c = 0; c < 3; ++c) image.values[p * 3 + c] = planes[c * plane + p] / 255.0f;
        return image;
    }

private:
    void read_batch(const std::filesystem::path& path) {
        const std::string name = path.string();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
            throw image_not_found_error("CIFAR-10 batch '" + name + "' does not exist");
        const auto bytes = std::filesystem::file_size(path, ec);
        if (ec || bytes == 0 || bytes % record_bytes != 0)
            throw corrupt_image_error("CIFAR-10 batch '" + name + "' has " + std::to_string(bytes) +
                                      " bytes, not a whole number of " + std::to_string(record_bytes) +
                                      "-byte records (truncated, or not the binary version?)");
        std::ifstream in(path, std::ios::binary);
        std::vector<std::uint8_t> record(record_bytes);
        const std::size_t count = bytes / record_bytes;
        pixels_.reserve(pixels_.size() + count * image_bytes);
        files_.push_back(name);
        first_record_.push_back(labels_.size());
        for (std::size_t i = 0; i < count; ++i) {
            if (!in.read(reinterpret_cast<char*>(record.data()), static_cast<std::streamsize>(record_bytes)))
                throw corrupt_image_error("CIFAR-10 batch '" + name + "' could not be read at record " +
                                          std::to_string(i));
            if (record[0] > 9)
                throw corrupt_image_error("CIFAR-10 batch '" + name + "' record " + std::to_string(i) +
                                          " has label " + std::to_string(record[0]) + " (labels are 0 to 9)");
            labels_.push_back(record[0]);
            pixels_.insert(pixels_.end(), record.begin() + 1, record.end());
        }
    }

    std::vector<std::uint8_t> pixels_;
    std::vector<int> labels_;
    std::vector<std::string> files_;          // the batch files read, in order
    std::vector<std::size_t> first_record_;  // index of each file's first image
};

static_assert(ImageDataset<Cifar10>);

}  // namespace chroma::data
