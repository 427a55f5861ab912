// The CUDA kernels' arithmetic checked on the host, so that it is tested even where there is no
// GPU: every element-wise kernel body is a CHROMA_HOST_DEVICE functor, run here over all indices
// on host memory; the row-major to column-major GEMM mapping runs through a reference
// column-major GEMM with cuBLAS's semantics; and the convolutions' orchestration (offsets,
// strides, chunking) runs with host versions of its steps. All compared with the CPU kernels in
// double, to 1e-12. (Not covered here: the block reductions of BatchNorm, bias gradients and
// norms, which need a GPU; test_cuda_layers.cu checks them there.)
#include "parity.cuh"

#include <vector>

using namespace chroma;
namespace cd = chroma::kernels::cuda_detail;

namespace {

template <class Body>
void run_on_host(index_t count, const Body& body) {
    for (index_t i = 0; i < count; ++i) body(i);
}

Tensor<double> random_doubles(Shape shape, Rng& rng) {
    Tensor<double> t(shape);
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = rng.uniform(-1.0, 1.0);
    return t;
}

double max_difference(const double* a, const double* b, index_t count) {
    double worst = 0.0;
    for (index_t i = 0; i < count; ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
}
double max_difference(const Tensor<double>& a, const Tensor<double>& b) {
    REQUIRE(a.shape() == b.shape());
    return max_difference(a.data(), b.data(), a.size());
}

/// cuBLAS's strided-batched GEMM, column-major, as documented: C = alpha op(F) op(S) + beta C.
void reference_column_major_gemm(const cd::column_major_gemm& g, double alpha, const double* first,
                                 index_t first_stride, const double* second, index_t second_stride, double beta,
                                 double* result, index_t result_stride, index_t batch) {
    for (index_t b = 0; b < batch; ++b) {
        const double* F = first + b * first_stride;
        const double* S = second + b * second_stride;
        double* C = result + b * result_stride;
        for (int i = 0; i < g.rows; ++i)
            for (int j = 0; j < g.columns; ++j) {
                double sum = 0.0;
                for (int l = 0; l < g.inner; ++l) {
                    const double f = g.transpose_first ? F[l + i * g.ld_first] : F[i + l * g.ld_first];
                    const double s = g.transpose_second ? S[j + l * g.ld_second] : S[l + j * g.ld_second];
                    sum += f * s;
                }
                C[i + j * g.ld_result] = alpha * sum + beta * C[i + j * g.ld_result];
            }
    }
}

/// The convolutions' steps on the host: the device functors run in loops, the GEMM by reference.
struct host_ops {
    static void im2col(const ConvGeometry& g, const double* image, index_t image_stride, index_t images, double* col) {
        run_on_host(images * g.patch() * g.out_plane(), cd::im2col_op<double>{g, image, image_stride, col});
    }
    static void col2im(const ConvGeometry& g, const double* col, index_t images, double* image,
                       const double* bias = nullptr) {
        run_on_host(images * g.in_channels * g.in_plane(), cd::col2im_op<double>{g, col, image, bias});
    }
    static void gemm(bool transpose_a, bool transpose_b, index_t m, index_t n, index_t k, double alpha,
                     const double* a, index_t a_stride, const double* b, index_t b_stride, double beta, double* c,
                     index_t c_stride, index_t batch) {
        // The operands in the order cd::gemm hands them to cuBLAS: B first, then A.
        reference_column_major_gemm(cd::column_major_arguments(transpose_a, transpose_b, m, n, k), alpha, b, b_stride,
                                    a, a_stride, beta, c, c_stride, batch);
    }
    static void add_bias(double* y, const double* bias, index_t images, index_t channels, index_t plane) {
        run_on_host(images * channels * plane, cd::add_bias_op<double>{y, bias, channels, plane});
    }
    static void add_channel_sums(const double* data, index_t images, index_t channels, index_t plane, double* sums) {
        for (index_t c = 0; c < channels; ++c)
            for (index_t n = 0; n < images; ++n)
                for (index_t p = 0; p < plane; ++p) sums[c] += data[(n * channels + c) * plane + p];
    }
};

struct host_workspace {
    std::vector<double> values;
    double* operator()(index_t count) {
        values.assign(static_cast<std::size_t>(count), -1e300);  // garbage: the kernels must not read it unwritten
        return values.data();
    }
};

ConvGeometry convolution(index_t in, index_t out, index_t kernel, index_t stride, index_t padding, index_t dilation,
                         index_t h, index_t w) {
    return ConvGeometry{.in_channels = in, .out_channels = out, .kernel = kernel, .stride = stride,
                        .padding = padding, .dilation = dilation, .in_h = h, .in_w = w,
                        .out_h = ConvGeometry::conv_output_size(h, kernel, stride, padding, dilation),
                        .out_w = ConvGeometry::conv_output_size(w, kernel, stride, padding, dilation)};
}

/// The geometry ConvTranspose2d uses: the convolution from its output back to its input.
ConvGeometry transposed(index_t in, index_t out, index_t kernel, index_t stride, index_t padding,
                        index_t output_padding, index_t dilation, index_t h, index_t w) {
    return ConvGeometry{.in_channels = out, .out_channels = in, .kernel = kernel, .stride = stride,
                        .padding = padding, .dilation = dilation,
                        .in_h = ConvGeometry::transposed_output_size(h, kernel, stride, padding, dilation, output_padding),
                        .in_w = ConvGeometry::transposed_output_size(w, kernel, stride, padding, dilation, output_padding),
                        .out_h = h, .out_w = w};
}

/// Workspace budgets: unlimited (one chunk), and small enough for one or two images per chunk.
std::vector<index_t> budgets(const ConvGeometry& g) {
    const index_t one_image = g.patch() * g.out_plane() * static_cast<index_t>(sizeof(double));
    return {cd::conv_workspace_bytes, 2 * one_image, 3 * one_image, 1};
}

void check_convolution(const ConvGeometry& g, index_t images) {
    INFO("convolution " << g.in_channels << "->" << g.out_channels << " kernel " << g.kernel << " stride " << g.stride
                        << " padding " << g.padding << " dilation " << g.dilation << ", " << images << " images");
    Rng rng(3);
    const Shape in{images, g.in_channels, g.in_h, g.in_w}, out{images, g.out_channels, g.out_h, g.out_w};
    const Tensor<double> x = random_doubles(in, rng), dy = random_doubles(out, rng);
    const Tensor<double> weight = random_doubles({g.out_channels, g.in_channels, g.kernel, g.kernel}, rng);
    const Tensor<double> bias = random_doubles({g.out_channels, 1, 1, 1}, rng);

    Tensor<double> y(out), dx(in), dweight(weight.shape()), dbias(bias.shape()), workspace;
    kernels::conv2d_forward(g, x, weight, &bias, y, workspace);
    kernels::conv2d_backward(g, x, weight, dy, &dx, dweight, &dbias, workspace);

    for (const index_t budget : budgets(g)) {
        INFO("workspace budget " << budget << " bytes");
        Tensor<double> y2(out), dx2(in), dweight2(weight.shape()), dbias2(bias.shape());
        host_workspace ws;
        cd::conv2d_forward<host_ops>(g, images, x.data(), weight.data(), bias.data(), y2.data(), ws, budget);
        cd::conv2d_backward<host_ops>(g, images, x.data(), weight.data(), dy.data(), dx2.data(), dweight2.data(),
                                      dbias2.data(), ws, budget);
        CHECK(max_difference(y2, y) < 1e-12);
        CHECK(max_difference(dx2, dx) < 1e-12);
        CHECK(max_difference(dweight2, dweight) < 1e-12);
        CHECK(max_difference(dbias2, dbias) < 1e-12);
        // Without dx (the first layer of a network may skip it): the weight gradient alone.
        Tensor<double> dweight3(weight.shape());
        cd::conv2d_backward<host_ops>(g, images, x.data(), weight.data(), dy.data(), static_cast<double*>(nullptr),
                                      dweight3.data(), static_cast<double*>(nullptr), ws, budget);
        CHECK(max_difference(dweight3, dweight) < 1e-12);
    }
}

void check_transposed_convolution(const ConvGeometry& g, index_t images) {
    INFO("transposed convolution kernel " << g.kernel << " stride " << g.stride << " padding " << g.padding
                                          << " dilation " << g.dilation << ", " << images << " images");
    Rng rng(4);
    // Input: g.out_channels x out plane; output: g.in_channels x in plane; weight [g.out_channels, g.in_channels, k, k].
    const Shape in{images, g.out_channels, g.out_h, g.out_w}, out{images, g.in_channels, g.in_h, g.in_w};
    const Tensor<double> x = random_doubles(in, rng), dy = random_doubles(out, rng);
    const Tensor<double> weight = random_doubles({g.out_channels, g.in_channels, g.kernel, g.kernel}, rng);
    const Tensor<double> bias = random_doubles({g.in_channels, 1, 1, 1}, rng);

    Tensor<double> y(out), dx(in), dweight(weight.shape()), dbias(bias.shape()), workspace;
    kernels::conv_transpose2d_forward(g, x, weight, &bias, y, workspace);
    kernels::conv_transpose2d_backward(g, x, weight, dy, &dx, dweight, &dbias, workspace);

    for (const index_t budget : budgets(g)) {
        INFO("workspace budget " << budget << " bytes");
        Tensor<double> y2(out), dx2(in), dweight2(weight.shape()), dbias2(bias.shape());
        host_workspace ws;
        cd::conv_transpose2d_forward<host_ops>(g, images, x.data(), weight.data(), bias.data(), y2.data(), ws, budget);
        cd::conv_transpose2d_backward<host_ops>(g, images, x.data(), weight.data(), dy.data(), dx2.data(),
                                                dweight2.data(), dbias2.data(), ws, budget);
        CHECK(max_difference(y2, y) < 1e-12);
        CHECK(max_difference(dx2, dx) < 1e-12);
        CHECK(max_difference(dweight2, dweight) < 1e-12);
        CHECK(max_difference(dbias2, dbias) < 1e-12);
    }
}

}  // namespace

TEST_CASE("the row-major GEMM mapping onto column-major cuBLAS is right", "[no_device][emulation]") {
    Rng rng(1);
    for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
            INFO("transpose_a " << ta << ", transpose_b " << tb);
            const index_t m = 3, n = 5, k = 4, batch = 2;
            std::vector<double> a(static_cast<std::size_t>(m * k * batch)), b(static_cast<std::size_t>(k * n * batch)),
                c(static_cast<std::size_t>(m * n * batch));
            for (auto* v : {&a, &b, &c})
                for (double& e : *v) e = rng.uniform(-1.0, 1.0);
            std::vector<double> expected = c;
            for (index_t bi = 0; bi < batch; ++bi)
                for (index_t i = 0; i < m; ++i)
                    for (index_t j = 0; j < n; ++j) {
                        double sum = 0.0;
                        for (index_t l = 0; l < k; ++l) {
                            // A stored K x M when transposed, else M x K; B stored N x K when transposed, else K x N.
                            const double av = ta ? a[bi * m * k + l * m + i] : a[bi * m * k + i * k + l];
                            const double bv = tb ? b[bi * k * n + j * k + l] : b[bi * k * n + l * n + j];
                            sum += av * bv;
                        }
                        double& e = expected[static_cast<std::size_t>(bi * m * n + i * n + j)];
                        e = 2.0 * sum + 0.5 * e;
                    }
            host_ops::gemm(ta, tb, m, n, k, 2.0, a.data(), m * k, b.data(), k * n, 0.5, c.data(), m * n, batch);
            CHECK(max_difference(c.data(), expected.data(), m * n * batch) < 1e-12);
        }
}

