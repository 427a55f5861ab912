// Conv2d and ConvTranspose2d: gradients against finite differences, values against PyTorch,
// and shape errors.
#include <catch2/catch.hpp>

#include <optional>

#include "support/gradcheck.hpp"
#include "support/torch_parity.hpp"

using namespace chroma;
using chroma::testing::check_gradients;
using chroma::testing::random_tensor;

template <class Spec>
static void require_gradients_match(Shape input, std::uint64_t seed = 1) {
    Model<Spec, cpu, double> model(seed);
    Rng rng(seed);
    const auto result = check_gradients(model, random_tensor(input, rng), rng);
    const std::string name = layer_t<Spec, double, cpu>::describe();
    INFO(name << " worst: " << result.worst);
    CHECK(result.points > 0);
    CHECK(result.max_error < 1e-6);
}

TEST_CASE("Conv2d gradients match finite differences") {
    require_gradients_match<Conv2d<3, 4, 3, 1, same>>(Shape{.n = 2, .c = 3, .h = 6, .w = 5});
    require_gradients_match<Conv2d<2, 3, 3, 2, 1>>(Shape{.n = 3, .c = 2, .h = 7, .w = 8});
    require_gradients_match<Conv2d<2, 2, 3, 1, 2, 2>>(Shape{.n = 1, .c = 2, .h = 7, .w = 7});
    require_gradients_match<Conv2d<4, 3, 1, 1, 0, 1, false>>(Shape{.n = 2, .c = 4, .h = 3, .w = 4});
    require_gradients_match<Conv2d<1, 2, 4, 2, 1>>(Shape{.n = 2, .c = 1, .h = 8, .w = 6});
}

TEST_CASE("ConvTranspose2d gradients match finite differences") {
    require_gradients_match<ConvTranspose2d<3, 2, 4, 2, 1>>(Shape{.n = 2, .c = 3, .h = 4, .w = 3});
    require_gradients_match<ConvTranspose2d<2, 3, 3, 2, 1, 1>>(Shape{.n = 2, .c = 2, .h = 3, .w = 4});
    require_gradients_match<ConvTranspose2d<2, 2, 1>>(Shape{.n = 3, .c = 2, .h = 3, .w = 3});
    require_gradients_match<ConvTranspose2d<2, 2, 3, 1, 1, 0, 2>>(Shape{.n = 1, .c = 2, .h = 4, .w = 4});
}

TEST_CASE("Conv2d matches PyTorch") {
    using chroma::testing::check_against_torch;
    check_against_torch<Conv2d<3, 4, 3, 1, 1>>("conv2d_3x3_same");
    check_against_torch<Conv2d<2, 5, 3, 2, 1>>("conv2d_stride2");
    check_against_torch<Conv2d<3, 2, 3, 1, 2, 2>>("conv2d_dilation2");
    check_against_torch<Conv2d<4, 3, 1, 1, 0, 1, false>>("conv2d_1x1_nobias");
    check_against_torch<Conv2d<2, 3, 5>>("conv2d_5x5_valid");
}

TEST_CASE("ConvTranspose2d matches PyTorch") {
    using chroma::testing::check_against_torch;
    check_against_torch<ConvTranspose2d<4, 3, 4, 2, 1>>("conv_transpose2d_4x4_s2");
    check_against_torch<ConvTranspose2d<3, 2, 3, 2, 1, 1>>("conv_transpose2d_3x3_s2_op1");
    check_against_torch<ConvTranspose2d<3, 4, 1>>("conv_transpose2d_1x1");
    check_against_torch<ConvTranspose2d<2, 3, 3, 1, 1, 0, 2>>("conv_transpose2d_dilation2");
}

