#pragma once
// Reading and writing safetensors files (the format PyTorch models are commonly shared in):
//   u64 header length N (little-endian) | N bytes of JSON header | raw little-endian tensor data
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// into the data section) and may hold "__metadata__" (string to string).
// Reading accepts F64, F32, F16, BF16, I64 and I32 and converts to the tensor's type; writing uses
// F32 for float tensors and F64 for double. Every inconsistency is an error naming the file and
// the tensor: offsets out of range or overlapping, a size that does not match dtype and shape.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../core/parameter.hpp"
#include "checkpoint.hpp"  // dims_of, dims_text, shape errors
#include "json_lite.hpp"

namespace chroma::io {

namespace detail {

template <class V>
V load(const char* p) {
    V value;
    std::memcpy(&value, p, sizeof(V));
    return value;
}

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    std::uint32_t exponent = (h >> 10) & 0x1Fu;
    std::uint32_t mantissa = h & 0x3FFu;
    std::uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);  // inf or NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;  // zero
    } else {  // subnormal: normalise
        exponent = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --exponent;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(bits);
}

inline std::size_t dtype_size(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64") return 8;
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F16" || dtype == "BF16") return 2;
    return 0;
}

template <class T>
T element_as(const std::string& dtype, const char* p) {
    if (dtype == "F32") return static_cast<T>(std::bit_cast<float>(load<std::uint32_t>(p)));
    if (dtype == "F64") return static_cast<T>(std::bit_cast<double>(load<std::uint64_t>(p)));
    if (dtype == "F16") return static_cast<T>(half_to_float(load<std::uint16_t>(p)));
    if (dtype == "BF16") return static_cast<T>(std::bit_cast<float>(static_cast<std::uint32_t>(load<std::uint16_t>(p)) << 16));
    if (dtype == "I64") return static_cast<T>(static_cast<std::int64_t>(load<std::uint64_t>(p)));
    return static_cast<T>(static_cast<std::int32_t>(load<std::uint32_t>(p)));  // I32
}

}  // namespace detail

class SafetensorsFile {
public:
    struct info {
        std::string dtype;
        std::vector<std::int64_t> dims;
        std::uint64_t begin = 0, end = 0;
    };

    static SafetensorsFile load(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw file_error("cannot open " + path.string());
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return parse(std::move(bytes), path.string());
    }

    static SafetensorsFile parse(std::string bytes, const std::string& source) {
        SafetensorsFile f;
        f.source_ = source;
        if (bytes.size() < 8) throw file_error(source + " is too short to be a safetensors file");
        std::uint64_t header_size;
        std::memcpy(&header_size, bytes.data(), 8);
        if (header_size > bytes.size() - 8 || header_size > (100u << 20))
            throw file_error(source + " is not a safetensors file or is truncated: its header claims " +
                             std::to_string(header_size) + " bytes");
        const json::value header = json::parse(std::string_view(bytes).substr(8, header_size), source);
        if (!header.is_object()) throw file_error(source + ": the safetensors header is not a JSON object");
        f.data_ = bytes.substr(8 + header_size);
        for (const auto& [name, entry] : header.as_object()) {
            if (name == "__metadata__") {
                if (!entry.is_object()) throw file_error(source + ": __metadata__ is not an object");
                for (const auto& [k, v] : entry.as_object())
                    if (v.is_string()) f.metadata_[k] = v.as_string();
                continue;
            }
            f.tensors_[name] = read_info(source, name, entry, f.data_.size());
        }
        // Tensors may not overlap (PyTorch's writer packs them back to back).
        std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
        for (const auto& [name, t] : f.tensors_) spans.emplace_back(t.begin, t.end);
        std::sort(spans.begin(), spans.end());
        for (std::size_t i = 1; i < spans.size(); ++i)
            if (spans[i].first < spans[i - 1].second) throw file_error(source + ": tensor data ranges overlap");
        return f;
    }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, t] : tensors_) out.push_back(name);
        return out;
    }
    bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
    const info& tensor_info(const std::string& name) const {
        const auto it = tensors_.find(name);
        if (it == tensors_.end()) throw file_error(source_ + " has no tensor '" + name + "'");
        return it->second;
    }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    /// Copies tensor `name` into `tensor` (already of the expected shape), converting the dtype.
    template <class T>
    void get(const std::string& name, Tensor<T, cpu>& tensor, int rank = 4) const {
        const info& t = tensor_info(name);
        const auto expected = dims_of(tensor.shape(), rank);
        if (t.dims != expected)
            throw shape_error(source_ + ": tensor '" + name + "' has shape " + dims_text(t.dims) + " in the file but " +
                              dims_text(expected) + " in the model");
        const std::size_t size = detail::dtype_size(t.dtype);
        for (index_t i = 0; i < tensor.size(); ++i)
            tensor.data()[i] = detail::element_as<T>(t.dtype, data_.data() + t.begin + i * size);
    }

