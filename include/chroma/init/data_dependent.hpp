#pragma once
// Data-dependent initialisation (the within-layer scheme of Krähenbühl et al. 2015,
// "Data-dependent initializations of convolutional neural networks"): after any initialiser,
// rescale each convolution so that, on a sample batch, every output channel has zero mean and a
// chosen standard deviation (1 by default). A badly scaled network (weights far too large or too
// small) then starts with activations of a sensible size at every depth.
//
//   Model<Net> model(/*seed=*/1);                        // or he_normal, xavier_normal, ...
//   Tensor<float> sample = a_batch_of_inputs();          // a few images (at least 2) from the data
//   init::DataDependentReport report = init::rescale_to_unit_variance(model, sample);
//   for (const auto& layer : report.layers) std::cout << layer.name << ": " << layer.std_before << "\n";
//
// Layers are visited in forward order, one forward of the whole model each, so a layer is measured
// after the layers before it were rescaled. The layers are found through notify_forward
// (nn/forward_observer.hpp): Conv2d and ConvTranspose2d call it; a layer of one's own can too.
// The forwards run in evaluation mode (BatchNorm uses its running statistics and leaves them
// alone, Dropout is off); Model cannot report the mode it was in, so the model is left in training
// mode, the mode a new Model starts in. Call model.eval() afterwards to keep evaluating.
//
// Not done: the paper's between-layer step (equalising the rate at which each layer's weights
// change under SGD, which needs backward passes on random targets and is only exact for
// piecewise-linear networks) and its k-means initialisation.
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/parameter.hpp"
#include "../core/tensor.hpp"
#include "../nn/forward_observer.hpp"
#include "../nn/model.hpp"

namespace chroma::init {

struct DataDependentOptions {
    double target_std = 1.0;  // each output channel's standard deviation on the sample
    bool zero_mean = true;    // also shift each channel's mean to 0 (only layers with a bias can)
    double epsilon = 1e-6;    // a channel whose standard deviation is below this is dead: left as it is
};

/// What happened to one layer. Standard deviations are means over all of its output channels.
struct LayerRescale {
    std::string name;        // the weight's name without ".weight", e.g. "3.conv1" ("" for a lone layer)
    int channels = 0;        // output channels
    double std_before = 0;   // measured after the layers before it were rescaled
    double std_after = 0;    // measured by the next forward
    int dead_channels = 0;   // channels with std below epsilon, left untouched
};

struct DataDependentReport {
    std::vector<LayerRescale> layers;  // in forward order
};

namespace detail {

/// Per-channel mean and (population) standard deviation of an NCHW tensor over N, H and W.
struct ChannelStatistics {
    std::vector<double> mean, std;
    double mean_std() const {
        double sum = 0;
        for (double s : std) sum += s;
        return std.empty() ? 0.0 : sum / static_cast<double>(std.size());
    }
};

template <class T, class B>
ChannelStatistics channel_statistics(const Tensor<T, B>& x) {
    const Shape s = x.shape();
    const index_t plane = s.h * s.w;
    const double count = static_cast<double>(s.n * plane);
    ChannelStatistics result{std::vector<double>(s.c), std::vector<double>(s.c)};
    for (index_t c = 0; c < s.c; ++c) {
        double sum = 0;
        for (index_t n = 0; n < s.n; ++n) {
            const T* p = x.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) sum += static_cast<double>(p[i]);
        }
        const double mean = sum / count;
        double squares = 0;  // two passes: no cancellation when the mean dwarfs the spread
        for (index_t n = 0; n < s.n; ++n) {
            const T* p = x.data() + (n * s.c + c) * plane;
            for (index_t i = 0; i < plane; ++i) {
                const double d = static_cast<double>(p[i]) - mean;
                squares += d * d;
            }
        }
        result.mean[c] = mean;
        result.std[c] = std::sqrt(squares / count);
    }
    return result;
}

/// Records the order in which layers report their outputs during one forward, and measures the
/// outputs of the layers at the requested positions in that order.
template <class T, class B>
class LayerOutputProbe final : public ForwardObserver<T, B> {
public:
    struct Seen {
        const Parameter<T, B>* weight;
        weight_layout layout;
    };

    /// Starts a forward that measures the layers at positions `first` and `second` (-1: none).
    void start(int first, int second) {
        seen_.clear();
        wanted_[0] = first;
        wanted_[1] = second;
    }

    void after_forward(const Parameter<T, B>& weight, const Tensor<T, B>& output, weight_layout layout) override {
        const int position = static_cast<int>(seen_.size());
        seen_.push_back({&weight, layout});
        for (int i = 0; i < 2; ++i)
            if (position == wanted_[i]) statistics_[i] = channel_statistics(output);
    }

