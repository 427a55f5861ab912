#pragma once
// Checkpoints: named tensors and values (model parameters, BatchNorm statistics, optimiser state,
// schedule state, epoch, step, RNG state) in one binary file with a header, a version and a
// checksum, written atomically.
//
// File layout (little-endian):
//   "CHROMACK"        8 bytes, magic
//   u32 version       currently 1
//   u32 entry count
//   u64 payload size  in bytes
//   u32 CRC-32        of the payload
//   payload           entries, each: u8 kind, u32 name length, name bytes, then by kind
//                       0 float tensor / 1 double tensor: u8 rank, rank x i64 dims, values
//                       2 integer: i64     3 real: f64     4 text: u64 length, bytes
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../core/parameter.hpp"
#include "../core/tensor.hpp"
#include "atomic_file.hpp"
#include "crc32.hpp"

namespace chroma::io {

static_assert(std::endian::native == std::endian::little,
              "chroma checkpoints are little-endian; add byte swapping to support this platform");

/// The PyTorch dims of a tensor stored as NCHW: rank 4 as is, rank 1 as [n], rank 0 as [].
inline std::vector<std::int64_t> dims_of(const Shape& s, int rank) {
    if (rank == 4) return {s.n, s.c, s.h, s.w};
    if (rank == 1) return {s.count()};
    if (rank == 0) return {};
    if (rank == 2) return {s.n, s.c * s.h * s.w};
    throw usage_error("tensors are stored with rank 0, 1, 2 or 4, not " + std::to_string(rank));
}
inline Shape shape_of(const std::vector<std::int64_t>& dims) {
    switch (dims.size()) {
        case 0: return Shape{.n = 1, .c = 1, .h = 1, .w = 1};
        case 1: return Shape{.n = dims[0], .c = 1, .h = 1, .w = 1};
        case 2: return Shape{.n = dims[0], .c = dims[1], .h = 1, .w = 1};
        case 4: return Shape{.n = dims[0], .c = dims[1], .h = dims[2], .w = dims[3]};
        default: throw usage_error("tensors of rank " + std::to_string(dims.size()) + " are not supported");
    }
}
inline std::string dims_text(const std::vector<std::int64_t>& dims) {
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
}

class Checkpoint {
public:
    static constexpr std::uint32_t version = 1;

    enum class kind : std::uint8_t { float_tensor = 0, double_tensor = 1, integer = 2, real = 3, text = 4 };

    template <class T>
    void put(const std::string& name, const Tensor<T, cpu>& tensor, int rank = 4) {
        entry e;
        e.type = std::is_same_v<T, float> ? kind::float_tensor : kind::double_tensor;
        e.dims = dims_of(tensor.shape(), rank);
        e.bytes.assign(reinterpret_cast<const char*>(tensor.data()),
                       reinterpret_cast<const char*>(tensor.data() + tensor.size()));
        entries_[name] = std::move(e);
    }
    void put_integer(const std::string& name, std::int64_t value) { put_scalar(name, kind::integer, &value); }
    void put_real(const std::string& name, double value) { put_scalar(name, kind::real, &value); }
    void put_text(const std::string& name, std::string_view value) {
        entries_[name] = entry{kind::text, {}, std::string(value)};
    }