TEST_CASE("the CUDA convolution steps, run on the host, match the CPU's convolutions", "[no_device][emulation]") {
    check_convolution(convolution(3, 5, 3, 1, 1, 1, 7, 6), 3);
    check_convolution(convolution(2, 4, 5, 1, 2, 1, 9, 9), 1);
    check_convolution(convolution(3, 4, 3, 2, 0, 2, 9, 8), 3);
    check_convolution(convolution(4, 6, 1, 1, 0, 1, 5, 5), 3);  // pointwise
    check_convolution(convolution(3, 4, 1, 2, 0, 1, 6, 7), 2);  // 1x1, strided: not pointwise
    check_convolution(convolution(2, 3, 4, 2, 1, 1, 8, 8), 3);
    check_transposed_convolution(transposed(4, 3, 4, 2, 1, 0, 1, 5, 4), 3);
    check_transposed_convolution(transposed(3, 2, 3, 2, 1, 1, 2, 4, 5), 2);
    check_transposed_convolution(transposed(4, 3, 1, 1, 0, 0, 1, 4, 4), 3);  // pointwise
    check_transposed_convolution(transposed(2, 2, 3, 1, 0, 0, 1, 6, 5), 1);
}

TEST_CASE("the CUDA pooling, upsampling and softmax bodies, run on the host, match the CPU", "[no_device][emulation]") {
    Rng rng(2);
    SECTION("max pooling, forward and backward") {
        for (const PoolWindow window : {PoolWindow{2, 2, 0}, PoolWindow{3, 2, 1}, PoolWindow{3, 1, 0}, PoolWindow{3, 3, 1}}) {
            INFO("kernel " << window.kernel << " stride " << window.stride << " padding " << window.padding);
            const Shape in{2, 3, 9, 7}, out{2, 3, window.output_size(9), window.output_size(7)};
            Tensor<double> x = random_doubles(in, rng);
            x.data()[5] = x.data()[6];  // a tie: the first maximum wins
            const Tensor<double> dy = random_doubles(out, rng);
            Tensor<double> y(out), where(out), dx(in), y2(out), where2(out), dx2(in);
            kernels::max_pool2d_forward(window, x, y, where);
            kernels::max_pool2d_backward(window, dy, where, dx);
            run_on_host(y2.size(), cd::max_pool_forward_op<double>{window, x.data(), y2.data(), where2.data(), in.h,
                                                                   in.w, out.h, out.w});
            run_on_host(dx2.size(), cd::max_pool_backward_op<double>{window, dy.data(), where2.data(), dx2.data(), in.h,
                                                                     in.w, out.h, out.w});
            CHECK(max_difference(y2, y) == 0.0);
            CHECK(max_difference(where2, where) == 0.0);
            CHECK(max_difference(dx2, dx) < 1e-12);
        }
    }
    SECTION("upsampling, nearest and bilinear, forward and backward") {
        for (const index_t factor : {1, 2, 3, 4}) {
            INFO("factor " << factor);
            const Shape in{2, 2, 5, 3}, out{2, 2, 5 * factor, 3 * factor};
            const Tensor<double> x = random_doubles(in, rng), dy = random_doubles(out, rng);
            Tensor<double> y(out), dx(in), y2(out), dx2(in);
            kernels::upsample_nearest_forward(factor, x, y);
            kernels::upsample_nearest_backward(factor, dy, dx);
            run_on_host(y2.size(), cd::upsample_nearest_forward_op<double>{x.data(), y2.data(), factor, in.h, in.w});
            run_on_host(dx2.size(), cd::upsample_nearest_backward_op<double>{dy.data(), dx2.data(), factor, in.h, in.w});
            CHECK(max_difference(y2, y) == 0.0);
            CHECK(max_difference(dx2, dx) < 1e-12);
            kernels::upsample_bilinear_forward(factor, x, y);
            kernels::upsample_bilinear_backward(factor, dy, dx);
            run_on_host(y2.size(), cd::upsample_bilinear_forward_op<double>{x.data(), y2.data(), factor, in.h, in.w});
            run_on_host(dx2.size(), cd::upsample_bilinear_backward_op<double>{dy.data(), dx2.data(), factor, in.h, in.w});
            CHECK(max_difference(y2, y) < 1e-12);
            CHECK(max_difference(dx2, dx) < 1e-12);
        }
    }
    SECTION("softmax over channels, forward and backward") {
        const Shape s{2, 7, 3, 5};
        const Tensor<double> x = random_doubles(s, rng), dy = random_doubles(s, rng);
        Tensor<double> y(s), dx(s), y2(s), dx2(s);
        kernels::softmax_channels_forward(x, y);
        kernels::softmax_channels_backward(y, dy, dx);
        run_on_host(s.n * s.plane(), cd::softmax_forward_op<double>{x.data(), y2.data(), s.c, s.plane()});
        run_on_host(s.n * s.plane(), cd::softmax_backward_op<double>{y.data(), dy.data(), dx2.data(), s.c, s.plane()});
        CHECK(max_difference(y2, y) < 1e-12);
        CHECK(max_difference(dx2, dx) < 1e-12);
    }
}

