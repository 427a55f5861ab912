// The CPU backend's GEMM: Chroma's packed kernels and Eigen against a double-precision product,
// over every transpose combination, edge tiles, cache-block boundaries and thread counts.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>

#include <cmath>
#include <cstdlib>
#include <vector>

using namespace chroma;
using namespace chroma::kernels::cpu_detail;
namespace gemm = chroma::kernels::cpu_gemm;

namespace {

std::vector<gemm::instruction_set> kernels_to_test() {
    std::vector<gemm::instruction_set> sets{gemm::instruction_set::eigen};
    const auto best = gemm::supported_instruction_set();
    if (best >= gemm::instruction_set::avx2) sets.push_back(gemm::instruction_set::avx2);
    if (best >= gemm::instruction_set::avx512) sets.push_back(gemm::instruction_set::avx512);
    return sets;
}

std::vector<float> random_values(index_t count, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<float> v(static_cast<std::size_t>(count));
    for (auto& x : v) x = static_cast<float>(rng.uniform(-1, 1));
    return v;
}

// Element (i, k) of a stored rows x cols matrix used as is or transposed.
double at(const std::vector<float>& stored, index_t cols, bool transposed, index_t i, index_t k) {
    return transposed ? stored[static_cast<std::size_t>(k * cols + i)] : stored[static_cast<std::size_t>(i * cols + k)];
}

void check_product(index_t m, index_t n, index_t depth, bool ta, bool tb, bool accumulate, int threads,
                   gemm::instruction_set kernels) {
    const auto a = random_values(m * depth, 1 + static_cast<std::uint64_t>(m));
    const auto b = random_values(depth * n, 2 + static_cast<std::uint64_t>(n));
    const auto before = random_values(m * n, 3);
    std::vector<float> c = before;
    // Stored shapes: A is m x depth (or depth x m when used transposed), B depth x n (or n x depth).
    const auto A = ta ? transposed(a.data(), depth, m) : as_is(a.data(), m, depth);
    const auto B = tb ? transposed(b.data(), n, depth) : as_is(b.data(), depth, n);
    multiply(A, B, c.data(), accumulate, threads, kernels);
    double worst = 0;
    for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) {
            double expected = accumulate ? before[static_cast<std::size_t>(i * n + j)] : 0.0;
            for (index_t k = 0; k < depth; ++k)
                expected += at(a, ta ? m : depth, ta, i, k) * at(b, tb ? depth : n, tb, k, j);
            worst = std::max(worst, std::abs(c[static_cast<std::size_t>(i * n + j)] - expected));
        }
    INFO(gemm::name(kernels) << " m " << m << " n " << n << " k " << depth << " transposed " << ta << tb
                             << " accumulate " << accumulate << " threads " << threads);
    CHECK(worst <= 2e-6 * std::sqrt(static_cast<double>(depth)) + 1e-6);
}

}  // namespace

TEST_CASE("every GEMM kernel matches a double-precision product, edges and blocks included") {
    struct size {
        index_t m, n, k;
    };
    // Single elements, whole and partial tiles in both directions, depths across the 384-deep k blocks,
    // rows across the 192-row m blocks, columns across the 4096-wide n blocks (which the strips
    // of 48 or 16 columns do not divide).
    const std::vector<size> sizes{{1, 1, 1},     {13, 37, 5},   {8, 48, 7},   {12, 32, 7},
                                  {25, 65, 400}, {197, 45, 97}, {3, 4200, 4}, {9, 100, 800}};
    for (const auto kernels : kernels_to_test())
        for (const auto& s : sizes)
            for (int combination = 0; combination < 4; ++combination)
                for (const int threads : {1, 2})
                    check_product(s.m, s.n, s.k, combination & 1, combination & 2, (combination + threads) % 2 == 0,
                                  threads, kernels);
}

TEST_CASE("a product large enough for two threads gives the same result on one and on two") {
    for (const auto kernels : kernels_to_test()) {
        const index_t m = 64, n = 700, depth = 96;  // above the threshold at which a second thread starts
        const auto a = random_values(m * depth, 5), b = random_values(depth * n, 6);
        std::vector<float> one(static_cast<std::size_t>(m * n)), two(one.size());
        multiply(as_is(a.data(), m, depth), as_is(b.data(), depth, n), one.data(), false, 1, kernels);
        multiply(as_is(a.data(), m, depth), as_is(b.data(), depth, n), two.data(), false, 2, kernels);
        INFO(gemm::name(kernels));
        CHECK(one == two);  // each element is summed in the same order whichever thread computes it
        check_product(m, n, depth, false, false, false, 2, kernels);
        check_product(400, 24, 128, true, false, true, 2, kernels);  // few columns: split by rows
    }
}

TEST_CASE("an empty depth gives zeros or leaves C as it was") {
    for (const auto kernels : kernels_to_test()) {
        std::vector<float> c{1, 2, 3, 4};
        const float none = 0;
        multiply(as_is(&none, 2, 0), as_is(&none, 0, 2), c.data(), true, 1, kernels);
        CHECK(c == std::vector<float>{1, 2, 3, 4});
        multiply(as_is(&none, 2, 0), as_is(&none, 0, 2), c.data(), false, 1, kernels);
        CHECK(c == std::vector<float>{0, 0, 0, 0});
    }
}

TEST_CASE("CHROMA_CPU_KERNELS caps the kernels and names itself when it is wrong") {
    ::setenv("CHROMA_CPU_KERNELS", "eigen", 1);
    CHECK(gemm::detect_instruction_set() == gemm::instruction_set::eigen);
    ::setenv("CHROMA_CPU_KERNELS", "avx512", 1);
    CHECK(gemm::detect_instruction_set() == gemm::supported_instruction_set());
    ::setenv("CHROMA_CPU_KERNELS", "sse", 1);
    CHECK_THROWS_WITH(gemm::detect_instruction_set(), Catch::Contains("CHROMA_CPU_KERNELS") && Catch::Contains("sse"));
    ::unsetenv("CHROMA_CPU_KERNELS");
    CHECK(gemm::detect_instruction_set() == gemm::supported_instruction_set());
}
