// The light 64x64 classifier (seed 003): parameter count of the documented reading, shapes back at
// the input size, errors, parity with its PyTorch twin, and top-k decoding of its output.
#include <catch2/catch.hpp>

#include <chroma/chroma.hpp>
#include <chroma/models/light_classifier.hpp>

#include "models/formula_weights.hpp"

using namespace chroma;
using chroma::models::LightClassifier;
using chroma::testing::Fixture;

static_assert(LightClassifier::in_channels == 1 && LightClassifier::out_channels == 313);

TEST_CASE("light classifier: the reading's parameter count and logits at the input size") {
    Model<LightClassifier> model(1);
    // The reading in light_classifier.hpp (seed 003 prints no count):
    //   model1  320 + 9,248 + 64                         =   9,632
    //   model2  18,496 + 36,928 + 128                    =  55,552
    //   model3  73,856 + 2 x 147,584 + 256               = 369,280
    //   model4  295,168 + 2 x 590,080 + 512              = 1,475,840
    //   model5, model6  3 x 590,080 + 512 each           = 2 x 1,770,752
    //   model7  524,416 + 2 x 147,584 + 256              = 819,840
    //   model8  131,136 + 36,928 + 128                   = 168,192
    //   model9  65,600 + 36,928 + 128                    = 102,656
    //   model_out  64 x 313 + 313                        =  20,345
    CHECK(model.parameter_count() == 6'562'841);

    model.eval();
    const Tensor<float> l(Shape{.n = 2, .c = 1, .h = 64, .w = 64});
    CHECK(model.forward(l).shape() == Shape{.n = 2, .c = 313, .h = 64, .w = 64});
    CHECK(model.output_shape(Shape{.n = 1, .c = 1, .h = 48, .w = 80}) == Shape{.n = 1, .c = 313, .h = 48, .w = 80});

    const Tensor<float> rgb(Shape{.n = 1, .c = 3, .h = 64, .w = 64});
    CHECK_THROWS_WITH(model.forward(rgb), Catch::StartsWith("in layer 'model1.0': Conv2d(1->32"));
}

TEST_CASE("light classifier matches its PyTorch twin; its logits decode by top-2 mean") {
    const Fixture f("model_light");
    chroma::testing::check_formula_parity<LightClassifier>(f["input"].tensor(), f["output"].tensor(), false);

    Model<Softmax, cpu, double> softmax;
    const Tensor<double> ab = color::decode(softmax.forward(f["output"].tensor()), color::AbBins::zhang(),
                                            color::Decoding::top_k_mean(2));
    CHECK(ab.shape() == Shape{.n = 1, .c = 2, .h = 16, .w = 16});
}
