#pragma once
// GanTrainer: seed 004's conditional GAN. The generator maps normalised L to ab / 110 (tanh);
// the discriminator sees L and ab stacked (models::condition_on_l), real pairs (L, ab) against
// generated ones (L, G(L)). One step on a batch:
//
//   1. the discriminator (critic) takes one update on the adversarial objective's D loss, then,
//      for WGAN, has its weights clipped to [-c, c];
//   2. every `critic_steps`-th batch (WGAN: 5; otherwise every batch), the generator takes one
//      update on lambda_1 L_adv + lambda_2 L1 + lambda_3 L2 (loss/generator_objective.hpp), its
//      adversarial gradient passed back through the just-updated discriminator.
//
// The discriminator scores real and fake pairs in two passes (not one batch of both), so its
// BatchNorm normalises each kind on its own, as pix2pix does; the gradient of one pass is taken
// while its activations are the ones cached, which costs one extra forward pass of D per step.
// WGAN's critic steps are spread over batches (a new batch for each, as in Arjovsky et al.)
// rather than repeated on one.
//
// The critic is a wrapper with forward(pair) -> scores and backward(d scores) -> d pair:
// ScoreCritic for a net whose output is the score map (PatchDiscriminator: DCGAN, LSGAN, WGAN),
// EnergyCritic for an autoencoder whose per-image reconstruction error is the energy (EBGAN).
//
// Around the steps: per-epoch validation (the reconstruction terms and every colour metric beside
// the gray baseline), a progress line, log.csv, loss.png, a sample grid per epoch, an atomic
// checkpoint of both nets and their optimisers after every epoch (and on Ctrl-C), a stop with a
// message on a NaN or infinite loss, and resuming.
//
// Data-parallel (GanOptions::communicator), as Trainer: each rank runs the step on its share of
// every global batch; both nets' gradients are averaged over the ranks (weighted by each share)
// before each update, so every rank takes the update one process takes on the whole batch.
// Rank 0's weights, optimiser state and counters start every rank; rank 0 alone writes the
// checkpoint, log and pictures. BatchNorm normalises each rank's share (as DDP), and each rank's
// dropout draws its own masks, so a run with dropout matches one process in distribution, not
// bit for bit.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../backend/cpu/elementwise.hpp"
#include "../distributed/synchronise.hpp"
#include "../color/normalization.hpp"
#include "../loss/clip_weights.hpp"
#include "../loss/generator_objective.hpp"
#include "../loss/reconstruction_energy.hpp"
#include "../models/gan.hpp"
#include "trainer.hpp"

