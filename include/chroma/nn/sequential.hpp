#pragma once
// Sequential<A, B, C>: layers applied one after another, composed from a flat type list.
// Adjacent channel counts are checked at compile time; children are named by their index
// (as torch.nn.Sequential) unless wrapped in Named<"...">.
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "activation_pool.hpp"
#include "layer.hpp"
#include "named.hpp"

namespace chroma {

/// Instantiated only when a Sequential's channels disagree; the compiler prints its arguments:
/// the index of the offending layer in the Sequential, the input channels that layer expects,
/// and the output channels of the layer before it.
template <int LayerIndex, int LayerExpectsChannels, int PreviousLayerGivesChannels>
struct channel_mismatch {
    static_assert(LayerExpectsChannels == PreviousLayerGivesChannels,
                  "chroma::Sequential: a layer's input channels differ from the previous layer's output channels "
                  "(read channel_mismatch<layer index, channels it expects, channels the previous layer gives> "
                  "in the lines above)");
    static constexpr bool ok = true;
};

namespace detail {

struct channels_match {
    static constexpr bool ok = true;
};

/// The result of walking a chain of channel counts.
struct channel_chain {
    int in = any_channels;   // what the chain needs as input
    int out = any_channels;  // what it gives
    int bad_index = -1;      // first layer whose input disagrees, or -1
    int expected = 0, got = 0;
};

template <std::size_t N>
constexpr channel_chain walk_channels(const std::array<int, N>& ins, const std::array<int, N>& outs) {
    channel_chain chain;
    int current = any_channels;  // channels flowing out of the layers walked so far
    for (std::size_t i = 0; i < N; ++i) {
        if (ins[i] != any_channels) {
            if (current == any_channels) {
                chain.in = ins[i];  // nothing before fixed the channels: the chain needs these
            } else if (ins[i] != current && chain.bad_index < 0) {
                chain.bad_index = static_cast<int>(i);
                chain.expected = ins[i];
                chain.got = current;
            }
            current = ins[i];
        }
        if (outs[i] != any_channels) current = outs[i];
    }
    chain.out = current;
    return chain;
}

template <class... Specs>
constexpr channel_chain chain_of() {
    return walk_channels<sizeof...(Specs)>({Specs::in_channels...}, {Specs::out_channels...});
}

template <class S>
struct require_layer_spec {
    static_assert(LayerSpec<S>,
                  "chroma: this type is not a layer spec. A spec needs static in_channels and out_channels and a "
                  "member template `template <class T, class B> class layer` meeting chroma::Layer "
                  "(see docs/extending.md)");
    static constexpr bool ok = true;
};

}  // namespace detail

template <class... Specs>
struct Sequential {
    static_assert(sizeof...(Specs) > 0, "chroma::Sequential needs at least one layer");
    static_assert((detail::require_layer_spec<Specs>::ok && ...));

private:
    static constexpr detail::channel_chain chain_ = detail::chain_of<Specs...>();
    static_assert(std::conditional_t<chain_.bad_index < 0, detail::channels_match,
                                     channel_mismatch<chain_.bad_index, chain_.expected, chain_.got>>::ok);

public:
    static constexpr int in_channels = chain_.in;
    static constexpr int out_channels = chain_.out;
    static constexpr std::size_t size = sizeof...(Specs);

    template <class T, Backend B>
    class layer {
        using children_type = std::tuple<layer_t<Specs, T, B>...>;
        using indices = std::make_index_sequence<sizeof...(Specs)>;

        template <std::size_t I>
        static std::string name_of() {
            return detail::child_name<std::tuple_element_t<I, std::tuple<Specs...>>>(std::to_string(I));
        }

    public:
        layer() { allow_in_place(indices{}); }

        static std::string describe() { return "Sequential(" + std::to_string(sizeof...(Specs)) + " layers)"; }

        Shape output_shape(Shape in) const {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((in = detail::with_context([] { return name_of<I>(); }, [&] { return std::get<I>(children_).output_shape(in); })),
                 ...);
            }(indices{});
            return in;
        }

