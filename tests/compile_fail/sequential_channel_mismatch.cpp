// Must not compile: the second convolution expects 32 input channels but the first gives 64.
// The compiler must say so in the library's words and name channel_mismatch<1, 32, 64>
// (layer 1 expects 32 channels, the layer before it gives 64).
// Built with CHROMA_COMPILE_FAIL_CONTROL, the channels agree and it must compile.
#include <chroma/chroma.hpp>

#ifdef CHROMA_COMPILE_FAIL_CONTROL
using Net = chroma::Sequential<chroma::Conv2d<1, 64, 3>, chroma::Conv2d<64, 2, 3>>;
#else
using Net = chroma::Sequential<chroma::Conv2d<1, 64, 3>, chroma::Conv2d<32, 2, 3>>;
#endif

int main() { return Net::out_channels == 2 ? 0 : 1; }
