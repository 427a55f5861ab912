// Must not compile: an add-merge Skip whose inner path gives 8 channels and whose projection
// gives 6; their outputs cannot be added.
// Built with CHROMA_COMPILE_FAIL_CONTROL, both paths give 8 channels and it must compile.
#include <chroma/chroma.hpp>

#ifdef CHROMA_COMPILE_FAIL_CONTROL
using Block = chroma::Skip<chroma::Conv2d<4, 8, 3, 1, 1>, chroma::Conv2d<4, 8, 1>, chroma::AddThen<chroma::ReLU>>;
#else
using Block = chroma::Skip<chroma::Conv2d<4, 8, 3, 1, 1>, chroma::Conv2d<4, 6, 1>, chroma::AddThen<chroma::ReLU>>;
#endif

int main() { return Block::out_channels == 8 ? 0 : 1; }
