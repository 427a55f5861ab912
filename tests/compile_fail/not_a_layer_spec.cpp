// Must not compile: NotALayer declares channel counts but has no runtime `layer` template, so
// it does not meet chroma::LayerSpec and cannot be used in a Sequential.
// Built with CHROMA_COMPILE_FAIL_CONTROL, a real layer takes its place and it must compile.
#include <chroma/chroma.hpp>

struct NotALayer {
    static constexpr int in_channels = 3;
    static constexpr int out_channels = 3;
};

#ifdef CHROMA_COMPILE_FAIL_CONTROL
using Net = chroma::Sequential<chroma::Conv2d<1, 3, 3>, chroma::ReLU>;
#else
using Net = chroma::Sequential<chroma::Conv2d<1, 3, 3>, NotALayer>;
#endif

int main() { return Net::out_channels == 3 ? 0 : 1; }