    bool contains(const std::string& name) const { return entries_.count(name) != 0; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, e] : entries_) out.push_back(name);
        return out;
    }

    /// Copies entry `name` into `tensor`, which must already have the matching shape; floats and
    /// doubles convert. A missing entry or a shape mismatch is an error naming both shapes.
    template <class T>
    void get(const std::string& name, Tensor<T, cpu>& tensor, int rank = 4) const {
        const entry& e = find(name);
        if (e.type != kind::float_tensor && e.type != kind::double_tensor)
            throw file_error(where_ + ": entry '" + name + "' is not a tensor");
        const auto expected = dims_of(tensor.shape(), rank);
        if (e.dims != expected)
            throw shape_error(where_ + ": '" + name + "' has shape " + dims_text(e.dims) + " in the checkpoint but " +
                              dims_text(expected) + " in the model");
        if (e.type == kind::float_tensor)
            copy_converted<float>(e, tensor);
        else
            copy_converted<double>(e, tensor);
    }
    std::int64_t get_integer(const std::string& name) const { return get_scalar<std::int64_t>(name, kind::integer); }
    double get_real(const std::string& name) const { return get_scalar<double>(name, kind::real); }
    std::string get_text(const std::string& name) const {
        const entry& e = find(name);
        if (e.type != kind::text) throw file_error(where_ + ": entry '" + name + "' is not text");
        return e.bytes;
    }

    std::string serialize() const {
        std::string payload;
        for (const auto& [name, e] : entries_) {
            append(payload, static_cast<std::uint8_t>(e.type));
            append(payload, static_cast<std::uint32_t>(name.size()));
            payload += name;
            if (e.type == kind::float_tensor || e.type == kind::double_tensor) {
                append(payload, static_cast<std::uint8_t>(e.dims.size()));
                for (auto d : e.dims) append(payload, d);
            } else if (e.type == kind::text) {
                append(payload, static_cast<std::uint64_t>(e.bytes.size()));
            }
            payload += e.bytes;
        }
        std::string file = "CHROMACK";
        append(file, version);
        append(file, static_cast<std::uint32_t>(entries_.size()));
        append(file, static_cast<std::uint64_t>(payload.size()));
        append(file, crc32(payload.data(), payload.size()));
        return file + payload;
    }

    /// Parses a checkpoint; `source` names it in error messages.
    static Checkpoint parse(std::string_view bytes, const std::string& source) {
        Checkpoint c;
        c.where_ = source;
        reader in{bytes, 0, source};
        if (bytes.size() < 8 || bytes.substr(0, 8) != "CHROMACK")
            throw file_error(source + " is not a Chroma checkpoint (no CHROMACK header)");
        in.at = 8;
        const auto file_version = in.read<std::uint32_t>("the version");
        if (file_version != version)
            throw file_error(source + " has checkpoint format version " + std::to_string(file_version) +
                             "; this build reads version " + std::to_string(version));
        const auto count = in.read<std::uint32_t>("the entry count");
        const auto size = in.read<std::uint64_t>("the payload size");
        const auto checksum = in.read<std::uint32_t>("the checksum");
        if (bytes.size() - in.at != size)
            throw file_error(source + " is truncated or has trailing bytes: the header promises " + std::to_string(size) +
                             " bytes of data, the file holds " + std::to_string(bytes.size() - in.at));
        if (crc32(bytes.data() + in.at, size) != checksum)
            throw file_error(source + " is corrupt: its checksum does not match its contents");
        for (std::uint32_t i = 0; i < count; ++i) {
            entry e;
            e.type = static_cast<kind>(in.read<std::uint8_t>("an entry kind"));
            const std::string name(in.take(in.read<std::uint32_t>("a name length"), "a name"));
            std::uint64_t length = 8;
            if (e.type == kind::float_tensor || e.type == kind::double_tensor) {
                const auto rank = in.read<std::uint8_t>("a rank");
                std::uint64_t count_values = 1;
                for (int d = 0; d < rank; ++d) {
                    e.dims.push_back(in.read<std::int64_t>("a dimension"));
                    if (e.dims.back() < 0) throw file_error(source + ": entry '" + name + "' has a negative dimension");
                    const auto extent = static_cast<std::uint64_t>(e.dims.back());
                    // Dimensions whose product overflows would wrap to a small length that fits.
                    if (extent != 0 && count_values > (std::uint64_t(1) << 60) / extent)
                        throw file_error(source + ": entry '" + name + "' claims more values than any file holds");
                    count_values *= extent;
                }
                length = count_values * (e.type == kind::float_tensor ? 4 : 8);
            } else if (e.type == kind::text) {
                length = in.read<std::uint64_t>("a text length");
            } else if (e.type != kind::integer && e.type != kind::real) {
                throw file_error(source + ": entry '" + name + "' has an unknown kind");
            }
            e.bytes = std::string(in.take(length, "the data of '" + name + "'"));
            c.entries_[name] = std::move(e);
        }
        return c;
    }

    /// Writes atomically: a crash mid-write leaves the previous file intact.
    void save(const std::filesystem::path& path) const { write_file_atomically(path, serialize()); }

    static Checkpoint load(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw file_error("cannot open checkpoint " + path.string());
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return parse(bytes, path.string());
    }

