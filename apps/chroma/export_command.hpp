#pragma once
// `chroma export MODEL -o FILE.safetensors`: the weights of a training checkpoint alone (a
// quarter of its size without Adam's moments), with what `colorize` needs to rebuild the model.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "model_choice.hpp"

namespace chroma::cli {

inline std::string export_help() {
    return std::string(
               "usage: chroma export MODEL -o FILE.safetensors [options]\n"
               "\n"
               "Writes the weights of MODEL (a training checkpoint or a safetensors file) to a safetensors\n"
               "file whose metadata records the architecture, the decoding and the size the model sees,\n"
               "so that `chroma colorize --model FILE` needs nothing else.\n"
               "\n"
               "options:\n"
               "  -o, --output FILE     the safetensors file to write (required)\n"
               "  --decode D            classifiers: the decoding to record (annealed:T | topk:K | mean | mode,\n"
               "                        optionally followed by ,rebalance:LAMBDA)\n"
               "  --size N              the shorter side the model should see (default: its training size)\n"
               "  --chroma-gain X       the gain on predicted ab to record (chroma evaluate prints the\n"
               "                        least-squares one; default: the model's)\n"
               "  --mirror-average yes|no  record whether colorize averages the photo's prediction with\n"
               "                        its mirror image's (default: the model's)\n"
               "  --description TEXT    a line on how it was trained, kept in the metadata\n"
               "  --force               replace FILE if it exists\n");
}

inline int run_export(const std::vector<std::string>& args) {
    const Arguments a(args, {"--output", "--decode", "--size", "--chroma-gain", "--mirror-average", "--description"}, {"--force", "--help"},
                      {{"-o", "--output"}, {"-h", "--help"}});
    if (a.has("--help")) {
        std::cout << export_help();
        return 0;
    }
    if (a.positional().size() != 1) throw usage_failure("export needs exactly one MODEL file");
    if (!a.has("--output")) throw usage_failure("export needs -o FILE.safetensors");
    const std::filesystem::path output = a.text("--output", "");
    if (output.extension() != ".safetensors") throw usage_failure("the output must end in .safetensors");
    if (std::filesystem::exists(output) && !a.has("--force"))
        throw usage_failure(output.string() + " exists; add --force to replace it");
    std::vector<std::string> model_args{"--model", a.positional()[0]};
    for (const char* option : {"--decode", "--size", "--chroma-gain", "--mirror-average"})
        if (a.has(option)) model_args.insert(model_args.end(), {option, a.text(option, "")});
    const Arguments model_options(model_args, {"--model", "--decode", "--size", "--chroma-gain", "--mirror-average"}, {});
    auto model = chosen_model(model_options);
    inference::save_model_file(output, *model, a.text("--description", ""));
    std::cout << "wrote " << output.string() << ": " << model_summary(*model) << ", "
              << std::filesystem::file_size(output) / (1024.0 * 1024.0) << " MiB\n";
    return 0;
}

}  // namespace chroma::cli
