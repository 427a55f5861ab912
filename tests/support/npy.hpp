#pragma once
// Reads NumPy .npy files of little-endian float64 ('<f8') or int64 ('<i8') in C order: enough
// for the reference data the tests compare against (format version 1, 2 or 3).
#include <chroma/core/error.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace chroma::testing {

struct NpyArray {
    std::vector<std::int64_t> shape;
    std::vector<double> values;  // int64 data converted to double (exact below 2^53)
};

inline NpyArray read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error("cannot open " + path);
    char magic[8];
    in.read(magic, 8);
    if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw usage_error(path + " is not a .npy file");
    std::uint32_t header_length = 0;
    if (magic[6] == 1) {
        unsigned char two[2];
        in.read(reinterpret_cast<char*>(two), 2);
        header_length = two[0] | (two[1] << 8u);
    } else {
        unsigned char four[4];
        in.read(reinterpret_cast<char*>(four), 4);
        header_length = four[0] | (four[1] << 8u) | (four[2] << 16u) | (static_cast<std::uint32_t>(four[3]) << 24u);
    }
    std::string header(header_length, '\0');
    in.read(header.data(), header_length);
    if (!in) throw usage_error(path + " has a truncated header");

    const bool is_float = header.find("'descr': '<f8'") != std::string::npos;
    const bool is_int = header.find("'descr': '<i8'") != std::string::npos;
    if (!is_float && !is_int) throw usage_error(path + ": only '<f8' and '<i8' arrays are read, header: " + header);
    if (header.find("'fortran_order': False") == std::string::npos)
        throw usage_error(path + ": only C-order arrays are read");

    NpyArray array;
    const auto open = header.find("'shape': (");
    if (open == std::string::npos) throw usage_error(path + ": no shape in header");
    std::size_t at = open + 10;
    std::int64_t count = 1;
    while (at < header.size() && header[at] != ')') {
        if (header[at] >= '0' && header[at] <= '9') {
            std::size_t used = 0;
            const std::int64_t dim = std::stoll(header.substr(at), &used);
            array.shape.push_back(dim);
            count *= dim;
            at += used;
        } else {
            ++at;
        }
    }
    array.values.resize(static_cast<std::size_t>(count));
    for (auto& v : array.values) {
        unsigned char bytes[8];
        in.read(reinterpret_cast<char*>(bytes), 8);
        std::uint64_t bits = 0;
        for (int i = 7; i >= 0; --i) bits = (bits << 8u) | bytes[i];
        if (is_float) {
            std::memcpy(&v, &bits, 8);
        } else {
            std::int64_t integer;
            std::memcpy(&integer, &bits, 8);
            v = static_cast<double>(integer);
        }
    }
    if (!in) throw usage_error(path + " is truncated");
    return array;
}

}  // namespace chroma::testing
