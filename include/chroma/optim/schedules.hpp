#pragma once
// Learning-rate schedules. Each computes a rate and sets it on any optimiser with
// set_learning_rate(); call step() once per epoch (or per iteration, as you choose and say).
//   StepLR:            base * gamma^floor(epoch / step_size)                 (torch StepLR)
//   CosineAnnealing:   min + (base - min)(1 + cos(pi * epoch / epochs)) / 2  (torch closed form)
//   Warmup<Schedule>:  linear ramp from base*start_factor to the schedule over warmup steps
//   ReduceOnPlateau:   multiply by factor when a metric has not improved for `patience`
//                      epochs (torch ReduceLROnPlateau, mode min, relative threshold 1e-4;
//                      seed 001: factor 0.2, patience 10)
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "../core/error.hpp"

namespace chroma::optim {

class StepLR {
public:
    StepLR(double base_rate, int step_size, double gamma = 0.1) : base_(base_rate), step_size_(step_size), gamma_(gamma) {
        if (step_size <= 0) throw usage_error("StepLR: step_size must be positive");
    }
    double rate(int epoch) const { return base_ * std::pow(gamma_, epoch / step_size_); }

private:
    double base_;
    int step_size_;
    double gamma_;
};

class CosineAnnealing {
public:
    CosineAnnealing(double base_rate, int epochs, double min_rate = 0.0)
        : base_(base_rate), epochs_(epochs), min_(min_rate) {
        if (epochs <= 0) throw usage_error("CosineAnnealing: epochs must be positive");
    }
    double rate(int epoch) const {
        const double t = std::min(epoch, epochs_);
        return min_ + (base_ - min_) * (1.0 + std::cos(std::numbers::pi * t / epochs_)) / 2.0;
    }

private:
    double base_;
    int epochs_;
    double min_;
};

/// Linear warm-up over the first `warmup` steps, then `Schedule` (counted from the end of warm-up).
template <class Schedule>
class Warmup {
public:
    Warmup(Schedule after, int warmup, double start_factor = 0.0)
        : after_(after), warmup_(warmup), start_factor_(start_factor) {
        if (warmup < 0) throw usage_error("Warmup: the warm-up length must be >= 0");
    }
    double rate(int step) const {
        if (step >= warmup_) return after_.rate(step - warmup_);
        const double f = start_factor_ + (1.0 - start_factor_) * static_cast<double>(step) / warmup_;
        return after_.rate(0) * f;
    }

private:
    Schedule after_;
    int warmup_;
    double start_factor_;
};

/// Sets `optimiser`'s rate from `schedule` for `step`.
template <class Schedule, class Optimiser>
void apply(const Schedule& schedule, int step, Optimiser& optimiser) {
    optimiser.set_learning_rate(schedule.rate(step));
}

class ReduceOnPlateau {
public:
    struct Options {
        double factor = 0.2;
        int patience = 10;
        double threshold = 1e-4;  // relative improvement that counts
        int cooldown = 0;
        double min_rate = 0.0;
    };
    explicit ReduceOnPlateau(Options options) : options_(options) {
        if (!(options.factor > 0 && options.factor < 1)) throw usage_error("ReduceOnPlateau: factor must be in (0, 1)");
        if (options.patience < 0) throw usage_error("ReduceOnPlateau: patience must be >= 0");
    }

    /// Records this epoch's metric (lower is better); lowers the optimiser's rate when it has
    /// not improved for more than `patience` epochs. Returns true when the rate was lowered.
    template <class Optimiser>
    bool step(double metric, Optimiser& optimiser) {
        if (metric < best_ * (1.0 - options_.threshold)) {
            best_ = metric;
            bad_epochs_ = 0;
        } else {
            ++bad_epochs_;
        }
        if (cooldown_left_ > 0) {
            --cooldown_left_;
            bad_epochs_ = 0;
        }
        if (bad_epochs_ > options_.patience) {
            const double lowered = std::max(optimiser.learning_rate() * options_.factor, options_.min_rate);
            bad_epochs_ = 0;
            cooldown_left_ = options_.cooldown;
            if (optimiser.learning_rate() - lowered > 1e-8) {
                optimiser.set_learning_rate(lowered);
                return true;
            }
        }
        return false;
    }
    double best() const { return best_; }
    int bad_epochs() const { return bad_epochs_; }

private:
    Options options_;
    double best_ = std::numeric_limits<double>::infinity();
    int bad_epochs_ = 0;
    int cooldown_left_ = 0;
};

}  // namespace chroma::optim