private:
    static info read_info(const std::string& source, const std::string& name, const json::value& entry,
                          std::size_t data_size) {
        const std::string where = source + ": tensor '" + name + "'";
        if (!entry.is_object()) throw file_error(where + " is not described by an object");
        const auto& o = entry.as_object();
        const auto field = [&](const char* key) -> const json::value& {
            const auto it = o.find(key);
            if (it == o.end()) throw file_error(where + " has no \"" + key + "\"");
            return it->second;
        };
        info t;
        if (!field("dtype").is_string()) throw file_error(where + ": dtype is not a string");
        t.dtype = field("dtype").as_string();
        if (detail::dtype_size(t.dtype) == 0)
            throw file_error(where + " has dtype " + t.dtype + "; supported: F64, F32, F16, BF16, I64, I32");
        std::uint64_t count = 1;
        if (!field("shape").is_array()) throw file_error(where + ": shape is not an array");
        for (const auto& d : field("shape").as_array()) {
            // Range first: converting a double beyond int64's range to an integer is undefined.
            const double n = d.is_number() ? d.as_number() : -1.0;
            if (!(n >= 0.0 && n <= 9007199254740992.0) || n != std::floor(n))  // 2^53: exact in a double
                throw file_error(where + ": shape holds something other than a non-negative integer below 2^53");
            t.dims.push_back(static_cast<std::int64_t>(n));
            const auto dim = static_cast<std::uint64_t>(t.dims.back());
            if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim)
                throw file_error(where + ": shape " + dims_text(t.dims) + "... holds more values than any file can");
            count *= dim;
        }
        const auto& offsets = field("data_offsets");
        if (!offsets.is_array() || offsets.as_array().size() != 2 || !offsets.as_array()[0].is_number() ||
            !offsets.as_array()[1].is_number())
            throw file_error(where + ": data_offsets is not a pair of numbers");
        const double begin = offsets.as_array()[0].as_number(), end = offsets.as_array()[1].as_number();
        if (begin < 0 || end < begin || end > static_cast<double>(data_size))
            throw file_error(where + " points outside the file's data (the file may be truncated)");
        t.begin = static_cast<std::uint64_t>(begin);
        t.end = static_cast<std::uint64_t>(end);
        if (t.end - t.begin != count * detail::dtype_size(t.dtype))
            throw file_error(where + ": " + std::to_string(t.end - t.begin) + " bytes do not hold a " + t.dtype + " " +
                             dims_text(t.dims) + " tensor");
        return t;
    }

    std::string source_;
    std::string data_;
    std::map<std::string, info> tensors_;
    std::map<std::string, std::string> metadata_;
};

