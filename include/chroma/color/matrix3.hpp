#pragma once
// A 3x3 matrix of doubles for the colour-space constants: products, inverses and diagonal
// scalings evaluated at compile time, so every derived matrix (the inverse of sRGB -> XYZ, the
// Bradford adaptation) is computed once, in double precision, from the published numbers.
#include <array>

namespace chroma::color {

struct Matrix3 {
    std::array<double, 9> m{};  // row-major

    constexpr double operator()(int row, int column) const { return m[static_cast<unsigned>(row * 3 + column)]; }

    constexpr Matrix3 operator*(const Matrix3& other) const {
        Matrix3 product;
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) {
                double sum = 0.0;
                for (int k = 0; k < 3; ++k) sum += (*this)(r, k) * other(k, c);
                product.m[static_cast<unsigned>(r * 3 + c)] = sum;
            }
        return product;
    }
    constexpr std::array<double, 3> operator*(const std::array<double, 3>& v) const {
        std::array<double, 3> out{};
        for (int r = 0; r < 3; ++r)
            out[static_cast<unsigned>(r)] = (*this)(r, 0) * v[0] + (*this)(r, 1) * v[1] + (*this)(r, 2) * v[2];
        return out;
    }

    static constexpr Matrix3 diagonal(const std::array<double, 3>& d) { return {{d[0], 0, 0, 0, d[1], 0, 0, 0, d[2]}}; }

    /// The inverse by cofactors; the colour matrices are far from singular.
    constexpr Matrix3 inverse() const {
        const auto& a = *this;
        const double c00 = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1);
        const double c01 = a(1, 2) * a(2, 0) - a(1, 0) * a(2, 2);
        const double c02 = a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0);
        const double det = a(0, 0) * c00 + a(0, 1) * c01 + a(0, 2) * c02;
        const double s = 1.0 / det;
        return {{c00 * s, (a(0, 2) * a(2, 1) - a(0, 1) * a(2, 2)) * s, (a(0, 1) * a(1, 2) - a(0, 2) * a(1, 1)) * s,
                 c01 * s, (a(0, 0) * a(2, 2) - a(0, 2) * a(2, 0)) * s, (a(0, 2) * a(1, 0) - a(0, 0) * a(1, 2)) * s,
                 c02 * s, (a(0, 1) * a(2, 0) - a(0, 0) * a(2, 1)) * s, (a(0, 0) * a(1, 1) - a(0, 1) * a(1, 0)) * s}};
    }
};

}  // namespace chroma::color
