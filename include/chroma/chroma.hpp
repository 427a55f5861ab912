#pragma once
// Chroma: a header-only C++20 neural-network library for automatic image colorization.
// This umbrella header includes the whole public interface, CPU backend; the CUDA backend is
// in backend/cuda/ and needs nvcc.

// Tensors, errors, the CPU backend
#include "core/error.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"
#include "core/parameter.hpp"
#include "core/random.hpp"
#include "backend/cpu/cpu.hpp"

// Layers and their composition
#include "nn/layer.hpp"
#include "nn/activation.hpp"
#include "nn/conv2d.hpp"
#include "nn/conv_transpose2d.hpp"
#include "nn/batch_norm2d.hpp"
#include "nn/dropout.hpp"
#include "nn/max_pool2d.hpp"
#include "nn/upsample.hpp"
#include "nn/softmax.hpp"
#include "nn/identity.hpp"
#include "nn/merge.hpp"
#include "nn/named.hpp"
#include "nn/sequential.hpp"
#include "nn/skip.hpp"
#include "nn/frozen.hpp"
#include "nn/model.hpp"

// Initialisation and optimisation
#include "init/pytorch_default.hpp"
#include "init/initializers.hpp"
#include "init/data_dependent.hpp"
#include "optim/sgd.hpp"
#include "optim/adam.hpp"
#include "optim/clip.hpp"
#include "optim/schedules.hpp"

// Colour science, losses, metrics
#include "color/lab_space.hpp"
#include "color/lab.hpp"
#include "color/conversion.hpp"
#include "color/normalization.hpp"
#include "color/ab_bins.hpp"
#include "color/bin_lookup.hpp"
#include "color/encoding.hpp"
#include "color/prior.hpp"
#include "color/decoding.hpp"
#include "loss/regression.hpp"
#include "loss/cross_entropy.hpp"
#include "loss/distribution.hpp"
#include "loss/classification_objective.hpp"
#include "loss/adversarial.hpp"
#include "loss/generator_objective.hpp"
#include "loss/reconstruction_energy.hpp"
#include "loss/clip_weights.hpp"
#include "metrics/psnr.hpp"
#include "metrics/ssim.hpp"
#include "metrics/auc.hpp"
#include "metrics/colourfulness.hpp"
#include "metrics/ciede2000.hpp"
#include "metrics/colorization_report.hpp"
#include "metrics/bootstrap.hpp"

// Images, data sets, the loader, packed files
#include "data/image.hpp"
#include "data/hints.hpp"
#include "data/transforms.hpp"
#include "data/dataset.hpp"
#include "data/file_split.hpp"
#include "data/image_folder.hpp"
#include "data/cifar10.hpp"
#include "data/subset.hpp"
#include "data/loader.hpp"
#include "data/packed_dataset.hpp"
#include "data/pack.hpp"

// Files, pictures, training
#include "io/checkpoint.hpp"
#include "io/safetensors.hpp"
#include "draw/plot.hpp"
#include "draw/grid.hpp"
#include "train/progress.hpp"
#include "train/csv_log.hpp"
#include "train/batch.hpp"
#include "train/regression_task.hpp"
#include "train/classification_task.hpp"
#include "train/rebalanced_regression_task.hpp"
#include "train/hints_task.hpp"
#include "train/trainer.hpp"
#include "train/gan_trainer.hpp"

// Colourising photos at full resolution (inference/model_file.hpp, which builds any seed model
// from a file by name, instantiates all of them: include it yourself where you need it)
#include "inference/colorizer.hpp"
#include "inference/hint_points.hpp"
#include "inference/decoding_text.hpp"
#include "inference/colorize_image.hpp"

// The seed systems
#include "models/models.hpp"

// Checking gradients of new layers
#include "testing/gradient_check.hpp"
