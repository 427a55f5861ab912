#pragma once
// Every seed system as a network type (namespace chroma::models): see each header's comment for
// the seed, its section and the readings taken.
#include "colornet.hpp"            // seed 000: ColorNetAutoencoder, ColorNetUNet
#include "eccv16.hpp"              // seed 001: Eccv16Classifier, Eccv16Colorizer, Eccv16CaffeColorizer
#include "light_classifier.hpp"    // seed 003: LightClassifier
#include "resnet_autoencoder.hpp"  // seed 002: ResNet18Encoder, ResNetAutoencoder
#include "gan.hpp"                 // seed 004: PatchDiscriminator, EnergyDiscriminator, ZhangRegressionGenerator
#include "photo_unet.hpp"          // the bundled model: PhotoUNet
#include "siggraph17.hpp"          // Zhang et al. 2017, user-guided: Siggraph17Generator, Siggraph17Small
