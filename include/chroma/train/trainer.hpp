#pragma once
// The training loop for any model and task: epochs of batches, validation with every colour
// metric beside the gray baseline, early stopping, and what a person watching needs: a progress
// line, a CSV log, a loss-curve PNG and a sample grid per epoch (gray input | prediction | truth).
//
// Safety: a checkpoint is written atomically after every epoch (and on Ctrl-C). A NaN or
// infinite loss stops training with a message and leaves the last good checkpoint untouched.
// Resuming (options.resume) restores the model, the optimiser, the epoch and the best score
// from the checkpoint and continues; with the same data order the run is reproduced.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../color/conversion.hpp"
#include "../data/image.hpp"
#include "../distributed/communicator.hpp"
#include "../distributed/synchronise.hpp"
#include "../draw/grid.hpp"
#include "../draw/plot.hpp"
#include "../io/checkpoint.hpp"
#include "../metrics/colorization_report.hpp"
#include "../nn/batch_norm_group.hpp"
#include "../optim/clip.hpp"
#include "batch.hpp"
#include "csv_log.hpp"
#include "progress.hpp"

namespace chroma::train {

struct EpochRecord;

struct TrainerOptions {
    int epochs = 10;
    std::filesystem::path output = "runs/train";  // checkpoint, log.csv, loss.png, samples_*.png
    int early_stopping_patience = 0;              // stop after this many epochs without a better validation loss; 0: never
    double clip_grad_norm = 0.0;                  // 0: no clipping
    int sample_rows = 4;                          // validation images in each sample grid
    bool resume = false;                          // continue from output/checkpoint.ckpt
    bool quiet = false;                           // no progress output
    std::string architecture;                     // recorded in the checkpoint ("architecture"), so
                                                  // `chroma evaluate` and `chroma colorize` can rebuild the model
    std::function<void(const EpochRecord&)> on_epoch_end;  // after each validation, before the
                                                  // checkpoint: e.g. a ReduceOnPlateau step, whose rate is then saved
    std::function<double(int epoch)> learning_rate_at;  // when set: the rate for each epoch (0-based),
                                                  // set before it starts, so a resumed run follows the same schedule
    std::function<void(int epoch)> before_epoch;  // when set: called before each epoch (0-based) and, on
                                                  // resuming, before the optimiser state is read, e.g. to release a
                                                  // frozen encoder at an epoch, so a resumed run trains what the
                                                  // uninterrupted run would
    distributed::Communicator* communicator = nullptr;  // data-parallel training (distributed/): every rank
                                                  // runs the same trainer on its shard of each global batch
                                                  // (data::LoaderOptions::shard); gradients are averaged, rank 0
                                                  // alone writes the checkpoint, log and pictures. nullptr: one process
    bool synchronise_batch_norm = false;          // with a communicator: BatchNorm layers normalise with the
                                                  // statistics of the whole global batch (nn/batch_norm_group.hpp)
                                                  // instead of each rank's share (the default, as DDP)
};

struct EpochRecord {
    int epoch = 0;
    double train_loss = 0, validation_loss = 0, learning_rate = 0, seconds = 0;
    metrics::ColorizationScores model, gray;
};

enum class stop_reason { finished, early_stopping, non_finite_loss, interrupted };

struct TrainResult {
    stop_reason reason = stop_reason::finished;
    std::vector<EpochRecord> epochs;
    std::string message;
};

/// "PSNR 22.90 dB (gray 22.10)  dE2000 ... colourfulness 14.7 of 42.7", for the epoch's report.
inline std::string scores_text(const metrics::ColorizationScores& model, const metrics::ColorizationScores& gray) {
    char text[160];
    std::snprintf(text, sizeof text, "PSNR %.2f dB (gray %.2f)  dE2000 %.2f (gray %.2f)  colourfulness %.1f of %.1f",
                  model.psnr_rgb.value_or(0), gray.psnr_rgb.value_or(0), model.delta_e2000, gray.delta_e2000,
                  model.colourfulness.value_or(0), model.true_colourfulness.value_or(0));
    return text;
}

namespace detail {
inline std::atomic<bool> interrupt_requested{false};
extern "C" inline void request_interrupt(int) { interrupt_requested.store(true); }

/// Scales the float RGB from color::lab_to_rgb ([0, 1]) to the [0, 255] the RGB metrics take.
inline void lab_to_rgb255(const Tensor<float>& lab, Tensor<float>& rgb) {
    const Shape s = lab.shape();
    Tensor<float> lightness(Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w}), ab(Shape{.n = s.n, .c = 2, .h = s.h, .w = s.w});
    for (index_t n = 0; n < s.n; ++n) {
        std::copy_n(lab.data() + n * s.per_sample(), s.plane(), lightness.data() + n * s.plane());
        std::copy_n(lab.data() + n * s.per_sample() + s.plane(), 2 * s.plane(), ab.data() + n * 2 * s.plane());
    }
    color::lab_to_rgb(lightness, ab, rgb);
    for (index_t i = 0; i < rgb.size(); ++i) rgb.data()[i] *= 255.0f;
}

/// Running weighted means of the metrics over validation batches.
struct ScoreMean {
    double weight = 0;
    metrics::ColorizationScores sum;
    void add(const metrics::ColorizationScores& s, double w) {
        weight += w;
        sum.psnr_ab += w * s.psnr_ab;
        sum.auc += w * s.auc;
        sum.delta_e2000 += w * s.delta_e2000;
        auto add_optional = [&](std::optional<double>& to, const std::optional<double>& from) {
            if (from) to = to.value_or(0.0) + w * *from;
        };
        add_optional(sum.psnr_rgb, s.psnr_rgb);
        add_optional(sum.ssim_rgb, s.ssim_rgb);
        add_optional(sum.colourfulness, s.colourfulness);
        add_optional(sum.true_colourfulness, s.true_colourfulness);
    }
    metrics::ColorizationScores mean() const {
        metrics::ColorizationScores m = sum;
        if (weight <= 0) return m;
        m.psnr_ab /= weight;
        m.auc /= weight;
        m.delta_e2000 /= weight;
        for (auto* o : {&m.psnr_rgb, &m.ssim_rgb, &m.colourfulness, &m.true_colourfulness})
            if (*o) **o /= weight;
        return m;
    }
};

/// The validation scores' columns of a log row: the model's and the gray baseline's.
inline std::vector<std::pair<std::string, double>> score_columns(const metrics::ColorizationScores& model,
                                                                 const metrics::ColorizationScores& gray) {
    auto opt = [](const std::optional<double>& v) { return v.value_or(std::nan("")); };
    return {{"psnr_rgb", opt(model.psnr_rgb)},   {"gray_psnr_rgb", opt(gray.psnr_rgb)},
            {"ssim_rgb", opt(model.ssim_rgb)},   {"gray_ssim_rgb", opt(gray.ssim_rgb)},
            {"psnr_ab", model.psnr_ab},          {"auc", model.auc},
            {"gray_auc", gray.auc},              {"delta_e2000", model.delta_e2000},
            {"gray_delta_e2000", gray.delta_e2000}, {"colourfulness", opt(model.colourfulness)},
            {"true_colourfulness", opt(model.true_colourfulness)}};
}

/// Why training stopped on a NaN or infinite loss, and where the last good checkpoint is.
inline std::string non_finite_message(const std::string& what, double bad_loss, int epoch, long long step,
                                      const std::filesystem::path& checkpoint, const std::string& advice) {
    std::string text = "training stopped: " + what + " became " + (std::isnan(bad_loss) ? "NaN" : "infinite") +
                       " in epoch " + std::to_string(epoch + 1) + " (step " + std::to_string(step + 1) + ")";
    if (std::filesystem::exists(checkpoint))
        text += "; the last good checkpoint, after epoch " + std::to_string(epoch) + ", is " + checkpoint.string();
    return text + ". " + advice;
}

/// An optimiser's state, step count and learning rate in a checkpoint, under `prefix`.
template <class Optimiser>
void save_optimiser(io::Checkpoint& c, Optimiser& o, const std::string& prefix) {
    o.visit_state([&](const std::string& name, Tensor<float>& t) { c.put(prefix + name, t); });
    c.put_integer(prefix + "steps", o.steps());
    c.put_real(prefix + "learning_rate", o.learning_rate());
}
/// A parameter with no state at all in the checkpoint was not training when it was saved (a
/// frozen encoder released in the epoch that follows) and starts fresh, as it would have in the
/// uninterrupted run and as PyTorch's optimisers do; one with only part of its state is an error.
template <class Net, class Optimiser>
void restore_optimiser(const io::Checkpoint& c, Net& net, Optimiser& o, const std::string& prefix) {
    o.attach(net);
    std::map<std::string, int> buffers_saved;  // per parameter: "3.weight.exp_avg" belongs to "3.weight"
    auto parameter_of = [](const std::string& state_name) { return state_name.substr(0, state_name.rfind('.')); };
    o.visit_state([&](const std::string& name, Tensor<float>&) {
        buffers_saved[parameter_of(name)] += c.contains(prefix + name) ? 1 : 0;
    });
    o.visit_state([&](const std::string& name, Tensor<float>& t) {
        // get() throws, naming the entry, when only part of a parameter's state is there.
        if (buffers_saved[parameter_of(name)] > 0) c.get(prefix + name, t);
    });
    o.set_steps(c.get_integer(prefix + "steps"));
    o.set_learning_rate(c.get_real(prefix + "learning_rate"));
}

/// The ranks a trainer was given, or one process alone.
inline distributed::Communicator& ranks_or_alone(distributed::Communicator* communicator) {
    static distributed::SingleProcess alone;
    return communicator ? *communicator : alone;
}

/// Whether rank 0 finds `checkpoint` to resume from (rank 0 alone looks: the others may not see
/// its file system), told to every rank.
inline bool root_resumes(distributed::Communicator& ranks, bool resume, const std::filesystem::path& checkpoint) {
    double found = ranks.is_root() && resume && std::filesystem::exists(checkpoint) ? 1.0 : 0.0;
    ranks.broadcast(std::span<double>(&found, 1), 0);
    return found > 0;
}

/// One 8-bit RGB picture of image n of a Lab batch.
inline Image picture(const Tensor<float>& lightness, const Tensor<float>& ab, index_t n) {
    const Tensor<float> l = lightness.batch(n), a = ab.batch(n);
    Image image{.width = static_cast<int>(l.shape().w), .height = static_cast<int>(l.shape().h), .channels = 3, .pixels = {}};
    image.pixels = color::lab_to_rgb8(l, a);
    return image;
}
}  // namespace detail

