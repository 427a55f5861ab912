#pragma once
// Per-parameter optimiser state (momentum buffers, Adam moments), matched to parameters by
// their names so that a checkpoint can save and restore it.
#include <string>
#include <string_view>
#include <vector>

#include "../core/parameter.hpp"

namespace chroma::optim {

template <class T, Backend B>
class parameter_state {
public:
    /// Calls body(parameter, state tensors...) for each trainable parameter of `net`, creating
    /// `buffers` zeroed state tensors per parameter on first use.
    template <class Net, class F>
    void for_each(Net& net, int buffers, F&& body) {
        std::size_t index = 0;
        net.visit_parameters([&](std::string_view name, Parameter<T, B>& p) {
            if (!p.trainable()) return;
            if (index == entries_.size()) {
                entries_.push_back(entry{std::string(name), p.value.shape(), {}});
                for (int k = 0; k < buffers; ++k) entries_.back().tensors.emplace_back(p.value.shape());
            }
            entry& e = entries_[index++];
            if (e.name != name || e.shape != p.value.shape())
                throw usage_error("optimiser state for '" + e.name + "' " + e.shape.str() +
                                  " does not match parameter '" + std::string(name) + "' " + p.value.shape().str() +
                                  ": an optimiser serves one model");
            body(p, e.tensors);
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
