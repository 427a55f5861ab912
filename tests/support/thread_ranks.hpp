#pragma once
// Ranks as threads of one process, for testing what ranks exchange without MPI: ThreadRanks(n)
// holds n communicators, one per thread, whose collectives meet at a barrier. Sums are taken
// in rank order, so every rank gets the same bits.
#include <algorithm>
#include <barrier>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <chroma/distributed/communicator.hpp>

namespace chroma::testing {

class ThreadRanks {
public:
    explicit ThreadRanks(int size) : barrier_(size), doubles_(static_cast<std::size_t>(size)),
                                     floats_(static_cast<std::size_t>(size)) {
        for (int r = 0; r < size; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
    }
    distributed::Communicator& rank(int r) { return *ranks_[static_cast<std::size_t>(r)]; }
    int size() const { return static_cast<int>(ranks_.size()); }

private:
    class Rank final : public distributed::Communicator {
    public:
        Rank(ThreadRanks& group, int rank) : group_(group), rank_(rank) {}
        int rank() const override { return rank_; }
        int size() const override { return group_.size(); }
        void all_reduce_sum(std::span<float> values) override { group_.reduce(group_.floats_, rank_, values, -1); }
        void all_reduce_sum(std::span<double> values) override { group_.reduce(group_.doubles_, rank_, values, -1); }
        void broadcast(std::span<float> values, int root) override { group_.reduce(group_.floats_, rank_, values, root); }
        void broadcast(std::span<double> values, int root) override { group_.reduce(group_.doubles_, rank_, values, root); }
        void barrier() override { group_.barrier_.arrive_and_wait(); }
        std::string describe() const override { return "thread rank " + std::to_string(rank_); }

    private:
        ThreadRanks& group_;
        int rank_;
    };

    // root < 0: the sum over the ranks in rank order; otherwise the root's values.
    template <class T>
    void reduce(std::vector<std::span<T>>& posted, int rank, std::span<T> values, int root) {
        posted[static_cast<std::size_t>(rank)] = values;
        barrier_.arrive_and_wait();  // every rank's buffer is posted
        std::vector<T> result(values.size(), T(0));
        if (root >= 0) {
            std::copy(posted[static_cast<std::size_t>(root)].begin(), posted[static_cast<std::size_t>(root)].end(),
                      result.begin());
        } else {
            for (const auto& other : posted)
                for (std::size_t i = 0; i < result.size(); ++i) result[i] += other[i];
        }
        barrier_.arrive_and_wait();  // every rank has read every buffer
        std::copy(result.begin(), result.end(), values.begin());
    }

    std::barrier<> barrier_;
    std::vector<std::span<double>> doubles_;
    std::vector<std::span<float>> floats_;
    std::vector<std::unique_ptr<Rank>> ranks_;
};

}  // namespace chroma::testing
