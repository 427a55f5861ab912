#pragma once
// join_t<Sequential<A...>, Sequential<B...>, ...>: one flat Sequential<A..., B..., ...>. A network
// built from named parts (body, head) keeps the parts' own child names this way, where nesting
// one Sequential in another would put an index in front of every name.
#include "../nn/sequential.hpp"

namespace chroma {
namespace detail {

template <class... Sequentials>
struct join_sequentials;

template <class... A>
struct join_sequentials<Sequential<A...>> {
    using type = Sequential<A...>;
};

template <class... A, class... B, class... Rest>
struct join_sequentials<Sequential<A...>, Sequential<B...>, Rest...> {
    using type = typename join_sequentials<Sequential<A..., B...>, Rest...>::type;
};

}  // namespace detail

template <class... Sequentials>
using join_t = typename detail::join_sequentials<Sequentials...>::type;

}  // namespace chroma
