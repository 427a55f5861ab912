#pragma once
// The CUDA backend and the whole library, for .cu files compiled by nvcc:
//
//     #include <chroma/backend/cuda/all.cuh>   // first: before any other Chroma header
//     chroma::Model<Net, chroma::cuda> model(seed);     // the same start as Model<Net, cpu>(seed)
//     model.forward(chroma::to_device(batch));
//
// Layers reach their arithmetic through qualified calls (kernels::conv2d_forward(...)), which
// see only the overloads declared before the layer headers; so the CUDA kernels come first here,
// then the library. Including a layer header earlier makes Model<Net, cuda> fail to compile
// with "no matching function for call to kernels::...(..., Tensor<float, cuda>...)".
#include "cuda.hpp"
#include "transfer.hpp"
#include "launch.cuh"
#include "reduce.cuh"
#include "gemm.cuh"
#include "im2col.cuh"
#include "elementwise.cuh"
#include "conv.cuh"
#include "batch_norm.cuh"
#include "pooling.cuh"
#include "upsample.cuh"
#include "softmax.cuh"
#include "dropout.cuh"
#include "optimizer.cuh"
#include "initialize.hpp"

#include "../../chroma.hpp"