    const std::vector<Seen>& seen() const { return seen_; }
    const ChannelStatistics& statistics(int which) const { return statistics_[which]; }

private:
    std::vector<Seen> seen_;
    int wanted_[2] = {-1, -1};
    ChannelStatistics statistics_[2];
};

/// Multiplies output channel `c` of a weight by `factor`.
template <class T, class B>
void scale_output_channel(Parameter<T, B>& weight, weight_layout layout, index_t c, double factor) {
    const Shape s = weight.value.shape();
    const index_t kernel = s.h * s.w;
    const T f = static_cast<T>(factor);
    if (layout == weight_layout::out_in) {  // [Out, In, K, K]: one contiguous block
        T* p = weight.value.data() + c * s.c * kernel;
        for (index_t i = 0; i < s.c * kernel; ++i) p[i] *= f;
    } else {  // [In, Out, K, K]: one block per input channel
        for (index_t in = 0; in < s.n; ++in) {
            T* p = weight.value.data() + (in * s.c + c) * kernel;
            for (index_t i = 0; i < kernel; ++i) p[i] *= f;
        }
    }
}

/// Puts a model back into training mode however the initialiser leaves (see the note above).
template <class M>
struct TrainingModeOnExit {
    M& model;
    ~TrainingModeOnExit() { model.train(); }
};

}  // namespace detail

/// Rescales every layer that calls notify_forward (Conv2d, ConvTranspose2d) so that its output
/// channels have mean 0 (options.zero_mean, layers with a bias) and standard deviation
/// options.target_std on `sample_input`. Throws usage_error for a sample of fewer than 2 images,
/// bad options or a model without such layers; the model's shape_error for a sample it cannot take.
template <class Net, class B, class T>
DataDependentReport rescale_to_unit_variance(Model<Net, B, T>& model, const Tensor<T, B>& sample_input,
                                             DataDependentOptions options = {}) {
    static_assert(B::host_accessible, "rescale_to_unit_variance: initialise on a host backend, then copy the "
                                      "parameters to the device");
    const std::string who = "rescale_to_unit_variance: ";
    if (sample_input.shape().n < 2)
        throw usage_error(who + "the sample batch needs at least 2 images to measure each channel's spread, got "
                                "shape " + sample_input.shape().str());
    if (!(options.target_std > 0) || !std::isfinite(options.target_std))
        throw usage_error(who + "target_std must be positive and finite");
    if (!(options.epsilon >= 0)) throw usage_error(who + "epsilon must be >= 0");

    // Names and mutable access: the probe sees parameters as const, visit_parameters as named.
    struct NamedParameter {
        std::string name;
        Parameter<T, B>* parameter;
    };
    std::vector<NamedParameter> parameters;
    model.visit_parameters(
        [&](std::string_view name, Parameter<T, B>& p) { parameters.push_back({std::string(name), &p}); });
    auto find_by_address = [&](const Parameter<T, B>* p) -> NamedParameter& {
        for (NamedParameter& n : parameters)
            if (n.parameter == p) return n;
        throw usage_error(who + "a layer reported a weight that visit_parameters does not list");
    };
    auto find_by_name = [&](const std::string& name) -> Parameter<T, B>* {
        for (NamedParameter& n : parameters)
            if (n.name == name && n.parameter->role == parameter_role::bias) return n.parameter;
        return nullptr;
    };

    detail::TrainingModeOnExit<Model<Net, B, T>> restore{model};
    model.eval();
    detail::LayerOutputProbe<T, B> probe;
    ForwardObserverScope<T, B> scope(probe);

    // Forward k measures layer k before rescaling it and layer k - 1 after; the last one only after.
    DataDependentReport report;
    std::size_t layer_count = 0;
    for (std::size_t k = 0; k == 0 || k <= layer_count; ++k) {
        probe.start(static_cast<int>(k), static_cast<int>(k) - 1);
        model.forward(sample_input);
        if (k == 0) {
            layer_count = probe.seen().size();
            if (layer_count == 0)
                throw usage_error(who + "the model has no convolution layers (no layer reported its output "
                                        "through notify_forward), so there is nothing to rescale");
        } else if (probe.seen().size() != layer_count) {
            throw usage_error(who + "the model ran a different number of weighted layers on the same input");
        }
        if (k > 0) report.layers[k - 1].std_after = probe.statistics(1).mean_std();
        if (k == layer_count) break;

        const auto& seen = probe.seen()[k];
        NamedParameter& weight = find_by_address(seen.weight);
        // "3.conv1.weight" -> "3.conv1.", a lone layer's "weight" -> "", anything else -> "name.".
        const std::string prefix = weight.name == "weight"            ? std::string()
                                   : weight.name.ends_with(".weight") ? weight.name.substr(0, weight.name.size() - 6)
                                                                       : weight.name + ".";
        Parameter<T, B>* bias = find_by_name(prefix + "bias");

        const detail::ChannelStatistics& before = probe.statistics(0);
        LayerRescale entry;
        entry.name = prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1);
        entry.channels = static_cast<int>(before.std.size());
        entry.std_before = before.mean_std();
        for (std::size_t c = 0; c < before.std.size(); ++c) {
            if (!(before.std[c] >= options.epsilon) || before.std[c] == 0) {  // dead (or NaN): leave it alone
                ++entry.dead_channels;
                continue;
            }
            const double factor = options.target_std / before.std[c];
            detail::scale_output_channel(*weight.parameter, seen.layout, static_cast<index_t>(c), factor);
            if (bias) {
                T& b = bias->value.data()[c];
                const double shift = options.zero_mean ? before.mean[c] : 0.0;
                b = static_cast<T>((static_cast<double>(b) - shift) * factor);
            }
        }
        report.layers.push_back(entry);
    }
    return report;
}

}  // namespace chroma::init
