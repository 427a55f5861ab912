# Compiles one source, syntax only, with the command in COMPILER (written by CMakeLists.txt).
#   cmake -DCOMPILER=<compiler.cmake> -DSOURCE=<file.cpp> -DMODE=fail|control -P compile.cmake
# fail: prints the compiler's output for the test's PASS_REGULAR_EXPRESSION to check; it passes
#       only if the compiler rejected the source with the expected message.
# control: the source, with CHROMA_COMPILE_FAIL_CONTROL defined, must compile.
include(${COMPILER})
set(ENV{LC_ALL} C)  # plain quotes and untranslated messages
set(command ${CHROMA_CXX} ${CHROMA_CXX_FLAGS})
foreach(dir IN LISTS CHROMA_INCLUDES)
    if(dir)
        list(APPEND command -I${dir})
    endif()
endforeach()
list(APPEND command -fsyntax-only)
if(MODE STREQUAL "control")
    list(APPEND command -DCHROMA_COMPILE_FAIL_CONTROL)
endif()
list(APPEND command ${SOURCE})
list(JOIN command " " shown)
message("${shown}")
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(MODE STREQUAL "control")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "The control variant of ${SOURCE} must compile, and did not.")
    endif()
elseif(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected.")
endif()
