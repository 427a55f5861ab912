#pragma once
// A CSV log of metrics, one row per call, flushed as it goes so a crash loses nothing. The
// columns are fixed by the first row; later rows must use the same names.
//
// The log keeps its own text, which the trainers store in every checkpoint. Resuming rewrites
// log.csv from the checkpoint's copy, so the file holds exactly the epochs the checkpoint has: a
// run killed after writing an epoch's row but before its checkpoint landed repeats that epoch
// without a duplicate row, and one killed the other way round loses no row.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../io/atomic_file.hpp"

namespace chroma::train {

class CsvLog {
public:
    /// A new log at `path` (truncated); or, with `append`, one that continues the file there.
    explicit CsvLog(const std::filesystem::path& path, bool append = false) : path_(path) {
        if (append && std::filesystem::exists(path)) {
            std::ifstream in(path, std::ios::binary);
            text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        open(append ? "a" : "w");
    }
    /// A resumed log: `path` rewritten (atomically) to `text`, an earlier log's text(), and continued.
    CsvLog(const std::filesystem::path& path, std::string text) : path_(path), text_(std::move(text)) {
        io::write_file_atomically(path, text_);
        open("a");
    }
    CsvLog(const CsvLog&) = delete;
    CsvLog& operator=(const CsvLog&) = delete;
    ~CsvLog() {
        if (file_) std::fclose(file_);
    }

    void write(const std::vector<std::pair<std::string, double>>& row) {
        if (columns_.empty()) {
            for (const auto& [name, value] : row) columns_.push_back(name);
            if (text_.empty()) {
                std::string header;
                for (std::size_t i = 0; i < columns_.size(); ++i) header += (i ? "," : "") + columns_[i];
                put(header + "\n");
            }
        }
        if (row.size() != columns_.size())
            throw usage_error("CsvLog " + path_.string() + ": a row has " + std::to_string(row.size()) +
                              " values but the log has " + std::to_string(columns_.size()) + " columns");
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (row[i].first != columns_[i])
                throw usage_error("CsvLog " + path_.string() + ": column '" + row[i].first + "' where '" +
                                  columns_[i] + "' was expected");
            char value[40];
            std::snprintf(value, sizeof value, "%s%.9g", i ? "," : "", row[i].second);
            line += value;
        }
        put(line + "\n");
    }

    /// Everything the log holds: the header and every row, as in the file.
    const std::string& text() const { return text_; }

    /// The rows of a log's text, each by column name ("nan" reads back as NaN).
    static std::vector<std::map<std::string, double>> rows(const std::string& text) {
        std::istringstream in(text);
        std::string line;
        std::vector<std::string> names;
        if (std::getline(in, line)) names = split(line);
        std::vector<std::map<std::string, double>> out;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            const auto fields = split(line);
            if (fields.size() != names.size())
                throw io::file_error("a log row has " + std::to_string(fields.size()) + " values under " +
                                     std::to_string(names.size()) + " columns: '" + line + "'");
            auto& row = out.emplace_back();
            for (std::size_t i = 0; i < names.size(); ++i) row[names[i]] = std::strtod(fields[i].c_str(), nullptr);
        }
        return out;
    }

private:
    void open(const char* mode) {
        file_ = std::fopen(path_.c_str(), mode);
        if (!file_) throw io::file_error("cannot write the log " + path_.string());
    }
    void put(const std::string& piece) {
        text_ += piece;
        std::fputs(piece.c_str(), file_);
        std::fflush(file_);
    }
    static std::vector<std::string> split(const std::string& line) {
        std::vector<std::string> fields;
        std::string field;
        std::istringstream in(line);
        while (std::getline(in, field, ',')) fields.push_back(field);
        return fields;
    }

    std::filesystem::path path_;
    std::string text_;
    std::FILE* file_ = nullptr;
    std::vector<std::string> columns_;
};

namespace detail {

/// A trainer's log.csv: continued from the checkpoint's copy (`restored`) when resuming from a
/// checkpoint that has one, appended to when resuming from an older one, else started afresh.
inline std::unique_ptr<CsvLog> open_run_log(const std::filesystem::path& path, bool resuming,
                                            const std::optional<std::string>& restored) {
    if (resuming && restored) return std::make_unique<CsvLog>(path, *restored);
    return std::make_unique<CsvLog>(path, resuming);
}

}  // namespace detail

}  // namespace chroma::train
