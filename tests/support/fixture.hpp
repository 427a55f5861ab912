#pragma once
// Reads the reference fixtures written by tests/reference/make_fixtures.py (PyTorch, float64).
//
// Format (little-endian): "CHROMAFX", u32 count, then per tensor: u32 name length, name bytes,
// u32 rank, rank x i64 dims, f64 values in row-major order.
#include <chroma/chroma.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace chroma::testing {

struct FixtureTensor {
    std::vector<std::int64_t> dims;
    std::vector<double> values;

    /// The NCHW shape this tensor has in Chroma: rank-4 as is, rank 1 as [N=d0, 1, 1, 1],
    /// rank 0 as [1, 1, 1, 1].
    Shape shape() const {
        std::int64_t d[4] = {1, 1, 1, 1};
        if (dims.size() == 4) std::copy(dims.begin(), dims.end(), d);
        else if (dims.size() == 1) d[0] = dims[0];
        else if (!dims.empty()) throw usage_error("fixture tensors are rank 0, 1 or 4");
        return Shape{.n = d[0], .c = d[1], .h = d[2], .w = d[3]};
    }
    Tensor<double> tensor() const {
        Tensor<double> t(shape());
        std::copy(values.begin(), values.end(), t.data());
        return t;
    }
    double scalar() const { return values.at(0); }
};

class Fixture {
public:
    explicit Fixture(const std::string& name) : path_(std::string(CHROMA_FIXTURE_DIR) + "/" + name + ".bin") {
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw usage_error("cannot open fixture " + path_ + " (run tests/reference/make_fixtures.py)");
        char magic[8];
        in.read(magic, 8);
        if (!in || std::string_view(magic, 8) != "CHROMAFX") throw usage_error(path_ + " is not a Chroma fixture");
        const auto count = read<std::uint32_t>(in);
        for (std::uint32_t i = 0; i < count; ++i) {
            std::string key(read<std::uint32_t>(in), '\0');
            in.read(key.data(), static_cast<std::streamsize>(key.size()));
            FixtureTensor t;
            t.dims.resize(read<std::uint32_t>(in));
            std::int64_t total = 1;
            for (auto& d : t.dims) total *= (d = read<std::int64_t>(in));
            t.values.resize(static_cast<std::size_t>(total));
            in.read(reinterpret_cast<char*>(t.values.data()), static_cast<std::streamsize>(total * sizeof(double)));
            if (!in) throw usage_error(path_ + " is truncated");
            tensors_.emplace(std::move(key), std::move(t));
        }
    }

    bool has(const std::string& key) const { return tensors_.count(key) != 0; }
    int count_with_prefix(std::string_view prefix) const {
        int count = 0;
        for (const auto& entry : tensors_) count += entry.first.starts_with(prefix) ? 1 : 0;
        return count;
    }
    const FixtureTensor& operator[](const std::string& key) const {
        auto it = tensors_.find(key);
        if (it == tensors_.end()) throw usage_error(path_ + " has no tensor '" + key + "'");
        return it->second;
    }

private:
    template <class V>
    static V read(std::ifstream& in) {
        V value{};
        in.read(reinterpret_cast<char*>(&value), sizeof(V));
        return value;
    }
    std::string path_;
    std::map<std::string, FixtureTensor> tensors_;
};

/// Largest |a - b| / max(1, |b|) over two equally shaped tensors.
inline double max_relative_error(const Tensor<double>& a, const Tensor<double>& b) {
    require_same_shape(b.shape(), a.shape(), "max_relative_error");
    double worst = 0.0;
    for (index_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]) / std::max(1.0, std::abs(b.data()[i])));
    return worst;
}

}  // namespace chroma::testing
