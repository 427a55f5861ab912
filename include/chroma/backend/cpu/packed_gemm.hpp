#pragma once
// Chroma's own single-precision GEMM for x86-64: C (+)= A * B with the operands packed into
// cache-sized panels and multiplied by a register-blocked micro-kernel (AVX-512: 8 x 48 tiles,
// AVX2 + FMA: 6 x 16), the layout of BLIS and of every fast CPU GEMM since GotoBLAS. The packing
// is done by callables, so an operand need not exist as a matrix: a convolution's patches are
// gathered straight from the image into the packed panels (backend/cpu/conv_packing.hpp).
//
// The kernels carry target attributes and are chosen at run time from what the CPU reports, so
// a binary built for baseline x86-64 still uses AVX-512 where it runs on it. Everything else
// (double precision, other architectures, CHROMA_CPU_KERNELS=eigen in the environment, or
// CHROMA_NO_OWN_KERNELS defined at compile time) takes Eigen's GEMM, the portable path that the
// tests compare against.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/shape.hpp"

#if !defined(CHROMA_NO_OWN_KERNELS) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHROMA_OWN_KERNELS 1
#include <immintrin.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace chroma::kernels::cpu_gemm {

/// Which arithmetic the CPU backend's GEMM runs on.
enum class instruction_set { eigen, avx2, avx512 };

inline std::string_view name(instruction_set s) {
    switch (s) {
        case instruction_set::avx512: return "avx512";
        case instruction_set::avx2: return "avx2";
        default: return "eigen";
    }
}

/// The best kernels this CPU runs (eigen where Chroma has none for it).
inline instruction_set supported_instruction_set() {
    instruction_set best = instruction_set::eigen;
#if defined(CHROMA_OWN_KERNELS)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = instruction_set::avx2;
    if (__builtin_cpu_supports("avx512f")) best = instruction_set::avx512;
#endif
    return best;
}

/// The best the CPU supports, capped by CHROMA_CPU_KERNELS (eigen, avx2 or avx512) if it is set.
inline instruction_set detect_instruction_set() {
    const instruction_set best = supported_instruction_set();
    const char* wanted = std::getenv("CHROMA_CPU_KERNELS");
    if (!wanted || !*wanted) return best;
    const std::string_view w(wanted);
    instruction_set cap = instruction_set::avx512;
    if (w == "eigen") cap = instruction_set::eigen;
    else if (w == "avx2") cap = instruction_set::avx2;
    else if (w != "avx512")
        throw usage_error("CHROMA_CPU_KERNELS is '" + std::string(w) + "': use eigen, avx2 or avx512");
    return std::min(best, cap);
}

/// Chosen once per process.
inline instruction_set active_instruction_set() {
    static const instruction_set chosen = detect_instruction_set();
    return chosen;
}

/// A micro-kernel: the mr x nr tile C (+)= A_strip * B_strip over kc, where the A strip holds mr
/// values per k and the B strip nr values per k.
using tile_function = void (*)(index_t kc, const float* a, const float* b, float* c, index_t ldc, bool accumulate);

struct micro_kernel {
    int mr = 0, nr = 0;
    tile_function tile = nullptr;
};

#if defined(CHROMA_OWN_KERNELS)
// The accumulators are a fixed array the compiler keeps in registers once the loops over rows
// and vectors are unrolled: 24 of AVX-512's 32 (3 more hold B's vectors), 12 of AVX2's 16.
// AVX-512's tile is 8 rows by 48 columns: channel counts are mostly multiples of 8, so the rows
// (output channels) rarely leave a tile part-empty, and the columns (pixels) are many.
__attribute__((target("avx512f"))) inline void tile_avx512(index_t kc, const float* a, const float* b, float* c,
                                                            index_t ldc, bool accumulate) {
    constexpr int mr = 8;
    __m512 acc[mr][3];
#pragma GCC unroll 8
    for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
    for (index_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32);
#pragma GCC unroll 8
        for (int r = 0; r < mr; ++r) {
            const __m512 ar = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(ar, b2, acc[r][2]);
        }
        a += mr;
        b += 48;
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; ++r) {
        float* row = c + r * ldc;
#pragma GCC unroll 3
        for (int v = 0; v < 3; ++v) {
            if (accumulate) acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_loadu_ps(row + 16 * v));
            _mm512_storeu_ps(row + 16 * v, acc[r][v]);
        }
    }
}

