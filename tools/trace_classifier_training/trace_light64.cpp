// Trains models::LightClassifier for a few hundred steps with train_zhang's light64 recipe and
// records everything a PyTorch twin needs to replay the same steps (trace_light64_torch.py):
//
//   OUT/initial.safetensors  the weights before the first step (Model seed 1, as train_zhang)
//   OUT/trace.bin            the recipe's constants, then per step the network input, the ab, the
//                            soft target (its non-zero bins per pixel) and the per-pixel
//                            rebalancing weights
//   OUT/gradients0.safetensors  the gradients of the first step
//   OUT/final.safetensors    the weights after the last step
//   OUT/chroma.csv           per step: the loss and its two terms, and how the argmax-predicted
//                            bins spread over the batch (grey fraction, distinct bins, histogram)
//
//   trace_light64 PACKED [--steps N] [--batch B] [--lr X] [--alpha X] [--encoding soft|hard]
//                        [--prior-batch N] [--prior-batches N] [--out DIR]
//
// The recipe is README's light64 classifier: `train_zhang --model light64` (rebalanced
// cross-entropy, lambda 0.5, prior estimated from 100 training batches, distribution loss alpha
// 0.4, Adam with PyTorch's defaults) with soft targets and lr 5e-4. The prior is estimated from
// batches of 32 as train_zhang's default batch does, whatever --batch the steps use.
#include <chroma/chroma.hpp>
#include <chroma/models/light_classifier.hpp>
#include <chroma/train/classification_task.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace chroma;

namespace {

constexpr int slots = 5;  // non-zero target bins kept per pixel: the soft encoding's 5 neighbours

template <class T>
void put(std::ofstream& f, const T& value) {
    f.write(reinterpret_cast<const char*>(&value), sizeof value);
}
template <class T>
void put(std::ofstream& f, const std::vector<T>& values) {
    f.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
}
void put(std::ofstream& f, const Tensor<float>& t) {
    f.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * sizeof(float)));
}

/// The bin whose centre is nearest a = b = 0.
index_t grey_bin(const color::AbBins& bins) {
    index_t best = 0;
    for (index_t q = 1; q < bins.size(); ++q) {
        const auto& c = bins.centres()[q];
        const auto& b = bins.centres()[best];
        if (c.a * c.a + c.b * c.b < b.a * b.a + b.b * b.b) best = q;
    }
    return best;
}

/// Argmax over the channels of [N,Q,H,W] per pixel (ties to the lower bin), NHW order.
std::vector<int> argmax_bins(const Tensor<float>& x) {
    const Shape s = x.shape();
    const index_t plane = s.plane();
    std::vector<int> out(static_cast<std::size_t>(s.n * plane));
    for (index_t n = 0; n < s.n; ++n)
        for (index_t i = 0; i < plane; ++i) {
            const float* p = x.data() + n * s.c * plane + i;
            index_t best = 0;
            for (index_t q = 1; q < s.c; ++q)
                if (p[q * plane] > p[best * plane]) best = q;
            out[static_cast<std::size_t>(n * plane + i)] = static_cast<int>(best);
        }
    return out;
}

