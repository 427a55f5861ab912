#pragma once
// evaluate's scores kept photo by photo: for the bootstrap intervals of its figures against gray,
// and for --per-photo's CSV (which photos a model does worst on).
#include <filesystem>
#include <string>
#include <vector>

#include <chroma/metrics/bootstrap.hpp>
#include <chroma/metrics/colorization_report.hpp>

#include "scores_text.hpp"

namespace chroma::cli::detail {

class PerPhotoScores {
public:
    void add(const std::filesystem::path& file, const metrics::ColorizationScores& model,
             const metrics::ColorizationScores& gray) {
        files_.push_back(file.string());
        psnr_.push_back(model.psnr_rgb.value_or(0));
        gray_psnr_.push_back(gray.psnr_rgb.value_or(0));
        ciede_.push_back(model.delta_e2000);
        gray_ciede_.push_back(gray.delta_e2000);
        colourfulness_.push_back(model.colourfulness.value_or(0));
        true_colourfulness_.push_back(model.true_colourfulness.value_or(0));
    }

    std::size_t size() const { return files_.size(); }

    /// One line: the 95% intervals of the model's PSNR and CIEDE2000 against gray and of its
    /// colourfulness against the truth's. Empty below two photos, where there is nothing to resample.
    std::string intervals_text() const {
        if (size() < 2) return {};
        const auto psnr = metrics::bootstrap_difference_interval(psnr_, gray_psnr_);
        const auto ciede = metrics::bootstrap_difference_interval(ciede_, gray_ciede_);
        const auto colour = metrics::bootstrap_ratio_interval(colourfulness_, true_colourfulness_);
        return format("95%% intervals (bootstrap over the %zu photos): PSNR %+.2f to %+.2f dB, CIEDE2000 %+.2f to "
                      "%+.2f; colourfulness %.3f to %.3f of the truth's\n",
                      size(), psnr.low, psnr.high, ciede.low, ciede.high, colour.low, colour.high);
    }

    /// A header and a row per photo.
    std::string csv() const {
        std::string text = "file,psnr_db,gray_psnr_db,ciede2000,gray_ciede2000,colourfulness,true_colourfulness\n";
        for (std::size_t i = 0; i < size(); ++i)
            text += quoted(files_[i]) + format(",%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", psnr_[i], gray_psnr_[i], ciede_[i],
                                               gray_ciede_[i], colourfulness_[i], true_colourfulness_[i]);
        return text;
    }

private:
    // RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
    static std::string quoted(const std::string& field) {
        if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
        std::string out = "\"";
        for (char c : field) {
            if (c == '"') out += '"';
            out += c;
        }
        return out + "\"";
    }

    std::vector<std::string> files_;
    std::vector<double> psnr_, gray_psnr_, ciede_, gray_ciede_, colourfulness_, true_colourfulness_;
};

}  // namespace chroma::cli::detail
