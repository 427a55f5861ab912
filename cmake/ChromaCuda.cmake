# The CUDA backend (include/chroma/backend/cuda/): the option CHROMA_CUDA, the interface target
# chroma::cuda for .cu files, and (with the tests) tests/cuda. Include it from the top-level
# CMakeLists.txt after the chroma target exists:
#
#     include(cmake/ChromaCuda.cmake)
#
# CHROMA_CUDA defaults to ON when a CUDA compiler (nvcc) is found and OFF otherwise, so CPU-only
# machines never need the CUDA toolkit. CMAKE_CUDA_ARCHITECTURES defaults to 90 (H100); pass
# -DCMAKE_CUDA_ARCHITECTURES=native (or 80, "80;90", ...) for other GPUs.
include(CheckLanguage)
check_language(CUDA)
set(_chroma_cuda_default OFF)
if(CMAKE_CUDA_COMPILER)
    set(_chroma_cuda_default ON)
endif()
option(CHROMA_CUDA "Build the CUDA backend's target and tests (needs nvcc and cuBLAS)" ${_chroma_cuda_default})
if(NOT CHROMA_CUDA)
    return()
endif()
if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "CHROMA_CUDA is ON but CMake found no CUDA compiler: install the CUDA toolkit, "
                        "set CMAKE_CUDA_COMPILER to nvcc, or configure with -DCHROMA_CUDA=OFF")
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

# The headers are C++20. CMake before 3.26 does not know nvcc's -std=c++20 (nvcc has had it
# since CUDA 12.0), so teach it.
if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)

add_library(chroma_cuda INTERFACE)
add_library(chroma::cuda ALIAS chroma_cuda)
target_link_libraries(chroma_cuda INTERFACE chroma::chroma CUDA::cudart CUDA::cublas)
# --expt-relaxed-constexpr lets device code call constexpr host functions (std::max and the like
# inside CHROMA_HOST_DEVICE functors); the suppressed diagnostics are Eigen's __host__ __device__
# annotations on defaulted functions, harmless and out of Chroma's hands.
target_compile_options(chroma_cuda INTERFACE
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -diag-suppress=20012,20013,20015>)