int usage() {
    std::fprintf(stderr,
                 "usage: trace_light64 PACKED [--steps N] [--batch B] [--lr X] [--alpha X] [--encoding soft|hard]\n"
                 "                     [--prior-batch N] [--prior-batches N] [--out DIR]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string packed, out = "trace", encoding = "soft";
    int steps = 200, batch = 8, prior_batch = 32, prior_batches = 100;
    double lr = 5e-4, alpha = 0.4;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) std::exit(usage());
            return argv[++i];
        };
        if (arg == "--steps") steps = std::atoi(value());
        else if (arg == "--batch") batch = std::atoi(value());
        else if (arg == "--lr") lr = std::atof(value());
        else if (arg == "--alpha") alpha = std::atof(value());
        else if (arg == "--encoding") encoding = value();
        else if (arg == "--prior-batch") prior_batch = std::atoi(value());
        else if (arg == "--prior-batches") prior_batches = std::atoi(value());
        else if (arg == "--out") out = value();
        else if (!arg.empty() && arg[0] == '-') return usage();
        else packed = arg;
    }
    if (packed.empty() || steps < 1 || batch < 1) return usage();
    std::filesystem::create_directories(out);

    // The loaders as train_zhang builds them (seed 1, 90/10 split by name); 0 threads decodes on
    // this one, which gives the same batches. Full batches only, so every step has B images.
    const auto dataset = std::make_shared<const data::PackedDataset>(packed);
    const int size = dataset->width();
    auto split = data::split_dataset(dataset, 0.1);
    data::Loader prior_source(split.train, data::training_transform(0, size),
                              {.batch_size = prior_batch, .threads = 0, .seed = 1});
    data::Loader training(split.train, data::training_transform(0, size),
                          {.batch_size = batch, .threads = 0, .seed = 1, .drop_last = true});

    // train_zhang's task_options() for --model light64 --encoding soft.
    train::ClassificationOptions options{.architecture = "light64"};
    options.encoding = encoding == "hard" ? train::BinEncoding::hard : train::BinEncoding::soft;
    options.alpha = alpha;
    options.decoding = color::Decoding::top_k_mean(2);
    options.rebalance = true;
    options.prior = train::estimate_prior(prior_source, prior_batches);
    options.prior_name = "prior estimated from the training images";
    train::ClassificationTask task(options);
    // The same class weights the task's objective holds, for the per-pixel weights and the terms.
    const std::vector<double> class_weights = color::rebalancing_weights(options.prior, options.lambda);
    const loss::ClassificationObjective objective(class_weights, options.prior, alpha);

    Model<models::LightClassifier> model(1);
    model.train();
    optim::AdamOptions adam_options{.learning_rate = lr};
    optim::Adam<> adam(adam_options);
    io::save_safetensors(out + "/initial.safetensors", model);
    std::printf("%s\nAdam lr %g, betas %g %g, eps %g; %d steps of batch %d at %d px\n", task.describe().c_str(), lr,
                adam_options.beta1, adam_options.beta2, adam_options.eps, steps, batch, size);

    const color::AbBins bins = color::AbBins::zhang();
    const index_t Q = bins.size(), grey = grey_bin(bins);
    std::ofstream trace(out + "/trace.bin", std::ios::binary);
    trace.write("CHROMATR", 8);
    for (const std::int32_t v : {std::int32_t(steps), std::int32_t(batch), std::int32_t(size), std::int32_t(size),
                                 std::int32_t(Q), std::int32_t(grey), std::int32_t(slots)})
        put(trace, v);
    for (const auto& c : bins.centres()) put(trace, c.a), put(trace, c.b);
    put(trace, options.prior);
    put(trace, class_weights);
    for (const double v : {options.lambda, alpha, lr, adam_options.beta1, adam_options.beta2, adam_options.eps})
        put(trace, v);

    std::ofstream csv(out + "/chroma.csv");
    csv << "step,loss,cross_entropy,distribution,grey_fraction,distinct_bins,top_bin,top_fraction,"
           "target_grey_fraction,mean_weight,seconds";
    for (index_t q = 0; q < Q; ++q) csv << ",h" << q;
    csv << "\n";

    Tensor<float> grad;
    int epoch = 0;
    training.start_epoch(epoch);
    for (int step = 0; step < steps; ++step) {
        auto b = training.next();
        if (!b) {
            training.start_epoch(++epoch);
            b = training.next();
        }
        const auto start = std::chrono::steady_clock::now();
        // One step exactly as train::Trainer::train_epoch takes it.
        const Tensor<float>& input = task.input(*b);
        const Tensor<float>& logits = model.forward(input);
        const double loss = task.loss(logits, *b, grad);
        const loss::ClassificationTerms terms = objective.breakdown(logits, task.target());
        const std::vector<int> predicted = argmax_bins(logits);
        const std::vector<int> target_bin = argmax_bins(task.target());
        model.zero_grad();
        model.backward(grad);
        if (step == 0) {  // the first gradients, for a direct comparison with PyTorch's
            io::SafetensorsWriter writer;
            model.visit_parameters([&](std::string_view name, auto& p) {
                if (p.trainable()) writer.add(std::string(name), p.grad, p.rank);
            });
            writer.save(out + "/gradients0.safetensors");
        }
        adam.step(model);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        // The target's non-zero bins per pixel (at most `slots`), and the rebalancing weight of
        // each pixel: the class weight of its target's argmax, as RebalancedCrossEntropy takes it.
        const Tensor<float>& target = task.target();
        const Shape s = target.shape();
        const index_t plane = s.plane(), pixels = s.n * plane;
        std::vector<std::int16_t> index(static_cast<std::size_t>(pixels * slots), -1);
        std::vector<float> value(static_cast<std::size_t>(pixels * slots), 0.0f), weight(static_cast<std::size_t>(pixels));
        double weight_sum = 0.0;
        long long target_grey = 0;
        for (index_t p = 0; p < pixels; ++p) {
            const float* t = target.data() + (p / plane) * Q * plane + p % plane;
            int k = 0;
            for (index_t q = 0; q < Q; ++q)
                if (t[q * plane] != 0.0f) {
                    if (k == slots) {
                        std::fprintf(stderr, "a target pixel has more than %d non-zero bins\n", slots);
                        return 1;
                    }
                    index[static_cast<std::size_t>(p * slots + k)] = static_cast<std::int16_t>(q);
                    value[static_cast<std::size_t>(p * slots + k)] = t[q * plane];
                    ++k;
                }
            const int bin = target_bin[static_cast<std::size_t>(p)];
            weight[static_cast<std::size_t>(p)] = static_cast<float>(class_weights[static_cast<std::size_t>(bin)]);
            weight_sum += class_weights[static_cast<std::size_t>(bin)];
            target_grey += bin == grey;
        }
        put(trace, input);
        put(trace, b->ab);
        put(trace, index);
        put(trace, value);
        put(trace, weight);

        std::vector<long long> histogram(static_cast<std::size_t>(Q), 0);
        for (const int q : predicted) ++histogram[static_cast<std::size_t>(q)];
        index_t top = 0, distinct = 0;
        for (index_t q = 0; q < Q; ++q) {
            distinct += histogram[static_cast<std::size_t>(q)] > 0;
            if (histogram[static_cast<std::size_t>(q)] > histogram[static_cast<std::size_t>(top)]) top = q;
        }
        const double n = static_cast<double>(pixels);
        char line[256];
        std::snprintf(line, sizeof line, "%d,%.9g,%.9g,%.9g,%.6f,%lld,%lld,%.6f,%.6f,%.6f,%.3f", step, loss,
                      terms.cross_entropy, terms.distribution, static_cast<double>(histogram[static_cast<std::size_t>(grey)]) / n,
                      static_cast<long long>(distinct), static_cast<long long>(top),
                      static_cast<double>(histogram[static_cast<std::size_t>(top)]) / n,
                      static_cast<double>(target_grey) / n, weight_sum / n, seconds);
        csv << line;
        for (const long long h : histogram) csv << "," << h;
        csv << "\n";
        csv.flush();
        std::printf("step %d: loss %.6f (CE %.6f, dist %.6f), grey %.3f, %lld bins, %.1f s\n", step, loss,
                    terms.cross_entropy, terms.distribution,
                    static_cast<double>(histogram[static_cast<std::size_t>(grey)]) / n,
                    static_cast<long long>(distinct), seconds);
        std::fflush(stdout);
    }
    // The weights after the last step, so the twin's can be compared with them.
    io::save_safetensors(out + "/final.safetensors", model);
    return 0;
}
