#pragma once
// Simulated user hints for training a user-guided colouriser (Zhang et al., SIGGRAPH 2017,
// section 3.3): for each image, a geometric number of points (each further point with
// probability 1 - stop_probability; 7 on average at the paper's 1/8), each revealing the mean ab
// of a square patch of the truth, 1 x 1 to 9 x 9 pixels, centred near the middle of the image
// (a normal of the image's half size and quarter spread, clamped inside), over that patch.
// Everything else of the hint is 0 and so is its mask. The same seed gives the same hints.
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"

namespace chroma::data {

struct HintOptions {
    double stop_probability = 0.125;  // after each point, the chance of no further one
    int smallest_patch = 1, largest_patch = 9;  // patch sides in pixels, uniform between them
    int most_points = 200;                      // a bound on the geometric draw
};

struct Hints {
    Tensor<float> ab;    // [N,2,H,W]: the revealed mean colour over each patch, 0 elsewhere
    Tensor<float> mask;  // [N,1,H,W]: 1 over the revealed patches, 0 elsewhere
};

/// Hints drawn from the true ab [N,2,H,W] (any units: the hint keeps them) into `hints`, whose
/// tensors are resized as needed (so a training step that keeps them allocates nothing).
inline void simulate_hints(const Tensor<float>& truth_ab, Rng& rng, const HintOptions& options, Hints& hints) {
    const Shape s = truth_ab.shape();
    if (s.c != 2 || s.h < 1 || s.w < 1)
        throw shape_error("simulate_hints: expects ab [N,2,H,W], got " + s.str());
    if (!(options.stop_probability > 0.0 && options.stop_probability <= 1.0) || options.smallest_patch < 1 ||
        options.largest_patch < options.smallest_patch || options.most_points < 0)
        throw usage_error("simulate_hints: stop_probability must be in (0, 1], patch sides at least 1 and in order");
    hints.ab.resize(s);
    hints.mask.resize(Shape{.n = s.n, .c = 1, .h = s.h, .w = s.w});
    hints.ab.fill(0.0f);
    hints.mask.fill(0.0f);
    const index_t plane = s.plane();
    for (index_t n = 0; n < s.n; ++n) {
        const float* a = truth_ab.data() + n * 2 * plane;
        const float* b = a + plane;
        float* hint_a = hints.ab.data() + n * 2 * plane;
        float* hint_b = hint_a + plane;
        float* mask = hints.mask.data() + n * plane;
        for (int point = 0; point < options.most_points && rng.uniform() >= options.stop_probability; ++point) {
            const int side = options.smallest_patch +
                             static_cast<int>(rng.uniform() * (options.largest_patch - options.smallest_patch + 1));
            const int height = static_cast<int>(std::min<index_t>(side, s.h));
            const int width = static_cast<int>(std::min<index_t>(side, s.w));
            // The patch's corner: a normal around the middle of the positions that keep it inside.
            const auto corner = [&](index_t size, int patch) {
                const double room = static_cast<double>(size - patch + 1);
                const double at = std::floor(rng.normal(room / 2.0, room / 4.0));
                return static_cast<index_t>(std::clamp(at, 0.0, room - 1.0));
            };
            const index_t y0 = corner(s.h, height), x0 = corner(s.w, width);
            double sum_a = 0.0, sum_b = 0.0;
            for (index_t y = y0; y < y0 + height; ++y)
                for (index_t x = x0; x < x0 + width; ++x) {
                    sum_a += a[y * s.w + x];
                    sum_b += b[y * s.w + x];
                }
            const double count = static_cast<double>(height) * width;
            for (index_t y = y0; y < y0 + height; ++y)
                for (index_t x = x0; x < x0 + width; ++x) {
                    hint_a[y * s.w + x] = static_cast<float>(sum_a / count);
                    hint_b[y * s.w + x] = static_cast<float>(sum_b / count);
                    mask[y * s.w + x] = 1.0f;
                }
        }
    }
}

/// The same, as a new Hints.
inline Hints simulate_hints(const Tensor<float>& truth_ab, Rng& rng, const HintOptions& options = {}) {
    Hints hints;
    simulate_hints(truth_ab, rng, options, hints);
    return hints;
}

}  // namespace chroma::data