        const Tensor<T, B>& forward(const Tensor<T, B>& x) {
            const Tensor<T, B>* current = &x;
            owner_ = -1;  // the child whose buffer `current` is (-1: the caller's input)
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (step<I>(current), ...);
            }(indices{});
            return *current;
        }

        /// Hands the buffer of this chain's output to the activation pool (inference only).
        void release_output() { release_child(owner_); }

        /// Inference only (Model::inference): each child's output goes back to the activation
        /// pool as soon as the next child has read it.
        void set_inference(bool inference) {
            inference_ = inference;
            std::apply([&](auto&... child) { (detail::set_inference(child, inference), ...); }, children_);
        }

        const Tensor<T, B>& backward(const Tensor<T, B>& dy) {
            const Tensor<T, B>* current = &dy;
            gradient_owner_ = -1;  // the child whose input gradient `current` is (-1: the caller's dy)
            constexpr std::size_t last = sizeof...(Specs) - 1;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (backward_step<last - I>(current), ...);
            }(indices{});
            return *current;
        }

        /// Hands the buffer of the gradient backward returned to the pool (the caller has read it).
        void release_input_gradient() { release_gradient_of(gradient_owner_); }

        template <class V>
        void visit_parameters(V&& visit) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (detail::visit_child(std::get<I>(children_), name_of<I>(), visit), ...);
            }(indices{});
        }

        void set_training(bool training) {
            std::apply([&](auto&... child) { (child.set_training(training), ...); }, children_);
        }

        /// The I-th child's runtime layer (for inspection and tests).
        template <std::size_t I>
        auto& child() { return std::get<I>(children_); }

    private:
        /// Runs child I on *current and moves current to its output. A child that passes its
        /// input through (the same storage) leaves the owner as it was; otherwise, for
        /// inference, the previous owner's buffer has been read and goes back to the pool.
        template <std::size_t I>
        void step(const Tensor<T, B>*& current) {
            const Tensor<T, B>& next = detail::with_context(
                name_of<I>(), [&]() -> const Tensor<T, B>& { return std::get<I>(children_).forward(*current); });
            if (&next != current && !next.shares_storage_with(*current)) {
                if (inference_) release_child(owner_);
                owner_ = static_cast<int>(I);
            }
            current = &next;
        }

        /// Lets each child that can work in place do so where the child before it never reads
        /// its own output in backward: that output is read by this child alone.
        template <std::size_t... I>
        void allow_in_place(std::index_sequence<I...>) {
            (allow_in_place_after<I>(), ...);
        }
        template <std::size_t I>
        void allow_in_place_after() {
            if constexpr (I + 1 < sizeof...(Specs)) {
                using before = std::tuple_element_t<I, children_type>;
                auto& next = std::get<I + 1>(children_);
                if constexpr (requires { before::backward_reads_output; } && requires { next.set_in_place(true); })
                    if constexpr (!before::backward_reads_output) next.set_in_place(true);
            }
        }

        /// Runs child I's backward on *current and moves current to the gradient it returns; the
        /// gradient read goes back to the pool unless the child passed it through.
        template <std::size_t I>
        void backward_step(const Tensor<T, B>*& current) {
            const Tensor<T, B>& next = detail::with_context(
                name_of<I>(), [&]() -> const Tensor<T, B>& { return std::get<I>(children_).backward(*current); });
            if (&next != current && !next.shares_storage_with(*current)) {
                release_gradient_of(gradient_owner_);
                gradient_owner_ = static_cast<int>(I);
            }
            current = &next;
        }

        void release_gradient_of(int index) {
            if (index < 0) return;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((static_cast<int>(I) == index ? detail::release_input_gradient(std::get<I>(children_)) : void()), ...);
            }(indices{});
        }

        void release_child(int index) {
            if (index < 0) return;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((static_cast<int>(I) == index ? detail::release_output(std::get<I>(children_)) : void()), ...);
            }(indices{});
        }

        children_type children_;
        bool inference_ = false;
        int owner_ = -1, gradient_owner_ = -1;
    };
};

}  // namespace chroma
