#pragma once
// The reference white of CIELAB and the constants of one sRGB <-> CIELAB conversion.
//
// D65, the default, follows scikit-image exactly, and so the reference code of Zhang et al.,
// which converts with skimage.color.rgb2lab: linear sRGB -> XYZ by the matrix of the sRGB
// specification (0.412453, 0.357580, ...), then XYZ relative to the white (0.95047, 1, 1.08883).
// OpenCV uses the same matrix with a white equal to the matrix's row sums (0.950456, 1, 1.088754);
// the two give a and b that differ by less than 0.005. A consequence of scikit-image's numbers:
// neutral grey has |a|, |b| < 0.005 rather than exactly 0.
//
// D50 (ColorNet, seed 000): sRGB colours are defined under D65, so they are first carried to D50
// by the Bradford chromatic adaptation (as ICC colour management does) and then referred to the
// D50 white. The adaptation maps the sRGB white (the matrix's row sums) exactly onto the D50
// white, so neutral grey has a = b = 0. scikit-image's rgb2lab(illuminant="D50") does not adapt:
// it only swaps the white, which turns white blue (a = -2.4, b = -19.4 at L = 100).
#include <array>

#include "matrix3.hpp"

namespace chroma::color {

/// The reference white of the L*a*b* conversion.
enum class WhitePoint {
    d65,  // sRGB's own white; scikit-image's and OpenCV's default
    d50,  // the ICC profile connection white; ColorNet's choice
};

/// XYZ (Y = 1) of a white, CIE 1931 2-degree observer.
using WhiteXyz = std::array<double, 3>;

/// scikit-image's D65 white.
inline constexpr WhiteXyz d65_white{0.95047, 1.0, 1.08883};
/// scikit-image's D50 white.
inline constexpr WhiteXyz d50_white{0.9642119944211994, 1.0, 0.8251882845188288};

/// Linear sRGB -> XYZ under D65, from the sRGB specification (the matrix scikit-image and OpenCV use).
inline constexpr Matrix3 srgb_to_xyz_d65{{0.412453, 0.357580, 0.180423,  //
                                          0.212671, 0.715160, 0.072169,  //
                                          0.019334, 0.119193, 0.950227}};

/// XYZ of linear sRGB (1, 1, 1): the white the matrix above implies.
inline constexpr WhiteXyz srgb_matrix_white{srgb_to_xyz_d65(0, 0) + srgb_to_xyz_d65(0, 1) + srgb_to_xyz_d65(0, 2),
                                            srgb_to_xyz_d65(1, 0) + srgb_to_xyz_d65(1, 1) + srgb_to_xyz_d65(1, 2),
                                            srgb_to_xyz_d65(2, 0) + srgb_to_xyz_d65(2, 1) + srgb_to_xyz_d65(2, 2)};

/// The Bradford cone-response matrix (Lam 1985, as used by ICC.1 Annex E).
inline constexpr Matrix3 bradford_cone_response{{0.8951, 0.2664, -0.1614,  //
                                                 -0.7502, 1.7135, 0.0367,  //
                                                 0.0389, -0.0685, 1.0296}};

/// The XYZ -> XYZ matrix that carries colours seen under white `from` to their corresponding
/// colours under white `to` by the Bradford transform; it maps `from` exactly onto `to`.
constexpr Matrix3 bradford_adaptation(const WhiteXyz& from, const WhiteXyz& to) {
    const auto cone_from = bradford_cone_response * from;
    const auto cone_to = bradford_cone_response * to;
    const WhiteXyz gain{cone_to[0] / cone_from[0], cone_to[1] / cone_from[1], cone_to[2] / cone_from[2]};
    return bradford_cone_response.inverse() * Matrix3::diagonal(gain) * bradford_cone_response;
}

/// Everything one sRGB <-> L*a*b* conversion needs, in the precision of the arithmetic (float or
/// double). A plain aggregate, so kernels on any backend can take it by value.
template <class T>
struct LabSpace {
    T rgb_to_xyz[9];     // linear sRGB -> XYZ under the reference white, row-major
    T xyz_to_rgb[9];     // its inverse
    T white[3];          // XYZ of the reference white
    T inverse_white[3];  // 1 / white, so per-pixel code multiplies

    /// The same space in another precision.
    template <class U>
    constexpr LabSpace<U> as() const {
        LabSpace<U> out{};
        for (int i = 0; i < 9; ++i) {
            out.rgb_to_xyz[i] = static_cast<U>(rgb_to_xyz[i]);
            out.xyz_to_rgb[i] = static_cast<U>(xyz_to_rgb[i]);
        }
        for (int i = 0; i < 3; ++i) {
            out.white[i] = static_cast<U>(white[i]);
            out.inverse_white[i] = static_cast<U>(inverse_white[i]);
        }
        return out;
    }
};

/// The conversion for linear sRGB -> XYZ by `rgb_to_xyz` and L*a*b* relative to `white`.
constexpr LabSpace<double> make_lab_space(const Matrix3& rgb_to_xyz, const WhiteXyz& white) {
    LabSpace<double> space{};
    const Matrix3 inverse = rgb_to_xyz.inverse();
    for (int i = 0; i < 9; ++i) {
        space.rgb_to_xyz[i] = rgb_to_xyz.m[static_cast<unsigned>(i)];
        space.xyz_to_rgb[i] = inverse.m[static_cast<unsigned>(i)];
    }
    for (int i = 0; i < 3; ++i) {
        space.white[i] = white[static_cast<unsigned>(i)];
        space.inverse_white[i] = 1.0 / white[static_cast<unsigned>(i)];
    }
    return space;
}

/// L*a*b* relative to any white, sRGB colours carried to it by the Bradford adaptation.
constexpr LabSpace<double> bradford_adapted_lab_space(const WhiteXyz& white) {
    return make_lab_space(bradford_adaptation(srgb_matrix_white, white) * srgb_to_xyz_d65, white);
}

inline constexpr LabSpace<double> lab_space_d65 = make_lab_space(srgb_to_xyz_d65, d65_white);
inline constexpr LabSpace<double> lab_space_d50 = bradford_adapted_lab_space(d50_white);

/// The conversion constants for a reference white, in the arithmetic's precision.
template <class T>
constexpr LabSpace<T> lab_space(WhitePoint white = WhitePoint::d65) {
    return (white == WhitePoint::d50 ? lab_space_d50 : lab_space_d65).template as<T>();
}

}  // namespace chroma::color