TEST_CASE("the CUDA element-wise bodies, run on the host, match the CPU", "[no_device][emulation]") {
    Rng rng(3);
    SECTION("concatenating and splitting channels") {
        const Tensor<double> a = random_doubles({2, 3, 2, 2}, rng), b = random_doubles({2, 2, 2, 2}, rng);
        Tensor<double> both({2, 5, 2, 2}), both2({2, 5, 2, 2}), a2(a.shape()), b2(b.shape());
        kernels::concat_channels(a, b, both);
        run_on_host(both2.size(), cd::concat_op<double>{a.data(), b.data(), both2.data(), 12, 8});
        CHECK(max_difference(both2, both) == 0.0);
        run_on_host(both.size(), cd::split_op<double>{both.data(), a2.data(), b2.data(), 12, 8});
        CHECK(max_difference(a2, a) == 0.0);
        CHECK(max_difference(b2, b) == 0.0);
    }
    SECTION("dropout masks are the CPU's") {
        const Tensor<double> x = random_doubles({2, 3, 4, 5}, rng);
        const ops::dropout_mask<double> mask{.key = 0x1234, .drop_below = 1ull << 52, .scale = 2.0};
        Tensor<double> y(x.shape()), y2(x.shape());
        kernels::apply_mask(x, y, mask);
        run_on_host(y2.size(), cd::apply_mask_op<double, ops::dropout_mask<double>>{x.data(), y2.data(), mask});
        CHECK(max_difference(y2, y) == 0.0);
    }
    SECTION("an activation's forward and backward") {
        const Tensor<double> x = random_doubles({1, 2, 3, 4}, rng), dy = random_doubles({1, 2, 3, 4}, rng);
        Tensor<double> y(x.shape()), dx(x.shape()), y2(x.shape()), dx2(x.shape());
        kernels::unary_forward(x, y, ops::sigmoid{});
        kernels::unary_backward(x, y, dy, dx, ops::sigmoid{});
        run_on_host(y2.size(), cd::unary_forward_op<double, ops::sigmoid>{x.data(), y2.data(), {}});
        run_on_host(dx2.size(), cd::unary_backward_op<double, ops::sigmoid>{x.data(), y.data(), dy.data(), dx2.data(), {}});
        CHECK(max_difference(y2, y) == 0.0);
        CHECK(max_difference(dx2, dx) == 0.0);
    }
}
