#pragma once
// Row-major matrix views over raw memory and the GEMM every layer's heavy arithmetic reduces to.
#include <Eigen/Core>

#include "../../core/shape.hpp"

namespace chroma::kernels::cpu_detail {

template <class T>
using row_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using matrix_view = Eigen::Map<row_matrix<T>>;
template <class T>
using const_matrix_view = Eigen::Map<const row_matrix<T>>;

template <class T>
matrix_view<T> view(T* data, index_t rows, index_t cols) {
    return matrix_view<T>(data, rows, cols);
}
template <class T>
const_matrix_view<T> view(const T* data, index_t rows, index_t cols) {
    return const_matrix_view<T>(data, rows, cols);
}

}  // namespace chroma::kernels::cpu_detail
