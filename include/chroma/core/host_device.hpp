#pragma once
// Marks small functions (element-wise maths) that both the CPU and the CUDA backend compile.
#if defined(__CUDACC__)
#define CHROMA_HOST_DEVICE __host__ __device__
#else
#define CHROMA_HOST_DEVICE
#endif
