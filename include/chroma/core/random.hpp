#pragma once
// A seeded random number generator whose sequence is the same on every platform and standard
// library (std::uniform_real_distribution and std::normal_distribution are not), so a seed
// reproduces an initialisation or a dropout mask everywhere.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace chroma {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    /// Standard normal by Box-Muller (one value per call; the pair's second half is discarded
    /// so that the sequence does not depend on call history).
    double normal(double mean = 0.0, double stddev = 1.0) {
        const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
        const double u2 = uniform();
        return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    std::uint64_t next() { return engine_(); }

    /// The generator's full state as text, so a checkpoint can resume the exact sequence.
    std::string state() const {
        std::ostringstream out;
        out << engine_;
        return out.str();
    }
    void set_state(const std::string& text) {
        std::istringstream in(text);
        std::mt19937_64 restored;
        in >> restored;
        if (!in) throw std::invalid_argument("Rng::set_state: not a generator state");
        engine_ = restored;
    }

private:
    std::mt19937_64 engine_;
};

}  // namespace chroma