namespace chroma::train {

/// A discriminator whose output is its score map (one score per patch).
template <class Net>
class ScoreCritic {
public:
    explicit ScoreCritic(Net& net) : net_(net) {}
    Net& net() { return net_; }
    static std::string describe() { return "patch discriminator"; }
    const Tensor<float>& forward(const Tensor<float>& pair) { return net_.forward(pair); }
    const Tensor<float>& backward(const Tensor<float>& grad_scores) { return net_.backward(grad_scores); }

private:
    Net& net_;
};

/// EBGAN's discriminator: an autoencoder whose energy is its per-image reconstruction error.
template <class Net>
class EnergyCritic {
public:
    explicit EnergyCritic(Net& net) : net_(net) {}
    Net& net() { return net_; }
    static std::string describe() { return "autoencoder discriminator (energy = reconstruction MSE)"; }
    const Tensor<float>& forward(const Tensor<float>& pair) {
        pair_ = &pair;
        reconstruction_ = &net_.forward(pair);
        loss::reconstruction_energy(pair, *reconstruction_, energy_);
        return energy_;
    }
    /// The energy depends on the pair both through the reconstruction and directly.
    const Tensor<float>& backward(const Tensor<float>& grad_energy) {
        loss::reconstruction_energy_backward(*pair_, *reconstruction_, grad_energy, grad_reconstruction_, &grad_pair_);
        kernels::axpy(1.0f, net_.backward(grad_reconstruction_), grad_pair_);
        return grad_pair_;
    }

private:
    Net& net_;
    const Tensor<float>* pair_ = nullptr;
    const Tensor<float>* reconstruction_ = nullptr;
    Tensor<float> energy_, grad_reconstruction_, grad_pair_;
};

struct GanOptions {
    int epochs = 10;
    std::filesystem::path output = "runs/gan";  // checkpoint, log.csv, loss.png, samples_*.png
    loss::GeneratorWeights weights{.adversarial = 1.0, .l1 = 100.0, .l2 = 0.0};  // lambda_1, _2, _3
    int critic_steps = 1;       // discriminator updates per generator update (WGAN: 5)
    double weight_clip = 0.0;   // > 0: clamp the critic's weights to [-c, c] after each update (WGAN)
    color::Normalization lightness = color::lightness_centered;
    color::Normalization ab = color::ab_over_110;  // the generator's tanh output times 110 is ab
    int sample_rows = 4;
    bool resume = false;
    bool quiet = false;
    std::string architecture = "gan-generator";  // recorded in the checkpoint
    std::string description;                     // the recipe, recorded as "task"
    distributed::Communicator* communicator = nullptr;  // data-parallel training: every rank runs the
                                                 // trainer on its shard of each global batch; nullptr: one process
};

/// The losses of one step (the generator's are those of its last update), means over the global
/// batch when there are several ranks.
struct GanStepLosses {
    double discriminator = 0;
    loss::GeneratorTerms generator;  // unweighted terms and the weighted total
    bool generator_updated = false;
    double images = 0;  // in the batch (the global batch, with several ranks)
};

struct GanEpochRecord {
    int epoch = 0;
    double discriminator_loss = 0, generator_loss = 0, generator_adversarial = 0, generator_l1 = 0, generator_l2 = 0;
    double validation_loss = 0, validation_l1 = 0, validation_l2 = 0, seconds = 0;
    metrics::ColorizationScores model, gray;
};

struct GanResult {
    stop_reason reason = stop_reason::finished;
    std::vector<GanEpochRecord> epochs;
    std::string message;
};

template <class Generator, class Critic, class Adversarial, class GeneratorOptimiser, class CriticOptimiser>
class GanTrainer {
public:
    GanTrainer(Generator& generator, Critic critic, Adversarial adversarial, GeneratorOptimiser& generator_optimiser,
               CriticOptimiser& critic_optimiser, GanOptions options)
        : generator_(generator), critic_(std::move(critic)), adversarial_(adversarial),
          objective_(std::move(adversarial), options.weights), generator_optimiser_(generator_optimiser),
          critic_optimiser_(critic_optimiser), options_(std::move(options)) {
        if (options_.critic_steps < 1)
            throw usage_error("GanTrainer: critic_steps must be at least 1, got " + std::to_string(options_.critic_steps));
        if (options_.weight_clip < 0)
            throw usage_error("GanTrainer: weight_clip must be >= 0 (0: no clipping)");
    }

    std::filesystem::path checkpoint_path() const { return options_.output / "checkpoint.ckpt"; }