template <class Net, class Task, class Optimiser>
class Trainer {
    // Distributed training exchanges host memory (distributed/synchronise.hpp).
    static constexpr bool on_cpu = [] {
        if constexpr (requires { typename Net::backend; }) return std::is_same_v<typename Net::backend, cpu>;
        return false;
    }();

public:
    Trainer(Net& model, Task& task, Optimiser& optimiser, TrainerOptions options)
        : model_(model), task_(task), optimiser_(optimiser), options_(std::move(options)) {}

    std::filesystem::path checkpoint_path() const { return options_.output / "checkpoint.ckpt"; }

    template <BatchSource Train, BatchSource Validation>
    TrainResult fit(Train& train, Validation& validation) {
        if (root()) std::filesystem::create_directories(options_.output);
        TrainResult result;
        const int first_epoch = start();
        const auto log =
            root() ? detail::open_run_log(options_.output / "log.csv", first_epoch > 0, restored_log_) : nullptr;
        detail::interrupt_requested.store(false);
        const auto previous_handler = std::signal(SIGINT, detail::request_interrupt);

        for (int epoch = first_epoch; epoch < options_.epochs; ++epoch) {
            EpochRecord record;
            record.epoch = epoch + 1;
            if (options_.before_epoch) options_.before_epoch(epoch);
            if (options_.learning_rate_at) optimiser_.set_learning_rate(options_.learning_rate_at(epoch));
            record.learning_rate = optimiser_.learning_rate();
            const auto outcome = train_epoch(train, epoch, record);
            if (outcome != stop_reason::finished) {
                result.reason = outcome;
                result.message = outcome == stop_reason::interrupted ? interrupted(epoch, log ? log->text() : "")
                                                                      : non_finite(epoch);
                break;
            }
            validate(validation, epoch, record);
            if (options_.on_epoch_end) options_.on_epoch_end(record);
            history_.push_back(record);
            result.epochs.push_back(record);
            const bool improved = record.validation_loss < best_;
            if (improved) {
                best_ = record.validation_loss;
                bad_epochs_ = 0;
            } else {
                ++bad_epochs_;
            }
            if (root()) {
                write_log(*log, record);
                save(epoch + 1, log->text());
                draw_curves();
                report(record);
            }
            if (options_.early_stopping_patience > 0 && bad_epochs_ >= options_.early_stopping_patience) {
                result.reason = stop_reason::early_stopping;
                result.message = "stopped early: no better validation loss for " + std::to_string(bad_epochs_) + " epochs";
                break;
            }
        }
        std::signal(SIGINT, previous_handler);
        if (!result.message.empty() && !quiet()) std::fprintf(stderr, "%s\n", result.message.c_str());
        return result;
    }