__attribute__((target("avx2,fma"))) inline void tile_avx2(index_t kc, const float* a, const float* b, float* c,
                                                           index_t ldc, bool accumulate) {
    constexpr int mr = 6;
    __m256 acc[mr][2];
#pragma GCC unroll 6
    for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (index_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < mr; ++r) {
            const __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += mr;
        b += 16;
    }
#pragma GCC unroll 6
    for (int r = 0; r < mr; ++r) {
        float* row = c + r * ldc;
        if (accumulate) {
            acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(row));
            acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(row + 8));
        }
        _mm256_storeu_ps(row, acc[r][0]);
        _mm256_storeu_ps(row + 8, acc[r][1]);
    }
}
#endif

/// Whether Chroma's kernels pay for their packing on an m x n x depth product. Few columns (small
/// planes: an 8x8 feature map is 64) leave most of a 48-wide strip empty, and a shallow or short
/// product spends more on packing and edge tiles than on arithmetic; Eigen is faster there. A
/// long product (depth 256 or more: the weight gradients of 1x1 layers, over a whole plane; the
/// input gradients of strided layers, over the channels) amortises its packing even with few
/// columns, and on Eigen it would take its blocking workspace from the heap on every call.
inline bool worth_packing(index_t m, index_t n, index_t depth) {
    return m >= 8 && ((n >= 192 && depth >= 32) || (n >= 32 && depth >= 256));
}

inline micro_kernel kernel_for(instruction_set s) {
#if defined(CHROMA_OWN_KERNELS)
    if (s == instruction_set::avx512) return {8, 48, tile_avx512};
    if (s == instruction_set::avx2) return {6, 16, tile_avx2};
#endif
    (void)s;
    return {};
}

/// When set, every product runs on these kernels whatever its size (the tests compare each
/// kernel with Eigen on layers too small for the size rule). Set it through ForcedKernels.
inline std::optional<instruction_set>& forced_kernels() {
    static std::optional<instruction_set> forced;
    return forced;
}

/// Forces the kernels for its lifetime (single-threaded test code only).
class ForcedKernels {
public:
    explicit ForcedKernels(instruction_set s) : before_(forced_kernels()) { forced_kernels() = s; }
    ~ForcedKernels() { forced_kernels() = before_; }
    ForcedKernels(const ForcedKernels&) = delete;
    ForcedKernels& operator=(const ForcedKernels&) = delete;

private:
    std::optional<instruction_set> before_;
};

/// The kernel for an m x n x depth product on this CPU, or none (tile null: use Eigen).
inline micro_kernel kernel_for_product(index_t m, index_t n, index_t depth) {
    if (const auto& forced = forced_kernels()) return kernel_for(*forced);
    return worth_packing(m, n, depth) ? kernel_for(active_instruction_set()) : micro_kernel{};
}

// Cache blocking: a kc x nr strip of B stays in L1 (or nearly) while the micro-kernel runs over A's strips,
// the mc x kc block of A in L2, the kc x nc panel of B in L2/L3.
inline constexpr index_t block_k = 384;
inline constexpr index_t block_m = 192;  // a multiple of both kernels' mr
inline constexpr index_t block_n = 4096;

/// Per-thread packing buffers, grown on first use and then reused: no allocation in a steady state.
struct pack_buffers {
    std::vector<float> a, b;
    float tile[8 * 48];  // an edge tile, computed whole and copied in part
};
inline pack_buffers& thread_buffers() {
    thread_local pack_buffers buffers;
    return buffers;
}