    /// One training step on a batch (see the top of this file): on this rank's share of the
    /// global batch when there are several ranks (a share may be empty: its rank contributes
    /// nothing but takes the same updates).
    GanStepLosses step(const Batch& batch) {
        const double local_images = static_cast<double>(batch.size());
        double global_images = local_images;
        communicator().all_reduce_sum(std::span<double>(&global_images, 1));
        if (!(global_images > 0)) throw usage_error("GanTrainer: a global batch without images");
        const bool has_images = local_images > 0;
        generator_.train();
        critic_.net().train();
        GanStepLosses losses;
        losses.images = global_images;
        critic_.net().zero_grad();
        if (has_images) {
            prepare(batch);
            copy_into(generator_.forward(l_), fake_);
            real_pair_ = models::condition_on_l(l_, ab_);
            fake_pair_ = models::condition_on_l(l_, fake_);
            copy_into(critic_.forward(real_pair_), real_scores_);
            copy_into(critic_.forward(fake_pair_), fake_scores_);
            losses.discriminator =
                adversarial_.discriminator_forward_backward(real_scores_, fake_scores_, grad_real_, grad_fake_);
            critic_.backward(grad_fake_);  // the fake pass is the one cached
            critic_.forward(real_pair_);
            critic_.backward(grad_real_);
        }
        averager_(critic_.net(), communicator(), local_images, global_images);  // nothing to do alone
        critic_optimiser_.step(critic_.net());
        if (options_.weight_clip > 0) loss::clip_weights(critic_.net(), options_.weight_clip);

        if (++critic_updates_ % options_.critic_steps == 0) {
            generator_.zero_grad();
            if (has_images) {
                copy_into(critic_.forward(fake_pair_), fake_scores_);
                losses.generator = objective_.breakdown(fake_scores_, fake_, ab_);
                objective_.forward_backward(fake_scores_, fake_, ab_, grad_scores_, grad_prediction_);
                add_ab_part(critic_.backward(grad_scores_), grad_prediction_);
                generator_.backward(grad_prediction_);  // the generator's forward of this step is still cached
            }
            averager_(generator_, communicator(), local_images, global_images);
            generator_optimiser_.step(generator_);
            losses.generator_updated = true;
        }
        mean_over_ranks(losses, local_images, global_images);
        if (losses.generator_updated)
            last_generator_ = losses.generator;
        else
            losses.generator = last_generator_;
        return losses;
    }

    /// The generator's ab (CIELAB units) for a batch, in evaluation mode.
    const Tensor<float>& predict(const Batch& batch) {
        prepare(batch);
        generator_.eval();
        copy_into(generator_.forward(l_), predicted_ab_);
        color::denormalize_in_place(predicted_ab_, options_.ab);
        return predicted_ab_;
    }

    template <BatchSource Train, BatchSource Validation>
    GanResult fit(Train& train, Validation& validation) {
        if (root()) std::filesystem::create_directories(options_.output);
        GanResult result;
        const int first_epoch = start();
        const auto log =
            root() ? detail::open_run_log(options_.output / "log.csv", first_epoch > 0, restored_log_) : nullptr;
        detail::interrupt_requested.store(false);
        const auto previous_handler = std::signal(SIGINT, detail::request_interrupt);
        for (int epoch = first_epoch; epoch < options_.epochs; ++epoch) {
            GanEpochRecord record;
            record.epoch = epoch + 1;
            const stop_reason outcome = train_epoch(train, epoch, record);
            if (outcome != stop_reason::finished) {
                result.reason = outcome;
                result.message = outcome == stop_reason::interrupted ? interrupted(epoch, log ? log->text() : "")
                                                                      : non_finite(epoch);
                break;
            }
            validate(validation, epoch, record);
            history_.push_back(record);
            result.epochs.push_back(record);
            if (root()) {
                write_log(*log, record);
                save(epoch + 1, log->text());
                draw_curves();
                report(record);
            }
        }
        std::signal(SIGINT, previous_handler);
        if (!result.message.empty() && !quiet()) std::fprintf(stderr, "%s\n", result.message.c_str());
        return result;
    }

    const std::vector<GanEpochRecord>& history() const { return history_; }

private:
    static void copy_into(const Tensor<float>& from, Tensor<float>& to) {
        to.resize(from.shape());
        kernels::copy(from, to);
    }

    distributed::Communicator& communicator() { return detail::ranks_or_alone(options_.communicator); }
    bool root() const { return options_.communicator == nullptr || options_.communicator->is_root(); }
    bool quiet() const { return options_.quiet || !root(); }

    // The step's losses (each rank's the mean over its share) become means over the global batch.
    void mean_over_ranks(GanStepLosses& losses, double local_images, double global_images) {
        if (communicator().size() == 1) return;
        loss::GeneratorTerms& g = losses.generator;
        double sums[5] = {losses.discriminator, g.adversarial, g.l1, g.l2, g.total};
        for (double& v : sums) v *= local_images;
        communicator().all_reduce_sum(std::span<double>(sums));
        for (double& v : sums) v /= global_images;
        losses.discriminator = sums[0];
        g.adversarial = sums[1];
        g.l1 = sums[2];
        g.l2 = sums[3];
        g.total = sums[4];
    }

