#pragma once
// What every harness shares: an input that a parser refuses with one of Chroma's errors is an
// expected outcome; anything else (a crash, a sanitizer report, another exception, a hang) is a
// finding. libFuzzer calls chroma_fuzz_one with each input.
#include <chroma/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

void chroma_fuzz_one(std::span<const std::uint8_t> input);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        chroma_fuzz_one({data, size});
    } catch (const chroma::error&) {
        // a clear refusal: what a malformed file should get
    }
    return 0;
}
