// The CUDA tests' main. Without a usable CUDA device it runs only the tests tagged [no_device]
// (error paths that need no GPU), then prints a notice and returns 77, which ctest
// (SKIP_RETURN_CODE 77) and meson report as a skipped test rather than a pass or a failure.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <iostream>

int main(int argc, char* argv[]) {
    Catch::Session session;
    if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        session.configData().testsOrTags = {"[no_device]"};
        if (const int failed = session.run(); failed != 0) return failed;
        std::cout << "no CUDA device: skipping the CUDA tests\n";
        return 77;
    }
    return session.run();
}
