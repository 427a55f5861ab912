// Zhang et al.'s quantized ab space on a folder of photos:
//  - prints the bin counts (Zhang's 313, and the cells of step 10 that sRGB reaches);
//  - estimates the empirical prior over the 313 bins from the photos (each shrunk by striding
//    to about 64 px) and draws it beside Zhang's ImageNet prior: each bin in its colour at L = 50,
//    darker the rarer it is on a log scale (the picture of figure 3 in the paper);
//  - soft-encodes one photo's true ab and decodes it back with each method (annealed mean
//    T = 0.38, mean, mode, top-2 mean), the photo's own L kept, side by side with the original.
//
//   quantize [photo folder] [output folder] [max photos]
//
// Without a folder it uses the training photos in ../shared/data/train (beside the checkout) when present.
#include <chroma/color/ab_bins.hpp>
#include <chroma/color/conversion.hpp>
#include <chroma/color/decoding.hpp>
#include <chroma/color/encoding.hpp>
#include <chroma/color/prior.hpp>
#include <chroma/data/image.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace chroma;
using namespace chroma::color;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> photos_in(const fs::path& folder, std::size_t limit) {
    std::vector<fs::path> photos;
    for (const auto& entry : fs::directory_iterator(folder)) {
        std::string extension = entry.path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (entry.is_regular_file() && (extension == ".jpg" || extension == ".jpeg" || extension == ".png" ||
                                        extension == ".bmp" || extension == ".tga"))
            photos.push_back(entry.path());
    }
    std::sort(photos.begin(), photos.end());
    if (photos.size() > limit) photos.resize(limit);
    return photos;
}

// Every `stride`-th pixel in both directions: a crude but alias-tolerant shrink for statistics.
Image subsample(const Image& image, int stride) {
    Image small{.width = (image.width + stride - 1) / stride,
                .height = (image.height + stride - 1) / stride,
                .channels = image.channels,
                .pixels = {}};
    small.pixels.reserve(static_cast<std::size_t>(small.width * small.height * small.channels));
    for (int y = 0; y < image.height; y += stride)
        for (int x = 0; x < image.width; x += stride)
            for (int c = 0; c < image.channels; ++c) small.pixels.push_back(image.at(x, y, c));
    return small;
}

// The bins drawn as squares on the ab plane (a to the right, b up), coloured by their ab at
// L = 50 and darkened by log-probability between `log_low` and `log_high`.
Image draw_prior(const AbBins& bins, const std::vector<double>& prior, double log_low, double log_high) {
    constexpr int cell = 20, step = 10, a_min = -110, b_max = 110, side = 23 * cell;
    Image image{.width = side, .height = side, .channels = 3, .pixels = {}};
    image.pixels.assign(static_cast<std::size_t>(side * side * 3), 24);
    const LabSpace<double> space = lab_space<double>();
    for (index_t q = 0; q < bins.size(); ++q) {
        const Rgb<double> colour = lab_to_srgb(Lab<double>{50.0, bins[q].a, bins[q].b}, space);
        const double p = std::max(prior[static_cast<std::size_t>(q)], 1e-300);
        const double shade = std::clamp((std::log10(p) - log_low) / (log_high - log_low), 0.0, 1.0);
        const double light = 0.08 + 0.92 * shade;
        const int left = static_cast<int>(std::lround((bins[q].a - a_min) / step)) * cell;
        const int top = static_cast<int>(std::lround((b_max - bins[q].b) / step)) * cell;
        for (int y = top + 1; y < top + cell; ++y)
            for (int x = left + 1; x < left + cell; ++x) {
                if (x < 0 || y < 0 || x >= side || y >= side) continue;
                image.at(x, y, 0) = to_srgb8(colour.r * light);
                image.at(x, y, 1) = to_srgb8(colour.g * light);
                image.at(x, y, 2) = to_srgb8(colour.b * light);
            }
    }
    // The axes a = 0 and b = 0.
    const int zero_x = -a_min / step * cell + cell / 2, zero_y = b_max / step * cell + cell / 2;
    for (int i = 0; i < side; ++i)
        for (int c = 0; c < 3; ++c) image.at(zero_x, i, c) = image.at(i, zero_y, c) = 128;
    return image;
}

// Images of equal height placed left to right with a white gap.
Image side_by_side(const std::vector<Image>& images, int gap = 6) {
    int width = -gap;
    for (const Image& image : images) width += image.width + gap;
    Image out{.width = width, .height = images.front().height, .channels = 3, .pixels = {}};
    out.pixels.assign(static_cast<std::size_t>(out.width * out.height * 3), 255);
    int left = 0;
    for (const Image& image : images) {
        for (int y = 0; y < image.height; ++y)
            for (int x = 0; x < image.width; ++x)
                for (int c = 0; c < 3; ++c) out.at(left + x, y, c) = image.at(x, y, c);
        left += image.width + gap;
    }
    return out;
}

