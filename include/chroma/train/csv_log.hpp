#pragma once
// A CSV log of metrics, one row per call, flushed as it goes so a crash loses nothing. The
// columns are fixed by the first row; later rows must use the same names.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../io/atomic_file.hpp"

namespace chroma::train {

class CsvLog {
public:
    /// Opens `path` for appending when `append` (resuming a run), else truncates it.
    explicit CsvLog(const std::filesystem::path& path, bool append = false) : path_(path) {
        const bool had_rows = append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
        file_ = std::fopen(path.c_str(), append ? "a" : "w");
        if (!file_) throw io::file_error("cannot write the log " + path.string());
        header_written_ = had_rows;
    }
    CsvLog(const CsvLog&) = delete;
    CsvLog& operator=(const CsvLog&) = delete;
    ~CsvLog() {
        if (file_) std::fclose(file_);
    }

    void write(const std::vector<std::pair<std::string, double>>& row) {
        if (columns_.empty()) {
            for (const auto& [name, value] : row) columns_.push_back(name);
            if (!header_written_) {
                for (std::size_t i = 0; i < columns_.size(); ++i)
                    std::fprintf(file_, "%s%s", i ? "," : "", columns_[i].c_str());
                std::fprintf(file_, "\n");
            }
        }
        if (row.size() != columns_.size())
            throw usage_error("CsvLog " + path_.string() + ": a row has " + std::to_string(row.size()) +
                              " values but the log has " + std::to_string(columns_.size()) + " columns");
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (row[i].first != columns_[i])
                throw usage_error("CsvLog " + path_.string() + ": column '" + row[i].first + "' where '" +
                                  columns_[i] + "' was expected");
            std::fprintf(file_, "%s%.9g", i ? "," : "", row[i].second);
        }
        std::fprintf(file_, "\n");
        std::fflush(file_);
    }

private:
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
    bool header_written_ = false;
    std::vector<std::string> columns_;
};

}  // namespace chroma::train
