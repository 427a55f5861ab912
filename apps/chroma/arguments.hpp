#pragma once
// A small command-line parser for the chroma program: options of the form --name VALUE or
// --name=VALUE, switches (--force), short aliases (-o), and positional arguments. Unknown options
// and missing values are errors that name the option and point to --help.
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace chroma::cli {

class usage_failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Arguments {
public:
    /// `options` take a value, `switches` do not; `aliases` maps "-o" to "--output".
    Arguments(const std::vector<std::string>& args, std::set<std::string> options, std::set<std::string> switches,
              std::map<std::string, std::string> aliases = {}) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            std::string arg = args[i];
            if (aliases.count(arg)) arg = aliases.at(arg);
            if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
                positional_.push_back(arg);
                continue;
            }
            std::string name = arg, value;
            bool has_value = false;
            if (const auto eq = arg.find('='); eq != std::string::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
                has_value = true;
            }
            if (switches.count(name)) {
                if (has_value) throw usage_failure(name + " takes no value");
                switches_.insert(name);
            } else if (options.count(name)) {
                if (!has_value) {
                    if (i + 1 >= args.size()) throw usage_failure(name + " needs a value");
                    value = args[++i];
                }
                values_[name] = value;
            } else {
                throw usage_failure("unknown option " + name);
            }
        }
    }

    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& name) const { return values_.count(name) || switches_.count(name); }
    std::string text(const std::string& name, const std::string& fallback) const {
        const auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    long long integer(const std::string& name, long long fallback, long long low, long long high) const {
        const auto it = values_.find(name);
        if (it == values_.end()) return fallback;
        char* end = nullptr;
        const long long value = std::strtoll(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0' || value < low || value > high)
            throw usage_failure(name + " must be a whole number from " + std::to_string(low) + " to " +
                                std::to_string(high) + ", got '" + it->second + "'");
        return value;
    }

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::string> values_;
    std::set<std::string> switches_;
};

}  // namespace chroma::cli
