#pragma once
// Dropout: in training, zeroes each element with probability P and scales the others by
// 1 / (1 - P), as torch.nn.Dropout(p=P); in evaluation, passes its input through.
//
// Masks are reproducible. Each forward takes one 64-bit key from the layer's chroma::Rng, and
// element i is dropped when a hash of (key, i) falls below P, so the same seed gives the same
// masks on every platform, thread count and (later) backend. seed(s) restarts the sequence;
// calling it before each forward replays one mask (what finite-difference checks need).
// Each Dropout layer starts from its own default seed, default_seed + k for the k-th layer
// constructed in the program, so two dropout layers of one network never share a mask.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>

#include "../backend/cpu/dropout.hpp"
#include "../core/host_device.hpp"
#include "../core/number_text.hpp"
#include "../core/random.hpp"
#include "activation_pool.hpp"
#include "layer.hpp"
#include "layer_support.hpp"

namespace chroma {
namespace ops {

/// The factor for element i of one dropout mask: 0 (dropped) or scale (kept).
template <class T>
struct dropout_mask {
    std::uint64_t key;         // drawn from the layer's Rng, one per forward
    std::uint64_t drop_below;  // ceil(P * 2^53): 53 random bits below it mean "drop"
    T scale;                   // 1 / (1 - P)

    /// SplitMix64's output for position i of the stream seeded with key.
    CHROMA_HOST_DEVICE static std::uint64_t random_bits(std::uint64_t key, index_t i) {
        std::uint64_t z = key + (static_cast<std::uint64_t>(i) + 1) * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    CHROMA_HOST_DEVICE T operator()(index_t i) const {
        // An indexed pick instead of ?: so that no branch is emitted: the outcome is random, and
        // a branch would be mispredicted about half the time (six times slower when measured).
        const T factors[2] = {T(0), scale};
        return factors[(random_bits(key, i) >> 11) >= drop_below];
    }
};

}  // namespace ops

namespace detail {
/// The default seed of the next Dropout layer constructed: distinct per layer, in construction order.
inline std::uint64_t next_dropout_seed(std::uint64_t base) {
    static std::atomic<std::uint64_t> created{0};
    return base + created.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

template <double P = 0.5>
struct Dropout {
    static_assert(P >= 0.0 && P <= 1.0, "Dropout: the drop probability P must lie in [0, 1]");

    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = any_channels;
    static constexpr double probability = P;

    template <class T, Backend B>
    class layer {
    public:
        static constexpr std::uint64_t default_seed = 0x5eed'd80b'0a7c'0001ULL;

        layer() : rng_(detail::next_dropout_seed(default_seed)) {}

        static std::string describe() { return "Dropout(p " + detail::number_text(P) + ")"; }

        /// Restarts the mask sequence: forwards after seed(s) draw the same masks every time.
        void seed(std::uint64_t value) { rng_ = Rng(value); }

        Shape output_shape(Shape in) const {
            require_nonempty(describe, in);
            return in;
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Shape out = output_shape(x.shape());
            masked_ = training_;
            if (!training_) {
                last_output_ = x;  // evaluation: the identity, without a copy
                return x;
            }
            output_.resize(out);
            mask_ = ops::dropout_mask<T>{.key = rng_.next(), .drop_below = drop_below(), .scale = keep_scale()};
            kernels::apply_mask(x, output_, mask_);
            last_output_ = output_;
            return output_;
        }

        /// Routes the gradient through the elements the last forward kept, scaled as they were.
        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            detail::require_backward_ready(describe, last_output_, dy);
            if (!masked_) return dy;
            ActivationPool<T, B>::take(input_grad_, dy.shape());
            kernels::apply_mask(dy, input_grad_, mask_);
            return input_grad_;
        }

        template <class V>
        void visit_parameters(V&&) {}
        void set_training(bool training) { training_ = training; }
        /// Hands the input gradient's buffer to the pool once the layer before has read it.
        void release_input_gradient() { ActivationPool<T, B>::give(input_grad_); }

    private:
        static std::uint64_t drop_below() { return static_cast<std::uint64_t>(std::ceil(P * 0x1.0p53)); }
        // P = 1 drops everything, as PyTorch does, instead of scaling by infinity.
        static T keep_scale() { return P < 1.0 ? static_cast<T>(1.0 / (1.0 - P)) : T(0); }

        Rng rng_;
        ops::dropout_mask<T> mask_{};  // the last training forward's mask
        Tensor<T, B> output_, input_grad_;
        Tensor<T, B> last_output_;     // output_ after a training forward, the input after an evaluation one
        bool training_ = true;
        bool masked_ = true;           // whether the last forward applied a mask
    };
};

}  // namespace chroma
