// chroma: the command-line program. Subcommands: colorize, evaluate, export, pack.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "colorize_command.hpp"
#include "evaluate_command.hpp"
#include "export_command.hpp"
#include "pack_command.hpp"

namespace {

const char* overview =
    "usage: chroma COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  colorize   colourise photos (files or folders) with the bundled model or your own\n"
    "  evaluate   score a model against the gray baseline on a folder of colour photos\n"
    "  export     write a checkpoint's weights as a safetensors model file\n"
    "  pack       pack a folder of photos into one fast file for training\n"
    "\n"
    "`chroma COMMAND --help` describes a command.\n";

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> all(argv + 1, argv + argc);
    if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
        std::cout << overview;
        return all.empty() ? 2 : 0;
    }
    const std::string command = all[0];
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    try {
        if (command == "colorize" || command == "colourise" || command == "colorise")
            return chroma::cli::run_colorize(rest);
        if (command == "evaluate") return chroma::cli::run_evaluate(rest);
        if (command == "export") return chroma::cli::run_export(rest);
        if (command == "pack") return chroma::cli::run_pack(rest);
        std::cerr << "chroma: unknown command '" << command << "'\n\n" << overview;
        return 2;
    } catch (const chroma::cli::usage_failure& e) {
        std::cerr << "chroma " << command << ": " << e.what() << " (see chroma " << command << " --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "chroma " << command << ": " << e.what() << "\n";
        return 1;
    }
}