    // Whether Ctrl-C reached this process or, with several ranks, any of them.
    bool interrupt_requested_anywhere() {
        double requested = detail::interrupt_requested.load() ? 1.0 : 0.0;
        communicator().all_reduce_sum(std::span<double>(&requested, 1));
        return requested > 0;
    }

    // The epoch to start from: 0, or the checkpoint's when resuming. With several ranks, rank 0
    // alone reads the checkpoint and sends every rank both nets, both optimisers' state and the
    // counters, so all start from the same models.
    int start() {
        auto& ranks = communicator();
        const bool found = detail::root_resumes(ranks, options_.resume, checkpoint_path());
        int first_epoch = found && root() ? restore() : 0;
        if (ranks.size() == 1) return first_epoch;
        double counters[3] = {static_cast<double>(first_epoch), static_cast<double>(step_),
                              static_cast<double>(critic_updates_)};
        ranks.broadcast(std::span<double>(counters), 0);
        first_epoch = static_cast<int>(counters[0]);
        step_ = static_cast<long long>(counters[1]);
        critic_updates_ = static_cast<long long>(counters[2]);
        if (found && !root()) {
            generator_optimiser_.attach(generator_);
            critic_optimiser_.attach(critic_.net());
        }
        distributed::broadcast_parameters(generator_, ranks);
        distributed::broadcast_parameters(critic_.net(), ranks);
        if (found) {
            distributed::broadcast_optimiser(generator_optimiser_, ranks);
            distributed::broadcast_optimiser(critic_optimiser_, ranks);
        }
        return first_epoch;
    }

    // Normalised L and ab of a batch into l_ and ab_.
    void prepare(const Batch& batch) {
        copy_into(batch.lightness, l_);
        color::normalize_in_place(l_, options_.lightness);
        copy_into(batch.ab, ab_);
        color::normalize_in_place(ab_, options_.ab);
    }

    // grad_ab += the ab channels (1 and 2) of the gradient w.r.t. the pair (L, ab).
    void add_ab_part(const Tensor<float>& grad_pair, Tensor<float>& grad_ab) {
        const Shape s = grad_pair.shape();
        grad_l_.resize(Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w});
        grad_pair_ab_.resize(Shape{.n = s.n, .c = 2, .h = s.h, .w = s.w});
        kernels::split_channels(grad_pair, grad_l_, grad_pair_ab_);
        kernels::axpy(1.0f, grad_pair_ab_, grad_ab);
    }