/// Collects tensors and writes a safetensors file.
class SafetensorsWriter {
public:
    template <class T>
    void add(const std::string& name, const Tensor<T, cpu>& tensor, int rank = 4) {
        const auto dims = dims_of(tensor.shape(), rank);
        std::string shape = "[";
        for (std::size_t i = 0; i < dims.size(); ++i) shape += (i ? "," : "") + std::to_string(dims[i]);
        shape += "]";
        const std::size_t begin = data_.size();
        data_.append(reinterpret_cast<const char*>(tensor.data()), tensor.size() * sizeof(T));
        if (!header_.empty()) header_ += ",";
        header_ += json::quote(name) + ":{\"dtype\":\"" + (sizeof(T) == 4 ? "F32" : "F64") + "\",\"shape\":" + shape +
                   ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data_.size()) + "]}";
    }
    void add_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    std::string serialize() const {
        std::string header = "{";
        if (!metadata_.empty()) {
            header += "\"__metadata__\":{";
            bool first = true;
            for (const auto& [k, v] : metadata_) {
                header += (first ? "" : ",") + json::quote(k) + ":" + json::quote(v);
                first = false;
            }
            header += "}";
            if (!header_.empty()) header += ",";
        }
        header += header_ + "}";
        header.append((8 - header.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
        const std::uint64_t size = header.size();
        std::string out(reinterpret_cast<const char*>(&size), 8);
        return out + header + data_;
    }
    void save(const std::filesystem::path& path) const { write_file_atomically(path, serialize()); }

private:
    std::string header_, data_;
    std::map<std::string, std::string> metadata_;
};

/// Writes every parameter and statistic of `net` under its PyTorch-style name.
template <class Net>
void save_safetensors(const std::filesystem::path& path, Net& net,
                      const std::map<std::string, std::string>& metadata = {}) {
    SafetensorsWriter writer;
    for (const auto& [k, v] : metadata) writer.add_metadata(k, v);
    net.visit_parameters([&](std::string_view name, auto& p) { writer.add(std::string(name), p.value, p.rank); });
    writer.save(path);
}

/// Whether `name` is a BatchNorm's batch counter, which PyTorch's state_dicts may lack
/// (torchvision's original resnet18 file and other state_dicts older than PyTorch 0.4.1): PyTorch
/// loads such a file with the counter at 0, and so does Chroma. It changes nothing at a fixed
/// momentum.
inline bool is_batch_counter(std::string_view name) {
    return name == "num_batches_tracked" || name.ends_with(".num_batches_tracked");
}

/// Loads every parameter and statistic of `net` from a safetensors file with the same names
/// (a PyTorch state_dict exported with safetensors). With `strict`, the file may hold no tensor
/// the model lacks. A missing BatchNorm batch counter reads as 0 (see is_batch_counter).
template <class Net>
void load_safetensors(const SafetensorsFile& file, Net& net, bool strict = true) {
    std::map<std::string, bool> used;
    net.visit_parameters([&](std::string_view name, auto& p) {
        const std::string key(name);
        if (!file.contains(key) && is_batch_counter(key)) {
            p.value.fill(0);
            return;
        }
        if (!file.contains(key))
            throw file_error("the safetensors file has no tensor '" + key + "' that the model needs");
        file.get(key, p.value, p.rank);
        used[key] = true;
    });
    if (strict)
        for (const auto& name : file.names())
            if (!used.count(name))
                throw file_error("the safetensors file has tensor '" + name + "' that the model lacks");
}

template <class Net>
void load_safetensors(const std::filesystem::path& path, Net& net, bool strict = true) {
    load_safetensors(SafetensorsFile::load(path), net, strict);
}

/// What load_matching_safetensors took and left.
struct PartialLoad {
    std::vector<std::string> loaded;       // the model's tensors read from the file
    std::vector<std::string> not_in_file;  // the model's tensors the file lacks: left as they were
    std::vector<std::string> other_shape;  // in both, but of another shape: left as they were
};

/// Starts `net` from another model's file: every tensor of the model that the file holds under
/// the same name and with the same shape is read; the rest (a new head, say) is left as it was
/// and named in the result. Tensors of the file that the model lacks are ignored.
template <class Net>
PartialLoad load_matching_safetensors(const SafetensorsFile& file, Net& net) {
    PartialLoad result;
    net.visit_parameters([&](std::string_view name, auto& p) {
        const std::string key(name);
        if (!file.contains(key)) {
            result.not_in_file.push_back(key);
            return;
        }
        if (file.tensor_info(key).dims != dims_of(p.value.shape(), p.rank)) {
            result.other_shape.push_back(key);
            return;
        }
        file.get(key, p.value, p.rank);
        result.loaded.push_back(key);
    });
    return result;
}

}  // namespace chroma::io
