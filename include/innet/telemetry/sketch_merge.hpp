// DTA Sketch-Merge: switches add their Count-Min counters into one collector-side sketch with
// RDMA FETCH_ADD, so any number of switches merge concurrently and no update is lost.
//
// Region layout (from `base`, 8-byte aligned; all words u64 little-endian, the atomics' order):
//
//   base + 0                      total weight (sum of the merged sketches' total_weight())
//   base + 8 * (1 + r * W + c)    counter of row r, column c     (0 <= r < D, 0 <= c < W)
//
//   | total | row 0: c0 .. c(W-1) | row 1: c0 .. c(W-1) | ... | row D-1 |
//
// The counters are sketch::count_min's, row-major, at 64 bits, and the merged sketch is read
// back as a count_min<u64> (count_min::from_counters). Merge is addition of counters
// (count_min::merge), and addition commutes, so concurrent FETCH_ADDs from many writers give
// exactly the sum whatever the interleaving; a plain READ-add-WRITE would lose updates when two
// writers interleave. A switch sends whole sketches (merge) or single columns (merge_column:
// column c of every row, the unit a switch exports when it drains its registers piecewise).
//
// Invariants: every writer's sketch has the collector's depth, width and seed and standard
// update (errc::incompatible otherwise: conservative-update sketches do not merge by addition
// into an exact sum). Counters narrower than 64 bits are widened, so the collector's sums do not
// wrap where the switches' registers would. A read concurrent with merges sees each counter
// atomically but not a snapshot across counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/telemetry/detail/region_ops.hpp"

namespace innet::telemetry {

class sketch_merge {
 public:
  sketch_merge() = default;

  static absl::StatusOr<sketch_merge> create(std::uint32_t depth, std::uint32_t width,
                                             std::uint64_t seed, std::uint64_t base = 0) {
    // count_min decides what shapes exist; a sketch it refuses could never be merged here.
    if (const auto probe = sketch::count_min<std::uint64_t>::create(depth, width, seed);
        !probe.ok())
      return probe.status();
    if (base % 8 != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("sketch_merge::create: base ", base, " is not 8-byte aligned"));
    }
    return sketch_merge(depth, width, seed, base);
  }

  std::uint32_t depth() const noexcept { return depth_; }
  std::uint32_t width() const noexcept { return width_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t region_bytes() const noexcept { return 8 * (1 + std::uint64_t{depth_} * width_); }
  std::uint64_t total_offset() const noexcept { return base_; }
  std::uint64_t counter_offset(std::uint32_t row, std::uint32_t column) const noexcept {
    return base_ + 8 * (1 + std::uint64_t{row} * width_ + column);
  }

  // Adds every nonzero counter and the total weight with FETCH_ADD. Not idempotent: after a
  // failure (the first error is returned) some FETCH_ADDs have been applied, and a FETCH_ADD
  // reported failed may have been applied too, so calling merge() again double-counts those.
  // The caller cannot tell which landed; a failed merge leaves the region's counts unreliable
  // (over-counted, never under, if retried) until the region is cleared and rebuilt.
  template <class Counter, memory_region R>
  errc merge(R& region, const sketch::count_min<Counter>& s) const {
    if (!compatible(s)) return errc::incompatible;
    std::vector<memory_op> ops;
    ops.reserve(width_ + 1);
    if (s.total_weight() != 0) ops.push_back(fetch_add(total_offset(), s.total_weight()));
    errc first = errc::ok;
    for (std::uint32_t r = 0; r < depth_; ++r) {
      const std::span<const Counter> row = s.row(r);
      for (std::uint32_t c = 0; c < width_; ++c) {
        if (row[c] != 0) ops.push_back(fetch_add(counter_offset(r, c), row[c]));
      }
      const errc e = detail::execute_all(region, std::span<const memory_op>(ops));
      if (first == errc::ok) first = e;
      ops.clear();
    }
    return first;
  }

  // Adds column `column` of every row (`per_row[r]` is row r's counter) and `weight` to the
  // total: the merge of a sketch that is zero outside this column. Not idempotent, as merge().
  template <class Counter, memory_region R>
  errc merge_column(R& region, std::uint32_t column, std::span<const Counter> per_row,
                    std::uint64_t weight = 0) const {
    if (column >= width_ || per_row.size() != depth_) return errc::incompatible;
    std::vector<memory_op> ops;
    ops.reserve(depth_ + 1);
    if (weight != 0) ops.push_back(fetch_add(total_offset(), weight));
    for (std::uint32_t r = 0; r < depth_; ++r) {
      if (per_row[r] != 0) ops.push_back(fetch_add(counter_offset(r, column), per_row[r]));
    }
    return detail::execute_all(region, std::span<const memory_op>(ops));
  }

  // The merged sketch, as count_min<u64> with the collector's shape and seed.
  template <memory_region R>
  absl::StatusOr<sketch::count_min<std::uint64_t>> read(R& region) const {
    std::vector<std::byte> bytes(region_bytes());
    if (const errc e = region.read(base_, bytes); e != errc::ok) {
      return absl::UnavailableError(
          absl::StrCat("sketch_merge::read: region read failed: ", to_string(e)));
    }
    std::vector<std::uint64_t> counters(std::size_t{depth_} * width_);
    for (std::size_t i = 0; i < counters.size(); ++i)
      counters[i] = detail::load_le(bytes.data() + 8 * (1 + i), 8);
    return sketch::count_min<std::uint64_t>::from_counters(depth_, width_, seed_, counters,
                                                           detail::load_le(bytes.data(), 8));
  }

 private:
  sketch_merge(std::uint32_t depth, std::uint32_t width, std::uint64_t seed, std::uint64_t base)
      : depth_(depth), width_(width), seed_(seed), base_(base) {}

  template <class Counter>
  bool compatible(const sketch::count_min<Counter>& s) const noexcept {
    return s.depth() == depth_ && s.width() == width_ && s.seed() == seed_ &&
           s.rule() == sketch::update_rule::standard;
  }

  static memory_op fetch_add(std::uint64_t offset, std::uint64_t add) noexcept {
    return memory_op{.opcode = memory_opcode::fetch_add, .offset = offset, .operand = add};
  }

  std::uint32_t depth_ = 1;
  std::uint32_t width_ = 1;
  std::uint64_t seed_ = 0;
  std::uint64_t base_ = 0;
};

}  // namespace innet::telemetry
