#pragma once
// Per-parameter optimiser state (momentum buffers, Adam moments), matched to parameters by
// their names so that a checkpoint can save and restore it.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "../core/parameter.hpp"

namespace chroma::optim {

template <class T, Backend B>
class parameter_state {
public:
    /// Calls body(parameter, state tensors...) for each trainable parameter of `net` (with
    /// `with_gradient_only`, each that has a gradient, as PyTorch's optimisers skip a parameter
    /// whose .grad is None), creating
    /// `buffers` zeroed state tensors per parameter on first use. State is matched by name, so a
    /// parameter that starts training later (a released Frozen block) gets fresh state and a
    /// frozen one keeps its own until it trains again.
    template <class Net, class F>
    void for_each(Net& net, int buffers, F&& body, bool with_gradient_only = true) {
        std::size_t position = 0;  // where the next entry is expected: visits come in the same order
        net.visit_parameters([&](std::string_view name, Parameter<T, B>& p) {
            if (!p.trainable() || (with_gradient_only && !p.has_gradient())) return;
            entry* e = position < entries_.size() && entries_[position].name == name ? &entries_[position] : nullptr;
            if (!e) {
                const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const entry& x) { return x.name == name; });
                if (it == entries_.end()) {
                    entries_.push_back(entry{std::string(name), p.value.shape(), {}});
                    for (int k = 0; k < buffers; ++k) entries_.back().tensors.emplace_back(p.value.shape());
                    e = &entries_.back();
                } else {
                    e = &*it;
                }
            }
            position = static_cast<std::size_t>(e - entries_.data()) + 1;
            if (e->shape != p.value.shape())
                throw usage_error("optimiser state for '" + e->name + "' " + e->shape.str() +
                                  " does not match parameter '" + std::string(name) + "' " + p.value.shape().str() +
                                  ": an optimiser serves one model");
            body(p, e->tensors);
        });
    }

    /// Visits each state tensor with a name such as "3.conv1.weight.exp_avg".
    template <class V>
    void visit(const std::vector<std::string>& buffer_names, V&& visit) {
        for (auto& e : entries_)
            for (std::size_t k = 0; k < e.tensors.size(); ++k) visit(e.name + "." + buffer_names.at(k), e.tensors[k]);
    }

    bool empty() const { return entries_.empty(); }

private:
    struct entry {
        std::string name;
        Shape shape;
        std::vector<Tensor<T, B>> tensors;
    };
    std::vector<entry> entries_;
};

}  // namespace chroma::optim