private:
    struct entry {
        kind type = kind::integer;
        std::vector<std::int64_t> dims;
        std::string bytes;
    };
    struct reader {
        std::string_view bytes;
        std::size_t at;
        const std::string& source;
        std::string_view take(std::uint64_t length, const std::string& what) {
            if (length > bytes.size() - at)
                throw file_error(source + " is truncated: it ends inside " + what);
            const auto out = bytes.substr(at, length);
            at += length;
            return out;
        }
        template <class V>
        V read(const std::string& what) {
            V value;
            std::memcpy(&value, take(sizeof(V), what).data(), sizeof(V));
            return value;
        }
    };

    template <class V>
    static void append(std::string& out, V value) {
        out.append(reinterpret_cast<const char*>(&value), sizeof(V));
    }
    void put_scalar(const std::string& name, kind type, const void* value) {
        entries_[name] = entry{type, {}, std::string(static_cast<const char*>(value), 8)};
    }
    template <class V>
    V get_scalar(const std::string& name, kind type) const {
        const entry& e = find(name);
        if (e.type != type) throw file_error(where_ + ": entry '" + name + "' has another type");
        V value;
        std::memcpy(&value, e.bytes.data(), sizeof(V));
        return value;
    }
    const entry& find(const std::string& name) const {
        const auto it = entries_.find(name);
        if (it == entries_.end()) throw file_error(where_ + " has no entry '" + name + "'");
        return it->second;
    }
    template <class Stored, class T>
    static void copy_converted(const entry& e, Tensor<T, cpu>& tensor) {
        const index_t n = tensor.size();
        for (index_t i = 0; i < n; ++i) {
            Stored v;
            std::memcpy(&v, e.bytes.data() + i * sizeof(Stored), sizeof(Stored));
            tensor.data()[i] = static_cast<T>(v);
        }
    }

    std::map<std::string, entry> entries_;
    std::string where_ = "checkpoint";
};

/// Stores every parameter and statistic of `net` under prefix + its name.
template <class Net>
void save_parameters(Checkpoint& checkpoint, Net& net, const std::string& prefix = "model.") {
    net.visit_parameters([&](std::string_view name, auto& p) { checkpoint.put(prefix + std::string(name), p.value, p.rank); });
}

/// Restores every parameter and statistic of `net`; every one must be present with its shape,
/// and the checkpoint must hold no parameter the model lacks (a sign of the wrong model).
template <class Net>
void load_parameters(const Checkpoint& checkpoint, Net& net, const std::string& prefix = "model.") {
    std::map<std::string, bool> expected;
    net.visit_parameters([&](std::string_view name, auto& p) {
        const std::string key = prefix + std::string(name);
        if (!checkpoint.contains(key))
            throw file_error("the checkpoint has no parameter '" + std::string(name) + "' (is it from another model?)");
        checkpoint.get(key, p.value, p.rank);
        expected[key] = true;
    });
    for (const auto& key : checkpoint.names())
        if (key.starts_with(prefix) && !expected.count(key))
            throw file_error("the checkpoint has parameter '" + key.substr(prefix.size()) +
                             "' that the model lacks (is it from another model?)");
}

}  // namespace chroma::io