inline index_t round_up(index_t value, index_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/// C[rows i0..i1, cols j0..j1] (+)= A * B on one thread. pack_a(dst, i, rows, k, depth, mr) writes
/// ceil(rows / mr) strips of depth x mr values (zero-padded rows); pack_b(dst, k, depth, j, cols, nr)
/// ceil(cols / nr) strips of depth x nr values.
template <class PackA, class PackB>
void gemm_range(const micro_kernel& mk, index_t i0, index_t i1, index_t j0, index_t j1, index_t depth,
                const PackA& pack_a, const PackB& pack_b, float* c, index_t ldc, bool accumulate) {
    pack_buffers& buffers = thread_buffers();
    // Whole strips: a block's last strip is padded to nr columns (mr rows) even inside the range.
    const index_t nc_max = round_up(std::min(block_n, j1 - j0), mk.nr);
    const index_t mc_max = round_up(std::min(block_m, i1 - i0), mk.mr);
    const index_t kc_max = std::min(block_k, depth);
    if (buffers.b.size() < static_cast<std::size_t>(kc_max * nc_max)) buffers.b.resize(kc_max * nc_max);
    if (buffers.a.size() < static_cast<std::size_t>(kc_max * mc_max)) buffers.a.resize(kc_max * mc_max);
    float* packed_a = buffers.a.data();
    float* packed_b = buffers.b.data();

    for (index_t jc = j0; jc < j1; jc += block_n) {
        const index_t nc = std::min(block_n, j1 - jc);
        for (index_t pc = 0; pc < depth; pc += block_k) {
            const index_t kc = std::min(block_k, depth - pc);
            const bool add = accumulate || pc > 0;
            pack_b(packed_b, pc, kc, jc, nc, static_cast<index_t>(mk.nr));
            for (index_t ic = i0; ic < i1; ic += block_m) {
                const index_t mc = std::min(block_m, i1 - ic);
                pack_a(packed_a, ic, mc, pc, kc, static_cast<index_t>(mk.mr));
                for (index_t jr = 0; jr < nc; jr += mk.nr) {
                    const index_t nr = std::min<index_t>(mk.nr, nc - jr);
                    const float* b_strip = packed_b + jr * kc;
                    for (index_t ir = 0; ir < mc; ir += mk.mr) {
                        const index_t mr = std::min<index_t>(mk.mr, mc - ir);
                        const float* a_strip = packed_a + ir * kc;
                        float* out = c + (ic + ir) * ldc + jc + jr;
                        if (mr == mk.mr && nr == mk.nr) {
                            mk.tile(kc, a_strip, b_strip, out, ldc, add);
                            continue;
                        }
                        mk.tile(kc, a_strip, b_strip, buffers.tile, mk.nr, false);
                        for (index_t r = 0; r < mr; ++r)
                            for (index_t q = 0; q < nr; ++q)
                                out[r * ldc + q] = (add ? out[r * ldc + q] : 0.0f) + buffers.tile[r * mk.nr + q];
                    }
                }
            }
        }
    }
}

/// C (m x n, row stride ldc) (+)= A * B with the packers described at gemm_range, on up to
/// `threads` threads: the columns are split between them when there are enough, else the rows.
template <class PackA, class PackB>
void gemm(const micro_kernel& mk, index_t m, index_t n, index_t depth, const PackA& pack_a, const PackB& pack_b,
          float* c, index_t ldc, bool accumulate, int threads) {
    if (m <= 0 || n <= 0) return;
    if (depth <= 0) {
        if (!accumulate)
            for (index_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
        return;
    }
    // Below about a million multiply-adds, waking a second thread costs more than it saves.
    if (m * n * depth < (index_t(1) << 20)) threads = 1;
    const index_t column_strips = (n + mk.nr - 1) / mk.nr, row_strips = (m + mk.mr - 1) / mk.mr;
    const bool split_columns = column_strips >= 2 * threads || column_strips >= row_strips;
    const index_t strips = split_columns ? column_strips : row_strips;
    threads = static_cast<int>(std::min<index_t>(threads, strips));
    if (threads <= 1) {
        gemm_range(mk, 0, m, 0, n, depth, pack_a, pack_b, c, ldc, accumulate);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
    {
        const index_t t = omp_get_thread_num(), count = omp_get_num_threads();
        const index_t first = strips * t / count, last = strips * (t + 1) / count;
        if (split_columns)
            gemm_range(mk, 0, m, first * mk.nr, std::min(n, last * mk.nr), depth, pack_a, pack_b, c, ldc, accumulate);
        else
            gemm_range(mk, first * mk.mr, std::min(m, last * mk.mr), 0, n, depth, pack_a, pack_b, c, ldc, accumulate);
    }
#else
    gemm_range(mk, 0, m, 0, n, depth, pack_a, pack_b, c, ldc, accumulate);
#endif
}

// Packers for stored matrices. A row-major matrix with row stride ld, read as is or transposed.

#if defined(CHROMA_OWN_KERNELS)
/// to[c * ldt + r] = from[r * ld + c] for an 8 x 8 block, through AVX registers.
__attribute__((target("avx"))) inline void transpose_8x8(const float* from, index_t ld, float* to, index_t ldt) {
    __m256 r[8], t[8], s[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(from + i * ld);
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      // r_i[0] r_i+1[0] r_i[1] r_i+1[1] | same for 4, 5
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  // columns 2, 3 | 6, 7
    }
#pragma GCC unroll 2
    for (int h = 0; h < 8; h += 4) {  // rows h..h+3, one column in each 128-bit lane
        s[h] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(1, 0, 1, 0));      // column 0 | 4
        s[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(3, 2, 3, 2));  // column 1 | 5
        s[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(1, 0, 1, 0));  // 2 | 6
        s[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(3, 2, 3, 2));  // 3 | 7
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        _mm256_storeu_ps(to + c * ldt, _mm256_permute2f128_ps(s[c], s[4 + c], 0x20));
        _mm256_storeu_ps(to + (c + 4) * ldt, _mm256_permute2f128_ps(s[c], s[4 + c], 0x31));
    }
}
#endif

/// to[k * mr + r] = rows[r * ld + k] for r < count, k < depth: `count` stored rows written as
/// the columns of a strip, mr values per k. Blocks of 8 rows by 8 values go through AVX
/// registers (8 loads, an 8 x 8 transpose, 8 stores) rather than 64 scattered scalar stores;
/// a strip is only packed for Chroma's kernels, which need AVX2 or AVX-512 anyway.
inline void transpose_rows_into_strip(const float* rows, index_t ld, index_t count, index_t depth, float* to,
                                      index_t mr) {
    index_t r = 0;
#if defined(CHROMA_OWN_KERNELS)
    for (; r + 8 <= count; r += 8) {
        index_t k = 0;
        for (; k + 8 <= depth; k += 8) transpose_8x8(rows + r * ld + k, ld, to + k * mr + r, mr);
        for (; k < depth; ++k)
            for (index_t q = r; q < r + 8; ++q) to[k * mr + q] = rows[q * ld + k];
    }
#endif
    for (; r < count; ++r)
        for (index_t k = 0; k < depth; ++k) to[k * mr + r] = rows[r * ld + k];
}

/// A(i, k) = data[i * ld + k].
struct pack_rows_of {
    const float* data;
    index_t ld;
    void operator()(float* dst, index_t i0, index_t rows, index_t k0, index_t depth, index_t mr) const {
        for (index_t s = 0; s < rows; s += mr) {
            const index_t valid = std::min(mr, rows - s);
            transpose_rows_into_strip(data + (i0 + s) * ld + k0, ld, valid, depth, dst, mr);
            for (index_t r = valid; r < mr; ++r)
                for (index_t k = 0; k < depth; ++k) dst[k * mr + r] = 0.0f;
            dst += depth * mr;
        }
    }
};

/// A(i, k) = data[k * ld + i]: the transpose of a stored matrix, as the strips want it.
struct pack_columns_of {
    const float* data;
    index_t ld;
    void operator()(float* dst, index_t i0, index_t rows, index_t k0, index_t depth, index_t mr) const {
        for (index_t s = 0; s < rows; s += mr) {
            const index_t valid = std::min(mr, rows - s);
            for (index_t k = 0; k < depth; ++k) {
                const float* from = data + (k0 + k) * ld + i0 + s;
                std::memcpy(dst + k * mr, from, static_cast<std::size_t>(valid) * sizeof(float));
                std::fill(dst + k * mr + valid, dst + (k + 1) * mr, 0.0f);
            }
            dst += depth * mr;
        }
    }
};

/// B(k, j) = data[k * ld + j].
struct pack_b_rows_of {
    const float* data;
    index_t ld;
    void operator()(float* dst, index_t k0, index_t depth, index_t j0, index_t cols, index_t nr) const {
        // The same layout as A's transposed strips, with k and the column index in those roles.
        pack_columns_of{data, ld}(dst, j0, cols, k0, depth, nr);
    }
};

/// B(k, j) = data[j * ld + k]: a stored matrix transposed.
struct pack_b_columns_of {
    const float* data;
    index_t ld;
    void operator()(float* dst, index_t k0, index_t depth, index_t j0, index_t cols, index_t nr) const {
        pack_rows_of{data, ld}(dst, j0, cols, k0, depth, nr);
    }
};

}  // namespace chroma::kernels::cpu_gemm