TEST_CASE("Conv2d on several threads gives the single-thread result") {
    Model<Conv2d<3, 8, 3, 1, 1>, cpu, float> model(3);
    Rng rng(5);
    Tensor<float> x(Shape{.n = 5, .c = 3, .h = 9, .w = 9});
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    const int threads = cpu::threads();
    cpu::set_threads(1);
    const Tensor<float> single = model.forward(x).clone();
    cpu::set_threads(std::max(2, threads));
    const Tensor<float>& multi = model.forward(x);
    cpu::set_threads(threads);
    for (index_t i = 0; i < single.size(); ++i) REQUIRE(multi.data()[i] == Approx(single.data()[i]).margin(1e-6));
}

TEST_CASE("Conv2d reports wrong channels and too-small inputs with the layer and the shape") {
    Model<Conv2d<3, 4, 3>, cpu, float> model;
    Tensor<float> wrong_channels(Shape{.n = 1, .c = 2, .h = 8, .w = 8});
    CHECK_THROWS_WITH(model.forward(wrong_channels),
                      Catch::Contains("Conv2d(3->4") && Catch::Contains("expects 3 input channels") &&
                          Catch::Contains("[N=1, C=2, H=8, W=8]"));
    Tensor<float> too_small(Shape{.n = 1, .c = 3, .h = 2, .w = 8});
    CHECK_THROWS_AS(model.forward(too_small), shape_error);
    CHECK_THROWS_WITH(model.forward(too_small), Catch::Contains("[N=1, C=3, H=2, W=8]"));
}

TEST_CASE("Conv2d output sizes follow PyTorch's formula") {
    const layer_t<Conv2d<1, 1, 3, 2, 1>, float, cpu> strided;
    const layer_t<Conv2d<1, 1, 3, 1, 2, 2>, float, cpu> dilated;
    const layer_t<ConvTranspose2d<1, 1, 4, 2, 1>, float, cpu> transposed;
    CHECK(strided.output_shape({1, 1, 7, 8}) == Shape{1, 1, 4, 4});
    CHECK(dilated.output_shape({1, 1, 7, 8}) == Shape{1, 1, 7, 8});
    CHECK(transposed.output_shape({1, 1, 16, 9}) == Shape{1, 1, 32, 18});
}

TEST_CASE("backward before forward is a clear error") {
    Model<Conv2d<1, 1, 3>, cpu, float> model;
    Tensor<float> dy(Shape{.n = 1, .c = 1, .h = 3, .w = 3});
    CHECK_THROWS_WITH(model.backward(dy), Catch::Contains("backward() called before forward()"));
}

