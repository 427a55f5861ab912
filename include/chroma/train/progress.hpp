#pragma once
// Progress reporting for long work (training epochs, folders of photos): a one-line bar redrawn
// in place when the stream is a terminal, plain periodic lines otherwise (logs, CI), with
// items/s and the estimated time left.
#include <chrono>
#include <cstdio>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace chroma::train {

/// "1:02:03", "4:05" or "7s".
inline std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return "?";
    const long total = static_cast<long>(seconds + 0.5);
    char text[32];
    if (total >= 3600)
        std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
    else if (total >= 60)
        std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    else
        std::snprintf(text, sizeof text, "%lds", total);
    return text;
}

inline bool is_terminal(std::FILE* stream) {
#if defined(__unix__) || defined(__APPLE__)
    return ::isatty(::fileno(stream)) != 0;
#else
    (void)stream;
    return false;
#endif
}

class Progress {
public:
    /// `total` items (0 if unknown); `unit` names them ("images"); plain lines every
    /// `line_interval` seconds when not on a terminal.
    Progress(std::string label, long long total, std::string unit = "images", std::FILE* stream = stderr,
             double line_interval = 10.0)
        : label_(std::move(label)), unit_(std::move(unit)), total_(total), stream_(stream),
          terminal_(stream != nullptr && is_terminal(stream)), interval_(line_interval), start_(clock::now()), last_(start_) {}

    /// Adds `items` done; `status` is extra text such as "loss 0.0123".
    void advance(long long items, const std::string& status = "") {
        done_ += items;
        status_ = status;
        const auto now = clock::now();
        const double since_last = std::chrono::duration<double>(now - last_).count();
        if ((terminal_ && since_last >= 0.1) || (!terminal_ && since_last >= interval_) ||
            (total_ > 0 && done_ >= total_)) {
            last_ = now;
            draw(false);
        }
    }
    /// Draws the final state and ends the line.
    void finish(const std::string& status = "") {
        if (!status.empty()) status_ = status;
        // Plain lines: the line for the last item was already written unless the status changed.
        if (!terminal_ && drawn_done_ == done_ && drawn_status_ == status_) return;
        draw(true);
    }

    double elapsed() const { return std::chrono::duration<double>(clock::now() - start_).count(); }
    double rate() const { return elapsed() > 0 ? static_cast<double>(done_) / elapsed() : 0.0; }
    long long done() const { return done_; }

    /// The text of the current line (without terminal control characters).
    std::string line() const {
        std::string text = label_ + " ";
        if (total_ > 0) {
            const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
            if (terminal_) {
                constexpr int width = 24;
                const int filled = static_cast<int>(fraction * width);
                text += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
            }
            char counts[96];
            std::snprintf(counts, sizeof counts, "%lld/%lld %s (%3.0f%%)", done_, total_, unit_.c_str(), 100 * fraction);
            text += counts;
        } else {
            text += std::to_string(done_) + " " + unit_;
        }
        char speed[64];
        std::snprintf(speed, sizeof speed, "  %.1f %s/s", rate(), unit_.c_str());
        text += speed;
        if (total_ > 0 && rate() > 0 && done_ < total_)
            text += "  ETA " + format_duration(static_cast<double>(total_ - done_) / rate());
        else
            text += "  " + format_duration(elapsed());
        if (!status_.empty()) text += "  " + status_;
        return text;
    }

private:
    using clock = std::chrono::steady_clock;

    void draw(bool final_line) {
        if (!stream_) return;
        drawn_done_ = done_;
        drawn_status_ = status_;
        if (terminal_)
            std::fprintf(stream_, "\r\033[K%s%s", line().c_str(), final_line ? "\n" : "");
        else
            std::fprintf(stream_, "%s\n", line().c_str());
        std::fflush(stream_);
    }

    std::string label_, unit_, status_, drawn_status_;
    long long total_, done_ = 0, drawn_done_ = -1;
    std::FILE* stream_;
    bool terminal_;
    double interval_;
    clock::time_point start_, last_;
};

}  // namespace chroma::train
