// Tensor: storage, views, alignment, resizing and misuse.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <cstdint>

using namespace chroma;

TEST_CASE("a new tensor is zeroed, 64-byte aligned and NCHW-ordered") {
    Tensor<float> t(Shape{.n = 2, .c = 3, .h = 4, .w = 5});
    CHECK(t.size() == 120);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    for (index_t i = 0; i < t.size(); ++i) REQUIRE(t.data()[i] == 0.0f);
    t(1, 2, 3, 4) = 7.0f;
    CHECK(t.data()[119] == 7.0f);
    t(0, 1, 0, 2) = 3.0f;
    CHECK(t.data()[1 * 20 + 2] == 3.0f);
}

TEST_CASE("batch views and reshapes share storage without copying") {
    Tensor<double> t(Shape{.n = 4, .c = 2, .h = 2, .w = 2});
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<double>(i);
    Tensor<double> middle = t.batch(1, 2);
    CHECK(middle.shape() == Shape{.n = 2, .c = 2, .h = 2, .w = 2});
    CHECK(middle.data() == t.data() + 8);
    middle(0, 0, 0, 0) = -1.0;
    CHECK(t.data()[8] == -1.0);
    Tensor<double> flat = t.reshaped(Shape{.n = 1, .c = 1, .h = 1, .w = 32});
    CHECK(flat.shares_storage_with(t));
    Tensor<double> copy = t.clone();
    copy.data()[0] = 100.0;
    CHECK(t.data()[0] == 0.0);
}

TEST_CASE("resize keeps storage that is large enough") {
    Tensor<float> t(Shape{.n = 2, .c = 2, .h = 4, .w = 4});
    const float* before = t.data();
    t.resize(Shape{.n = 1, .c = 2, .h = 4, .w = 4});
    CHECK(t.data() == before);
    t.resize(Shape{.n = 4, .c = 2, .h = 4, .w = 4});
    CHECK(t.size() == 128);
}

TEST_CASE("misuse raises errors that name the shapes") {
    Tensor<float> t(Shape{.n = 1, .c = 3, .h = 2, .w = 2});
    CHECK_THROWS_WITH(t.at(0, 3, 0, 0), Catch::Contains("(0, 3, 0, 0)") && Catch::Contains("[N=1, C=3, H=2, W=2]"));
    CHECK_THROWS_AS(t.batch(1, 1), usage_error);
    CHECK_THROWS_WITH(t.reshaped(Shape{.n = 1, .c = 1, .h = 1, .w = 5}),
                      Catch::Contains("[N=1, C=3, H=2, W=2]") && Catch::Contains("[N=1, C=1, H=1, W=5]"));
    CHECK_THROWS_AS(t[12], usage_error);
    CHECK_THROWS_AS(Tensor<float>(Shape{.n = -1, .c = 1, .h = 1, .w = 1}), shape_error);
    CHECK_THROWS_WITH(require_same_shape(Shape{1, 2, 3, 4}, Shape{1, 2, 3, 5}, "my layer"),
                      Catch::StartsWith("my layer: expected shape [N=1, C=2, H=3, W=4], got [N=1, C=2, H=3, W=5]"));
}

TEST_CASE("the random generator is reproducible from its seed") {
    Rng a(42), b(42), c(43);
    for (int i = 0; i < 10; ++i) {
        const double x = a.uniform();
        REQUIRE(x == b.uniform());
        REQUIRE(x >= 0.0);
        REQUIRE(x < 1.0);
    }
    CHECK(a.uniform() != c.uniform());
}