namespace {

namespace gemm = chroma::kernels::cpu_gemm;
namespace winograd = chroma::kernels::cpu_winograd;

/// y, dx and every parameter gradient of one forward and backward of `Spec` on `kernels`.
template <class Spec>
std::vector<Tensor<float>> conv_pass(gemm::instruction_set kernels, Shape input, bool direct = true,
                                     winograd::mode winograd_mode = winograd::mode::never) {
    const gemm::ForcedKernels forced(kernels);
    const winograd::WithWinograd with_winograd(winograd_mode);
    std::optional<chroma::kernels::cpu_direct::WithoutDirectConvolution> gemm_only;
    if (!direct) gemm_only.emplace();
    Model<Spec, cpu, float> model(7);
    Rng rng(11);
    Tensor<float> x(input);
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    std::vector<Tensor<float>> results{model.forward(x).clone()};
    Tensor<float> dy(results[0].shape());
    for (index_t i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    model.zero_grad();
    results.push_back(model.backward(dy).clone());
    model.visit_parameters([&](std::string_view, auto& p) { results.push_back(p.grad.clone()); });
    return results;
}

struct variant {
    gemm::instruction_set kernels;
    bool direct;
    winograd::mode winograd_mode = winograd::mode::never;
};

/// Each variant of the kernels gives the Eigen path's output, input gradient and parameter
/// gradients within 1e-4 of the largest value, whatever the size rule would choose. By default
/// every kernel of this CPU; on AVX-512, both the direct kernel (stride-1 layers) and the GEMM it
/// replaces.
template <class Spec>
void require_kernels_match_eigen(Shape input,
                                 std::vector<variant> variants = {{gemm::instruction_set::avx2, false},
                                                                  {gemm::instruction_set::avx512, false},
                                                                  {gemm::instruction_set::avx512, true}}) {
    const auto reference = conv_pass<Spec>(gemm::instruction_set::eigen, input);
    for (const variant v : variants) {
        if (v.kernels > gemm::supported_instruction_set()) continue;
        const auto results = conv_pass<Spec>(v.kernels, input, v.direct, v.winograd_mode);
        REQUIRE(results.size() == reference.size());
        for (std::size_t r = 0; r < results.size(); ++r) {
            const std::string layer = layer_t<Spec, float, cpu>::describe();
            INFO(layer << " on " << gemm::name(v.kernels) << (v.direct ? " (direct where it applies)" : " (GEMM only)")
                       << (v.winograd_mode == winograd::mode::always ? ", Winograd" : "") << ", result " << r
                       << " (0: y, 1: dx, then the parameters' gradients)");
            REQUIRE(results[r].shape() == reference[r].shape());
            float largest = 0, worst = 0;
            for (index_t i = 0; i < reference[r].size(); ++i) {
                largest = std::max(largest, std::abs(reference[r].data()[i]));
                worst = std::max(worst, std::abs(results[r].data()[i] - reference[r].data()[i]));
            }
            CHECK(largest > 0);
            CHECK(worst <= 1e-4f * largest);
        }
    }
}

}  // namespace

TEST_CASE("convolutions on Chroma's kernels match the Eigen path, forward and backward, any geometry") {
    // Padded, strided, dilated, valid, the ResNet stem, a strided 1x1 (not pointwise), padding
    // beyond the kernel's reach (whose input gradient is not a convolution), depths and planes
    // across the GEMM's 384-deep blocks, and a single image (the GEMM's own two threads).
    require_kernels_match_eigen<Conv2d<3, 8, 3, 1, 1>>(Shape{.n = 2, .c = 3, .h = 9, .w = 11});
    require_kernels_match_eigen<Conv2d<5, 7, 3, 2, 1>>(Shape{.n = 2, .c = 5, .h = 10, .w = 9});
    require_kernels_match_eigen<Conv2d<4, 6, 3, 1, 2, 2>>(Shape{.n = 1, .c = 4, .h = 12, .w = 12});
    require_kernels_match_eigen<Conv2d<2, 9, 5>>(Shape{.n = 3, .c = 2, .h = 9, .w = 8});
    require_kernels_match_eigen<Conv2d<3, 4, 7, 2, 3>>(Shape{.n = 1, .c = 3, .h = 16, .w = 14});
    require_kernels_match_eigen<Conv2d<6, 5, 1, 2, 0>>(Shape{.n = 2, .c = 6, .h = 8, .w = 8});
    require_kernels_match_eigen<Conv2d<2, 3, 3, 1, 3>>(Shape{.n = 2, .c = 2, .h = 5, .w = 5});
    require_kernels_match_eigen<Conv2d<16, 24, 3, 1, 1>>(Shape{.n = 2, .c = 16, .h = 20, .w = 30});
    require_kernels_match_eigen<Conv2d<48, 40, 3, 1, 1>>(Shape{.n = 1, .c = 48, .h = 18, .w = 18});
    // The direct kernel's tiles: rows of 16 pixels exactly, and rows of 37 (16 + 16 + 5) whose
    // tiles span two output rows and end in part-empty segments.
    require_kernels_match_eigen<Conv2d<8, 16, 3, 1, 1>>(Shape{.n = 2, .c = 8, .h = 16, .w = 16});
    require_kernels_match_eigen<Conv2d<8, 16, 3, 1, 1>>(Shape{.n = 2, .c = 8, .h = 5, .w = 37});
    // Small planes batch-wide, large enough for the products to take both threads.
    require_kernels_match_eigen<Conv2d<64, 64, 3, 1, 2, 2>>(Shape{.n = 8, .c = 64, .h = 8, .w = 8});
    require_kernels_match_eigen<Conv2d<32, 64, 3, 2, 1>>(Shape{.n = 8, .c = 32, .h = 16, .w = 16});
    require_kernels_match_eigen<ConvTranspose2d<6, 5, 4, 2, 1>>(Shape{.n = 2, .c = 6, .h = 5, .w = 7});
    require_kernels_match_eigen<ConvTranspose2d<3, 4, 3, 2, 1, 1>>(Shape{.n = 2, .c = 3, .h = 4, .w = 4});
    require_kernels_match_eigen<ConvTranspose2d<40, 16, 4, 2, 1>>(Shape{.n = 1, .c = 40, .h = 12, .w = 12});
}

TEST_CASE("Winograd F(2x2, 3x3) gives the Eigen path's output and gradients, on every kernel") {
    using enum gemm::instruction_set;
    const std::vector<variant> with_winograd{{eigen, false, winograd::mode::always},
                                             {avx2, false, winograd::mode::always},
                                             {avx512, true, winograd::mode::always}};
    // Odd sizes (part-empty edge tiles), no padding and padding 2 (input gradients of padding 2
    // and 0), one image, a plane smaller than a tile, and a deep layer as the U-Nets have.
    require_kernels_match_eigen<Conv2d<5, 7, 3, 1, 1>>(Shape{.n = 2, .c = 5, .h = 9, .w = 7}, with_winograd);
    require_kernels_match_eigen<Conv2d<4, 6, 3, 1, 0>>(Shape{.n = 3, .c = 4, .h = 8, .w = 11}, with_winograd);
    require_kernels_match_eigen<Conv2d<3, 5, 3, 1, 2, 1, false>>(Shape{.n = 1, .c = 3, .h = 6, .w = 5}, with_winograd);
    require_kernels_match_eigen<Conv2d<6, 4, 3, 1, 1>>(Shape{.n = 2, .c = 6, .h = 1, .w = 3}, with_winograd);
    require_kernels_match_eigen<Conv2d<128, 136, 3, 1, 1>>(Shape{.n = 3, .c = 128, .h = 8, .w = 8}, with_winograd);
    // Bands: images 0-1 then 2 (255 tiles an image), and one image in bands of 21 and 3 tile rows.
    require_kernels_match_eigen<Conv2d<128, 128, 3, 1, 1>>(Shape{.n = 3, .c = 128, .h = 34, .w = 30}, with_winograd);
    require_kernels_match_eigen<Conv2d<128, 128, 3, 1, 1>>(Shape{.n = 1, .c = 128, .h = 47, .w = 47}, with_winograd);
    // Dilated, as sub-grids: dilation 2 with padding 2 (input gradient padding 2) and 4 (input
    // gradient padding 0), dilation 3, and a deep one (the classifiers' dilated 512-channel
    // layers) whose sub-grids share bands.
    require_kernels_match_eigen<Conv2d<5, 7, 3, 1, 2, 2>>(Shape{.n = 2, .c = 5, .h = 10, .w = 14}, with_winograd);
    require_kernels_match_eigen<Conv2d<4, 6, 3, 1, 4, 2>>(Shape{.n = 1, .c = 4, .h = 8, .w = 6}, with_winograd);
    require_kernels_match_eigen<Conv2d<3, 5, 3, 1, 3, 3>>(Shape{.n = 2, .c = 3, .h = 12, .w = 9}, with_winograd);
    require_kernels_match_eigen<Conv2d<96, 80, 3, 1, 2, 2>>(Shape{.n = 2, .c = 96, .h = 16, .w = 20}, with_winograd);
}

TEST_CASE("Winograd goes through the batch in bands: whole images where they are small, else rows of tiles") {
    auto bands_of = [](index_t channels, index_t size, index_t images) {
        const ConvGeometry g{.in_channels = channels, .out_channels = channels, .kernel = 3, .padding = 1,
                             .in_h = size, .in_w = size, .out_h = size, .out_w = size};
        std::vector<winograd::Band> bands;
        winograd::for_each_band(g, images, [&](const winograd::Band& band) { bands.push_back(band); });
        return bands;
    };
    // 128 channels: about 512 tiles a band (and never fewer than 192).
    const auto grouped = bands_of(128, 30, 3);  // 225 tiles an image: two images, then one
    REQUIRE(grouped.size() == 2);
    CHECK((grouped[0].first_image == 0 && grouped[0].images == 2 && grouped[0].rows == 15 && grouped[0].all == 450));
    CHECK((grouped[1].first_image == 2 && grouped[1].images == 1 && grouped[1].all == 225));
    const auto split = bands_of(128, 47, 2);  // 24 x 24 tiles: rows 0-20 and 21-23 of each image
    REQUIRE(split.size() == 4);
    CHECK((split[1].first_image == 0 && split[1].first_row == 21 && split[1].rows == 3 && split[1].all == 72));
    CHECK((split[2].first_image == 1 && split[2].first_row == 0 && split[2].rows == 21));
    index_t covered = 0;
    for (const auto& band : split) covered += band.all;
    CHECK(covered == 2 * 24 * 24);
}

TEST_CASE("Winograd is chosen for deep 3x3 stride-1 layers on Chroma's kernels, and can be turned off or forced") {
    auto geometry = [](index_t in, index_t out, index_t stride, index_t dilation) {
        ConvGeometry g{.in_channels = in, .out_channels = out, .kernel = 3, .stride = stride, .padding = dilation,
                       .dilation = dilation, .in_h = 16, .in_w = 16};
        g.out_h = ConvGeometry::conv_output_size(16, 3, stride, dilation, dilation);
        g.out_w = g.out_h;
        return g;
    };
    CHECK(winograd::applies(geometry(8, 8, 1, 1)));
    CHECK_FALSE(winograd::applies(geometry(8, 8, 2, 1)));  // strided
    CHECK(winograd::applies(geometry(8, 8, 1, 2)));  // dilated: four 8x8 sub-grids
    ConvGeometry odd_plane = geometry(8, 8, 1, 2);
    odd_plane.in_h = odd_plane.out_h = 15;  // sub-grids of 8 and 7 rows
    CHECK_FALSE(winograd::applies(odd_plane));
    ConvGeometry odd_padding = geometry(8, 8, 1, 2);
    odd_padding.padding = 1;  // residues would mix
    odd_padding.out_h = odd_padding.out_w = 14;
    CHECK_FALSE(winograd::applies(odd_padding));
    {
        const winograd::WithWinograd measured(winograd::mode::measured);
        const bool own_kernels = gemm::active_instruction_set() != gemm::instruction_set::eigen;
        CHECK(winograd::chosen(geometry(256, 256, 1, 1)) == own_kernels);
        CHECK(winograd::chosen(geometry(512, 256, 1, 1)) == own_kernels);
        CHECK(winograd::chosen(geometry(512, 512, 1, 2)) == own_kernels);
        CHECK(winograd::chosen(geometry(128, 128, 1, 1)) == own_kernels);
        CHECK_FALSE(winograd::chosen(geometry(64, 128, 1, 1)));
        CHECK_FALSE(winograd::chosen(geometry(64, 64, 1, 1)));
        const gemm::ForcedKernels eigen_only(gemm::instruction_set::eigen);
        CHECK_FALSE(winograd::chosen(geometry(256, 256, 1, 1)));  // the portable path stays im2col + Eigen
    }
    {
        const winograd::WithWinograd never(winograd::mode::never);
        CHECK_FALSE(winograd::chosen(geometry(256, 256, 1, 1)));
    }
    const winograd::WithWinograd always(winograd::mode::always);
    CHECK(winograd::chosen(geometry(8, 8, 1, 1)));
    CHECK_FALSE(winograd::chosen(geometry(8, 8, 2, 1)));
}
