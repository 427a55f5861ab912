// A second translation unit including the image header (see test_image.cpp).
#include <chroma/data/image.hpp>

chroma::Image load_image_in_second_unit(const std::filesystem::path& path) { return chroma::load_image(path); }