    template <class Source>
    stop_reason train_epoch(Source& train, int epoch, GanEpochRecord& record) {
        train.start_epoch(epoch);
        double epoch_images = static_cast<double>(train.images_per_epoch());
        communicator().all_reduce_sum(std::span<double>(&epoch_images, 1));
        Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options_.epochs),
                          static_cast<long long>(epoch_images), "images", quiet() ? nullptr : stderr);
        double d_sum = 0, g_sum = 0, adv_sum = 0, l1_sum = 0, l2_sum = 0, g_images = 0;
        long long images = 0;
        while (auto batch = train.next()) {
            if (interrupt_requested_anywhere()) return stop_reason::interrupted;
            const GanStepLosses losses = step(*batch);
            if (!std::isfinite(losses.discriminator) || !std::isfinite(losses.generator.total)) {
                bad_loss_ = std::isfinite(losses.discriminator) ? losses.generator.total : losses.discriminator;
                return stop_reason::non_finite_loss;
            }
            ++step_;
            const double n = losses.images;
            d_sum += losses.discriminator * n;
            if (losses.generator_updated) {
                g_sum += losses.generator.total * n;
                adv_sum += losses.generator.adversarial * n;
                l1_sum += losses.generator.l1 * n;
                l2_sum += losses.generator.l2 * n;
                g_images += n;
            }
            images += static_cast<long long>(n);
            char status[96];
            std::snprintf(status, sizeof status, "D %.4f  G %.4f", d_sum / static_cast<double>(images),
                          g_images > 0 ? g_sum / g_images : 0.0);
            progress.advance(static_cast<long long>(n), status);
        }
        progress.finish();
        if (images > 0) record.discriminator_loss = d_sum / static_cast<double>(images);
        if (g_images > 0) {
            record.generator_loss = g_sum / g_images;
            record.generator_adversarial = adv_sum / g_images;
            record.generator_l1 = l1_sum / g_images;
            record.generator_l2 = l2_sum / g_images;
        }
        record.seconds = progress.elapsed();
        return stop_reason::finished;
    }

    // Validation loss: the generator's weighted L1 + L2 terms (plain L1 when both weights are 0);
    // the adversarial term is left out, as it measures the discriminator as much as the generator.
    template <class Source>
    void validate(Source& validation, int epoch, GanEpochRecord& record) {
        critic_.net().eval();
        validation.start_epoch(0);
        detail::ScoreMean model_scores, gray_scores;
        double l1_sum = 0, l2_sum = 0;
        long long images = 0;
        std::vector<std::vector<Image>> rows;
        while (auto batch = validation.next()) {
            const Tensor<float>& ab = predict(*batch);  // sets l_, ab_ and the normalised prediction
            fake_ = ab.clone();
            color::normalize_in_place(fake_, options_.ab);
            fake_pair_ = models::condition_on_l(l_, fake_);
            const loss::GeneratorTerms terms = objective_.breakdown(critic_.forward(fake_pair_), fake_, ab_);
            const double w = static_cast<double>(batch->size());
            l1_sum += terms.l1 * w;
            l2_sum += terms.l2 * w;
            images += batch->size();
            model_scores.add(metrics::score_colorization(batch->lightness, ab, batch->ab, detail::lab_to_rgb255), w);
            gray_scores.add(metrics::gray_baseline(batch->lightness, batch->ab, detail::lab_to_rgb255), w);
            const Tensor<float> zero_ab(batch->ab.shape());
            for (index_t n = 0; n < batch->size() && static_cast<int>(rows.size()) < options_.sample_rows; ++n)
                rows.push_back({detail::picture(batch->lightness, zero_ab, n), detail::picture(batch->lightness, ab, n),
                                detail::picture(batch->lightness, batch->ab, n)});
        }
        if (images > 0) {
            record.validation_l1 = l1_sum / static_cast<double>(images);
            record.validation_l2 = l2_sum / static_cast<double>(images);
        }
        const auto& w = options_.weights;
        record.validation_loss = w.l1 == 0 && w.l2 == 0 ? record.validation_l1
                                                        : w.l1 * record.validation_l1 + w.l2 * record.validation_l2;
        record.model = model_scores.mean();
        record.gray = gray_scores.mean();
        if (!rows.empty() && root()) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_epoch_%03d.png", epoch + 1);
            save_png(options_.output / name, draw::picture_grid(rows, {"gray input", "prediction", "ground truth"}, 4, 96));
        }
    }

    void save(int epochs_done, const std::string& log_text) {
        io::Checkpoint c;
        c.put_text("log", log_text);
        io::save_parameters(c, generator_, "generator.");
        io::save_parameters(c, critic_.net(), "discriminator.");
        detail::save_optimiser(c, generator_optimiser_, "generator_optimiser.");
        detail::save_optimiser(c, critic_optimiser_, "discriminator_optimiser.");
        c.put_integer("epoch", epochs_done);
        c.put_integer("step", step_);
        c.put_integer("critic_updates", critic_updates_);
        if (!options_.architecture.empty()) c.put_text("architecture", options_.architecture);
        c.put_text("task", task_text());
        c.save(checkpoint_path());
    }
    int restore() {
        const auto c = io::Checkpoint::load(checkpoint_path());
        io::load_parameters(c, generator_, "generator.");
        io::load_parameters(c, critic_.net(), "discriminator.");
        detail::restore_optimiser(c, generator_, generator_optimiser_, "generator_optimiser.");
        detail::restore_optimiser(c, critic_.net(), critic_optimiser_, "discriminator_optimiser.");
        step_ = c.get_integer("step");
        critic_updates_ = c.get_integer("critic_updates");
        const int epoch = static_cast<int>(c.get_integer("epoch"));
        if (c.contains("log")) {
            restored_log_ = c.get_text("log");
            for (const auto& row : CsvLog::rows(*restored_log_)) {
                GanEpochRecord r;
                r.epoch = static_cast<int>(row.at("epoch"));
                r.discriminator_loss = row.at("discriminator_loss");
                r.generator_loss = row.at("generator_loss");
                r.validation_loss = row.at("validation_loss");
                history_.push_back(r);  // the loss curve then covers the whole run
            }
        }
        if (!quiet()) std::fprintf(stderr, "resuming from %s after epoch %d\n", checkpoint_path().c_str(), epoch);
        return epoch;
    }

    std::string task_text() const {
        if (!options_.description.empty()) return options_.description;
        const auto& w = options_.weights;
        return "conditional GAN: " + Adversarial::describe() + " with " + Critic::describe() + "; generator loss " +
               chroma::detail::number_text(w.adversarial) + " adversarial + " + chroma::detail::number_text(w.l1) +
               " L1 + " + chroma::detail::number_text(w.l2) + " L2";
    }

    void write_log(CsvLog& log, const GanEpochRecord& r) {
        std::vector<std::pair<std::string, double>> row{{"epoch", r.epoch},
                                                        {"discriminator_loss", r.discriminator_loss},
                                                        {"generator_loss", r.generator_loss},
                                                        {"generator_adversarial", r.generator_adversarial},
                                                        {"generator_l1", r.generator_l1},
                                                        {"generator_l2", r.generator_l2},
                                                        {"validation_loss", r.validation_loss},
                                                        {"validation_l1", r.validation_l1},
                                                        {"validation_l2", r.validation_l2},
                                                        {"seconds", r.seconds}};
        for (auto& column : detail::score_columns(r.model, r.gray)) row.push_back(std::move(column));
        log.write(row);
    }

    // Linear axis: the WGAN losses are negative.
    void draw_curves() {
        draw::Series d{"discriminator loss", {}, {}}, g{"generator loss", {}, {}}, v{"validation loss", {}, {}};
        for (const auto& r : history_) {
            for (auto* s : {&d, &g, &v}) s->x.push_back(r.epoch);
            d.y.push_back(r.discriminator_loss);
            g.y.push_back(r.generator_loss);
            v.y.push_back(r.validation_loss);
        }
        save_png(options_.output / "loss.png", draw::line_plot({d, g, v}, {.title = "GAN losses"}));
    }

    void report(const GanEpochRecord& r) const {
        if (quiet()) return;
        std::fprintf(stderr, "epoch %d: D %.5f  G %.5f (adversarial %.4f, L1 %.4f, L2 %.4f)  validation %.5f  %s\n",
                     r.epoch, r.discriminator_loss, r.generator_loss, r.generator_adversarial, r.generator_l1,
                     r.generator_l2, r.validation_loss, scores_text(r.model, r.gray).c_str());
    }

    std::string non_finite(int epoch) const {
        return detail::non_finite_message("a GAN loss", bad_loss_, epoch, step_, checkpoint_path(),
                                          "Try lower learning rates.");
    }
    std::string interrupted(int epoch, const std::string& log_text) {
        if (root()) save(epoch, log_text);  // the epoch in progress is not counted: resuming repeats it
        return "interrupted: saved " + checkpoint_path().string() + " (resume repeats epoch " + std::to_string(epoch + 1) + ")";
    }

    std::optional<std::string> restored_log_;  // the checkpoint's copy of log.csv, when resuming
    Generator& generator_;
    Critic critic_;
    Adversarial adversarial_;
    loss::GeneratorObjective<Adversarial> objective_;
    GeneratorOptimiser& generator_optimiser_;
    CriticOptimiser& critic_optimiser_;
    GanOptions options_;
    Tensor<float> l_, ab_, fake_, real_pair_, fake_pair_, real_scores_, fake_scores_, grad_real_, grad_fake_,
        grad_scores_, grad_prediction_, grad_l_, grad_pair_ab_, predicted_ab_;
    loss::GeneratorTerms last_generator_;
    distributed::GradientAverager averager_;
    std::vector<GanEpochRecord> history_;
    double bad_loss_ = 0;
    long long step_ = 0, critic_updates_ = 0;
};

}  // namespace chroma::train