double entropy_bits(const std::vector<double>& p) {
    double h = 0.0;
    for (double v : p)
        if (v > 0) h -= v * std::log2(v);
    return h;
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path default_folder = "../shared/data/train";
    const fs::path folder = argc > 1 && *argv[1] ? fs::path(argv[1]) : default_folder;
    const fs::path output = argc > 2 ? fs::path(argv[2]) : fs::current_path();
    const std::size_t limit = argc > 3 ? static_cast<std::size_t>(std::atoi(argv[3])) : 200;

    const AbBins zhang = AbBins::zhang();
    std::printf("Zhang et al.'s bins: %lld\n", static_cast<long long>(zhang.size()));
    std::printf("cells of step 10 reached by sRGB colours: %lld (D65), %lld (D50)\n",
                static_cast<long long>(gamut_bins(10.0).size()),
                static_cast<long long>(gamut_bins(10.0, WhitePoint::d50).size()));

    if (!fs::is_directory(folder)) {
        std::fprintf(stderr, "no photo folder at '%s': usage: quantize [photo folder] [output folder] [max photos]\n",
                     folder.string().c_str());
        return 1;
    }
    const std::vector<fs::path> photos = photos_in(folder, limit);
    if (photos.empty()) {
        std::fprintf(stderr, "no photos in '%s'\n", folder.string().c_str());
        return 1;
    }
    fs::create_directories(output);

    // The empirical prior, streamed one shrunk photo at a time; the most colourful photo (largest
    // mean chroma) is kept for the decoding demonstration.
    PriorEstimator estimator(zhang);
    Tensor<float> lightness, ab;
    fs::path most_colourful = photos.front();
    double best_chroma = -1.0;
    for (const fs::path& path : photos) {
        try {
            const Image photo = load_image(path, 3);
            const Image small = subsample(photo, std::max(1, std::min(photo.width, photo.height) / 64));
            rgb8_to_lab(small.pixels, small.height, small.width, lightness, ab);
            estimator.add(ab);
            double chroma = 0.0;
            for (index_t i = 0; i < ab.shape().plane(); ++i) chroma += std::hypot(ab[i], ab[ab.shape().plane() + i]);
            chroma /= static_cast<double>(ab.shape().plane());
            if (chroma > best_chroma) best_chroma = chroma, most_colourful = path;
        } catch (const chroma::error& e) {
            std::fprintf(stderr, "skipped: %s\n", e.what());
        }
    }
    const std::vector<double> empirical = estimator.empirical(), prior = estimator.prior(5.0);
    const std::vector<double> published = zhang_prior_vector();
    const auto seen = std::count_if(estimator.counts().begin(), estimator.counts().end(), [](auto c) { return c > 0; });
    std::printf(
        "prior from %zu photos in '%s': %llu pixels, %lld of %lld bins seen; entropy %.2f bits, "
        "%.2f after smoothing (Zhang's ImageNet prior: %.2f bits)\n",
        photos.size(), folder.string().c_str(), static_cast<unsigned long long>(estimator.total()),
        static_cast<long long>(seen), static_cast<long long>(zhang.size()), entropy_bits(empirical),
        entropy_bits(prior), entropy_bits(published));
    const std::vector<double> weights = rebalancing_weights(prior, 0.5);
    std::printf("rebalancing weights (lambda 0.5): %.3f to %.3f\n", *std::min_element(weights.begin(), weights.end()),
                *std::max_element(weights.begin(), weights.end()));

    double log_high = -1e300;
    for (double p : prior) log_high = std::max(log_high, std::log10(p));
    for (double p : published) log_high = std::max(log_high, std::log10(p));
    const double log_low = log_high - 5.0;  // five decades, as in the paper's figure
    const fs::path prior_file = output / "quantize_prior.png";
    save_png(prior_file,
             side_by_side(
                 {draw_prior(zhang, prior, log_low, log_high), draw_prior(zhang, published, log_low, log_high)}, 12));
    std::printf("wrote %s (left: these photos, right: Zhang's ImageNet prior; log10 p from %.1f to %.1f)\n",
                prior_file.string().c_str(), log_low, log_high);

    // One photo through soft encoding and each decoding, its own L kept.
    const Image photo = load_image(most_colourful, 3);
    const Image shown = subsample(photo, std::max(1, (std::max(photo.width, photo.height) + 255) / 256));
    rgb8_to_lab(shown.pixels, shown.height, shown.width, lightness, ab);
    const BinLookup lookup(zhang, 5);
    const Tensor<float> targets = soft_encode(ab, lookup, 5.0);
    std::vector<Image> panels{shown};
    std::printf("decodings of %s (%d x %d), left to right: original", most_colourful.filename().string().c_str(),
                shown.width, shown.height);
    for (const Decoding how :
         {Decoding::annealed_mean(0.38), Decoding::mean(), Decoding::mode(), Decoding::top_k_mean(2)}) {
        const Tensor<float> decoded = decode(targets, zhang, how);
        panels.push_back(Image{
            .width = shown.width, .height = shown.height, .channels = 3, .pixels = lab_to_rgb8(lightness, decoded)});
        double error = 0.0;
        for (index_t i = 0; i < ab.shape().plane(); ++i)
            error += std::hypot(decoded[i] - ab[i], decoded[ab.shape().plane() + i] - ab[ab.shape().plane() + i]);
        std::printf(", %s (mean |ab error| %.2f)", how.describe().c_str(),
                    error / static_cast<double>(ab.shape().plane()));
    }
    std::printf("\n");
    const fs::path decoded_file = output / "quantize_decodings.png";
    save_png(decoded_file, side_by_side(panels));
    std::printf("wrote %s\n", decoded_file.string().c_str());
    return 0;
}