    const std::vector<EpochRecord>& history() const { return history_; }

private:
    template <class Source>
    stop_reason train_epoch(Source& train, int epoch, EpochRecord& record) {
        model_.train();
        if constexpr (requires { task_.start_pass(false); }) task_.start_pass(false);
        train.start_epoch(epoch);
        double epoch_images = static_cast<double>(train.images_per_epoch());
        communicator().all_reduce_sum(std::span<double>(&epoch_images, 1));
        Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options_.epochs),
                          static_cast<long long>(epoch_images), "images", quiet() ? nullptr : stderr);
        double loss_sum = 0;
        long long images = 0;
        const bool synchronise = options_.synchronise_batch_norm && communicator().size() > 1;
        std::optional<SynchronisedBatchNorm> synchronised_batch_norm;
        if (synchronise) synchronised_batch_norm.emplace(communicator());
        while (auto batch = train.next()) {
            const bool alone = communicator().size() == 1;
            if (alone && detail::interrupt_requested.load()) return stop_reason::interrupted;
            const index_t local_images = batch->size();  // 0: a rank whose share was all unreadable
            if (synchronise && skip_batch_without_images_on_some_rank(local_images)) continue;
            const double local_loss =
                local_images > 0 ? task_.loss(model_.forward(task_.input(*batch)), *batch, grad_) : 0.0;
            // One exchange per step: the global loss, the global batch, and whether any rank was interrupted.
            double step[3] = {local_loss * static_cast<double>(local_images), static_cast<double>(local_images),
                              detail::interrupt_requested.load() ? 1.0 : 0.0};
            communicator().all_reduce_sum(std::span<double>(step));
            if (step[2] > 0) return stop_reason::interrupted;
            const double global_images = step[1];
            const double loss = alone ? local_loss : step[0] / global_images;
            if (!std::isfinite(loss)) {
                bad_loss_ = loss;
                return stop_reason::non_finite_loss;
            }
            model_.zero_grad();
            if (local_images > 0) model_.backward(grad_);
            average_gradients(static_cast<double>(local_images), global_images);
            if (options_.clip_grad_norm > 0) optim::clip_grad_norm(model_, options_.clip_grad_norm);
            optimiser_.step(model_);
            ++step_;
            loss_sum += loss * global_images;
            images += static_cast<long long>(global_images);
            char status[64];
            std::snprintf(status, sizeof status, "loss %.5f", loss_sum / static_cast<double>(images));
            progress.advance(static_cast<long long>(global_images), status);
        }
        progress.finish();
        record.train_loss = images ? loss_sum / static_cast<double>(images) : 0.0;
        record.seconds = progress.elapsed();
        return stop_reason::finished;
    }

    template <class Source>
    void validate(Source& validation, int epoch, EpochRecord& record) {
        model_.eval();
        if constexpr (requires { task_.start_pass(true); }) task_.start_pass(true);
        validation.start_epoch(0);  // the same order every time
        detail::ScoreMean model_scores, gray_scores;
        double loss_sum = 0;
        long long images = 0;
        std::vector<std::vector<Image>> rows;
        while (auto batch = validation.next()) {
            const Tensor<float>& prediction = model_.forward(task_.input(*batch));
            loss_sum += task_.loss(prediction, *batch, grad_) * static_cast<double>(batch->size());
            images += batch->size();
            const Tensor<float>& ab = task_.predicted_ab(prediction);
            const double w = static_cast<double>(batch->size());
            model_scores.add(metrics::score_colorization(batch->lightness, ab, batch->ab, detail::lab_to_rgb255), w);
            gray_scores.add(metrics::gray_baseline(batch->lightness, batch->ab, detail::lab_to_rgb255), w);
            const Tensor<float> zero_ab(batch->ab.shape());
            for (index_t n = 0; n < batch->size() && static_cast<int>(rows.size()) < options_.sample_rows; ++n)
                rows.push_back({detail::picture(batch->lightness, zero_ab, n), detail::picture(batch->lightness, ab, n),
                                detail::picture(batch->lightness, batch->ab, n)});
        }
        record.validation_loss = images ? loss_sum / static_cast<double>(images) : 0.0;
        record.model = model_scores.mean();
        record.gray = gray_scores.mean();
        if (!rows.empty() && root()) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_epoch_%03d.png", epoch + 1);
            save_png(options_.output / name, draw::picture_grid(rows, {"gray input", "prediction", "ground truth"}, 4, 96));
        }
    }

    /// Synchronised BatchNorm sums over every rank inside the forward, so every rank must run it:
    /// when some rank's share of a global batch was all unreadable, every rank skips that batch.
    bool skip_batch_without_images_on_some_rank(index_t local_images) {
        double empty = local_images == 0 ? 1.0 : 0.0;
        communicator().all_reduce_sum(std::span<double>(&empty, 1));
        if (empty == 0.0) return false;
        if (root() && !quiet())
            std::fprintf(stderr, "\nskipped a global batch: %d rank(s) had no readable images in it, and "
                                 "synchronised BatchNorm needs images on every rank\n", static_cast<int>(empty));
        return true;
    }

    distributed::Communicator& communicator() { return detail::ranks_or_alone(options_.communicator); }
    bool root() const { return options_.communicator == nullptr || options_.communicator->is_root(); }
    bool quiet() const { return options_.quiet || !root(); }

    // The epoch to start from: 0, or after the checkpoint's when resuming. With several ranks, rank
    // 0 alone reads the checkpoint (the others may not see its file system) and sends every rank
    // the weights, the optimiser state and the counters, so all start from the same model.
    int start() {
        auto& ranks = communicator();
        const bool found = detail::root_resumes(ranks, options_.resume, checkpoint_path());
        int first_epoch = found && root() ? restore() : 0;
        if (ranks.size() == 1) return first_epoch;
        double counters[4] = {static_cast<double>(first_epoch), static_cast<double>(step_), best_,
                              static_cast<double>(bad_epochs_)};
        ranks.broadcast(std::span<double>(counters), 0);
        first_epoch = static_cast<int>(counters[0]);
        step_ = static_cast<long long>(counters[1]);
        best_ = counters[2];
        bad_epochs_ = static_cast<int>(counters[3]);
        if constexpr (on_cpu) {
            if (found && !root()) {
                if (options_.before_epoch) options_.before_epoch(first_epoch);
                optimiser_.attach(model_);
            }
            distributed::broadcast_parameters(model_, ranks);
            if (found) distributed::broadcast_optimiser(optimiser_, ranks);
        } else {
            throw usage_error("distributed training runs on the CPU backend (" + ranks.describe() + ")");
        }
        return first_epoch;
    }

    void average_gradients(double local_images, double global_images) {
        if constexpr (on_cpu)
            if (communicator().size() > 1) averager_(model_, communicator(), local_images, global_images);
    }

    void save(int epochs_done, const std::string& log_text) {
        io::Checkpoint c;
        io::save_parameters(c, model_);
        c.put_text("log", log_text);
        detail::save_optimiser(c, optimiser_, "optimiser.");
        c.put_integer("epoch", epochs_done);
        c.put_integer("step", step_);
        c.put_real("best_validation_loss", best_);
        c.put_integer("bad_epochs", bad_epochs_);
        if (!options_.architecture.empty()) c.put_text("architecture", options_.architecture);
        c.put_text("task", task_.describe());
        c.save(checkpoint_path());
    }

    int restore() {
        const auto c = io::Checkpoint::load(checkpoint_path());
        io::load_parameters(c, model_);
        // The optimiser holds state for what trains in the next epoch.
        if (options_.before_epoch) options_.before_epoch(static_cast<int>(c.get_integer("epoch")));
        detail::restore_optimiser(c, model_, optimiser_, "optimiser.");
        step_ = c.get_integer("step");
        best_ = c.get_real("best_validation_loss");
        bad_epochs_ = static_cast<int>(c.get_integer("bad_epochs"));
        if (c.contains("log")) {
            restored_log_ = c.get_text("log");
            for (const auto& row : CsvLog::rows(*restored_log_)) {
                EpochRecord r;
                r.epoch = static_cast<int>(row.at("epoch"));
                r.train_loss = row.at("train_loss");
                r.validation_loss = row.at("validation_loss");
                r.learning_rate = row.at("learning_rate");
                r.seconds = row.at("seconds");
                history_.push_back(r);  // the loss curve then covers the whole run
            }
        }
        if (!options_.quiet)
            std::fprintf(stderr, "resuming from %s after epoch %lld\n", checkpoint_path().c_str(),
                         static_cast<long long>(c.get_integer("epoch")));
        return static_cast<int>(c.get_integer("epoch"));
    }

    void write_log(CsvLog& log, const EpochRecord& r) {
        std::vector<std::pair<std::string, double>> row{{"epoch", r.epoch},
                                                        {"train_loss", r.train_loss},
                                                        {"validation_loss", r.validation_loss},
                                                        {"learning_rate", r.learning_rate},
                                                        {"seconds", r.seconds}};
        for (auto& column : detail::score_columns(r.model, r.gray)) row.push_back(std::move(column));
        log.write(row);
    }

    void draw_curves() {
        draw::Series train{"train loss", {}, {}}, validation{"validation loss", {}, {}};
        for (const auto& r : history_) {
            train.x.push_back(r.epoch);
            train.y.push_back(r.train_loss);
            validation.x.push_back(r.epoch);
            validation.y.push_back(r.validation_loss);
        }
        save_png(options_.output / "loss.png", draw::line_plot({train, validation}, {.title = "loss", .log_y = true}));
    }

    void report(const EpochRecord& r) const {
        if (quiet()) return;
        std::fprintf(stderr, "epoch %d: train %.5f  validation %.5f  %s\n", r.epoch, r.train_loss, r.validation_loss,
                     scores_text(r.model, r.gray).c_str());
    }

    std::string non_finite(int epoch) const {
        return detail::non_finite_message("the loss", bad_loss_, epoch, step_, checkpoint_path(),
                                          "Try a lower learning rate or gradient clipping.");
    }
    std::string interrupted(int epoch, const std::string& log_text) {
        if (root()) save(epoch, log_text);  // the epoch in progress is not counted: resuming repeats it
        return "interrupted: saved " + checkpoint_path().string() + " (resume repeats epoch " + std::to_string(epoch + 1) + ")";
    }

    Net& model_;
    Task& task_;
    Optimiser& optimiser_;
    TrainerOptions options_;
    Tensor<float> grad_;
    std::vector<EpochRecord> history_;
    std::optional<std::string> restored_log_;  // the checkpoint's copy of log.csv, when resuming
    distributed::GradientAverager averager_;
    double best_ = std::numeric_limits<double>::infinity();
    double bad_loss_ = 0;
    int bad_epochs_ = 0;
    long long step_ = 0;
};

}  // namespace chroma::train
