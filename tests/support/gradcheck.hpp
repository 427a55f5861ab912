#pragma once
// The tests use the library's public gradient checker.
#include <chroma/chroma.hpp>
#include <chroma/testing/gradient_check.hpp>
