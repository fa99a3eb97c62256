// Count Sketch (Charikar, Chen and Farach-Colton, "Finding frequent items in data streams",
// ICALP 2002 / TCS 2004).
//
// Row r adds sign_r(x) * weight to counter index_r(x); row r's estimate of f(x) is
// sign_r(x) * counter, and estimate(x) is the median of the depth row estimates (the lower
// midpoint floor((a + b) / 2) of the two middle ones for even depth).
//
// Guarantees (weights may be negative: a turnstile stream):
//   * Each row estimate is unbiased: E[row estimate] = f(x), with variance at most F2 / width,
//     where F2 = sum over keys of f^2 (pairwise independent signs and columns).
//   * error_bound() = 3 * sqrt(l2_squared() / width). By Chebyshev, a row misses by more than
//     3 * sqrt(F2 / w) with probability <= 1/9; the median misses only if at least ceil(depth/2)
//     rows do, so |estimate(x) - f(x)| <= error_bound() with probability >= 1 - delta(), where
//     delta() = P[Binomial(depth, 1/9) >= ceil(depth / 2)] (depth 5: 0.0115; depth 7: 0.0015).
//     l2_squared() is itself an estimate of F2 from the sketch (median over rows of the sum of
//     squared counters), so the bound is the usual plug-in one.
//   * epsilon() = 3 / sqrt(width): the bound relative to ||f||_2. from_error(epsilon, delta)
//     picks width = ceil(9 / epsilon^2) and the smallest depth whose delta() is <= delta.
//
// Counters are signed and wrap (arithmetic through the unsigned twin), like switch registers.
// Layout: depth rows of width counters, row-major (detail/rows.hpp), shared with
// fixed_count_sketch. merge adds counters and equals the sketch of the concatenated streams;
// fold(k) adds blocks of 2^k adjacent columns and equals the sketch built at width / 2^k
// (index(w / 2) == index(w) >> 1, and the sign does not depend on the width).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/hash.hpp"
#include "innet/sketch/detail/common.hpp"
#include "innet/sketch/detail/hash_burst.hpp"
#include "innet/sketch/detail/rows.hpp"
#include "innet/sketch/sketch_format.hpp"

namespace innet::sketch {

namespace detail {
// Chebyshev multiplier of error_bound(): a row misses by more than c * sqrt(F2 / w) w.p. <= 1/c^2.
inline constexpr double count_sketch_c = 3.0;

// P[Binomial(depth, p) >= ceil(depth / 2)]: the chance that enough rows miss to move the median.
inline double median_failure_probability(u32 depth, double p) {
  const u32 need = (depth + 1) / 2;
  double total = 0;
  for (u32 k = need; k <= depth; ++k) {
    const double log_choose =
        std::lgamma(depth + 1.0) - std::lgamma(k + 1.0) - std::lgamma(depth - k + 1.0);
    total += std::exp(log_choose + k * std::log(p) + (depth - k) * std::log1p(-p));
  }
  return std::min(total, 1.0);
}
}  // namespace detail

template <class Counter = std::int32_t>
class count_sketch {
  static_assert(std::is_signed_v<Counter> && std::is_integral_v<Counter> &&
                    (sizeof(Counter) == 1 || sizeof(Counter) == 2 || sizeof(Counter) == 4 ||
                     sizeof(Counter) == 8),
                "count_sketch counters are signed integers of 8 to 64 bits");

 public:
  using counter_type = Counter;

  static absl::StatusOr<count_sketch> create(u32 depth, u32 width, u64 seed) {
    if (absl::Status s =
            detail::check_dimensions("count_sketch::create", depth, width, sizeof(Counter));
        !s.ok())
      return s;
    return count_sketch(depth, width, seed);
  }

  // width = ceil(9 / epsilon^2) (so error_bound() is epsilon * ||f||_2) and the smallest depth
  // with delta() <= delta.
  static absl::StatusOr<count_sketch> from_error(double epsilon, double delta, u64 seed) {
    if (!(epsilon > 0 && epsilon <= 1) || !(delta > 0 && delta < 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count_sketch::from_error: need 0 < epsilon <= 1 and 0 < delta < 1 (got epsilon ",
          epsilon, ", delta ", delta, ")"));
    }
    const double c = detail::count_sketch_c;
    const double width = std::ceil(c * c / (epsilon * epsilon));
    u32 depth = 1;
    while (depth <= format::max_depth &&
           detail::median_failure_probability(depth, 1 / (c * c)) > delta)
      ++depth;
    if (width > 4294967295.0 || depth > format::max_depth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count_sketch::from_error: epsilon ", epsilon, ", delta ", delta,
          " need a sketch beyond the limits (width < 2^32, depth <= ", format::max_depth, ")"));
    }
    return create(depth, static_cast<u32>(width), seed);
  }

  // Adopts counters exported by a fixed_count_sketch, an XDP map or a switch (row-major).
  static absl::StatusOr<count_sketch> from_counters(u32 depth, u32 width, u64 seed,
                                                    std::span<const Counter> counters,
                                                    u64 total_weight) {
    if (absl::Status s =
            detail::check_dimensions("count_sketch::from_counters", depth, width, sizeof(Counter));
        !s.ok())
      return s;
    if (counters.size() != u64{depth} * width) {
      return absl::InvalidArgumentError(
          absl::StrCat("count_sketch::from_counters: ", counters.size(), " counters for depth ",
                       depth, " x width ", width, " (need ", u64{depth} * width, ")"));
    }
    count_sketch sketch(depth, width, seed);
    std::copy(counters.begin(), counters.end(), sketch.counters_.begin());
    sketch.total_weight_ = total_weight;
    return sketch;
  }

  // ---- Updates (weights may be negative) ----

  void update(std::span<const std::byte> key, Counter weight = 1) {
    update(detail::hash_key(key, seed_), weight);
  }
  void update(const hash_family& h, Counter weight = 1) {
    total_weight_ += magnitude(weight);
    Counter* c = counters_.data();
    detail::with_shape(
        shape_, [&](auto depth, auto w) { detail::count_sketch_add(c, u32{depth}, w, h, weight); });
  }

  // update(h, weight) followed by estimate(h), in one pass over the key's counters: the same
  // counters and the same value as the two calls (for callers that track heavy keys, univmon).
  Counter update_and_estimate(const hash_family& h, Counter weight = 1) {
    total_weight_ += magnitude(weight);
    Counter* c = counters_.data();
    return detail::with_shape(shape_, [&](auto depth, auto w) {
      std::array<Counter, format::max_depth> rows;
      detail::count_sketch_add_estimate(c, u32{depth}, w, h, weight, rows.data());
      return detail::median_branchless(rows.data(), depth);
    });
  }

  // Prefetches the key's counters, for callers that batch updates across several sketches.
  void prefetch(const hash_family& h) const {
    detail::with_shape(shape_, [&](auto depth, auto w) {
      detail::prefetch_rows(counters_.data(), u32{depth}, w, h);
    });
  }

  // Weight 1 per key; same counters as scalar updates (see count_min::update_burst).
  void update_burst(std::span<const std::span<const std::byte>> keys) {
    detail::for_each_burst(keys, seed_, [this](const hash_family* h, usize n) { add_burst(h, n); });
  }
  void update_burst(std::span<const hash_family> hashes) {
    detail::for_each_burst(hashes, [this](const hash_family* h, usize n) { add_burst(h, n); });
  }

  // ---- Queries ----

  Counter estimate(std::span<const std::byte> key) const {
    return estimate(detail::hash_key(key, seed_));
  }
  Counter estimate(const hash_family& h) const {
    return detail::with_shape(shape_, [&](auto depth, auto w) {
      std::array<Counter, format::max_depth> rows{};
      for (u32 r = 0; r < u32{depth}; ++r)
        rows[r] = detail::count_sketch_row_estimate(counters_.data(), w, h, r);
      return detail::median_branchless(rows.data(), depth);
    });
  }

  Counter row_estimate(std::span<const std::byte> key, u32 r) const {
    return row_estimate(detail::hash_key(key, seed_), r);
  }
  // Row r's signed estimate; 0 for r >= depth().
  Counter row_estimate(const hash_family& h, u32 r) const {
    if (r >= shape_.depth) return Counter{0};
    return detail::with_shape(shape_, [&](auto, auto w) {
      return detail::count_sketch_row_estimate(counters_.data(), w, h, r);
    });
  }

  // Estimate of F2 = sum of f(x)^2: the median over rows of the sum of squared counters.
  double l2_squared() const {
    std::array<double, format::max_depth> sums;
    for (u32 r = 0; r < shape_.depth; ++r) {
      double sum = 0;
      for (const Counter c : row(r))
        sum += static_cast<double>(c) * static_cast<double>(c);
      sums[r] = sum;
    }
    std::sort(sums.begin(), sums.begin() + shape_.depth);
    return shape_.depth % 2 == 1 ? sums[shape_.depth / 2]
                                 : (sums[shape_.depth / 2 - 1] + sums[shape_.depth / 2]) / 2;
  }

  // 3 * sqrt(l2_squared() / width); holds for a given key with probability >= 1 - delta().
  double error_bound() const {
    return detail::count_sketch_c * std::sqrt(l2_squared() / shape_.width);
  }
  double lower_bound(std::span<const std::byte> key) const {
    return lower_bound(detail::hash_key(key, seed_));
  }
  double lower_bound(const hash_family& h) const {
    return static_cast<double>(estimate(h)) - error_bound();
  }
  double upper_bound(std::span<const std::byte> key) const {
    return upper_bound(detail::hash_key(key, seed_));
  }
  double upper_bound(const hash_family& h) const {
    return static_cast<double>(estimate(h)) + error_bound();
  }

  double epsilon() const {
    return detail::count_sketch_c / std::sqrt(static_cast<double>(shape_.width));
  }
  double delta() const {
    const double c = detail::count_sketch_c;
    return detail::median_failure_probability(shape_.depth, 1 / (c * c));
  }

  // Sum of |weight| over all updates (modulo 2^64): the stream's L1 for insert-only streams.
  u64 total_weight() const { return total_weight_; }
  u32 depth() const { return shape_.depth; }
  u32 width() const { return shape_.width; }
  u64 seed() const { return seed_; }
  std::span<const Counter> counters() const { return counters_; }
  // Row r's counters; empty for r >= depth().
  std::span<const Counter> row(u32 r) const {
    if (r >= shape_.depth) return {};
    return std::span<const Counter>(counters_).subspan(usize{r} * shape_.width, shape_.width);
  }
  usize memory_bytes() const { return counters_.size() * sizeof(Counter); }

  // ---- Combining ----

  absl::Status merge(const count_sketch& other) {
    if (shape_.depth != other.shape_.depth || shape_.width != other.shape_.width) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count_sketch::merge: dimensions differ (", shape_.depth, "x", shape_.width, " vs ",
          other.shape_.depth, "x", other.shape_.width, "); fold the wider sketch first"));
    }
    if (seed_ != other.seed_) {
      return absl::InvalidArgumentError(absl::StrCat("count_sketch::merge: seeds differ (", seed_,
                                                     " vs ", other.seed_,
                                                     "); rows would not line up"));
    }
    for (usize i = 0; i < counters_.size(); ++i)
      counters_[i] = detail::wrapping_add(counters_[i], other.counters_[i]);
    total_weight_ += other.total_weight_;
    return absl::OkStatus();
  }

  // The sketch at width / 2^halvings (sum of blocks of 2^halvings adjacent columns).
  absl::StatusOr<count_sketch> fold(u32 halvings) const {
    if (absl::Status s = detail::check_foldable("count_sketch::fold", shape_.width, halvings);
        !s.ok())
      return s;
    count_sketch folded(shape_.depth, shape_.width >> halvings, seed_);
    folded.total_weight_ = total_weight_;
    detail::fold_counters<Counter>(counters_, folded.counters_, u32{1} << halvings);
    return folded;
  }

  // ---- Serialization (sketch_format.hpp) ----

  std::vector<std::byte> serialize() const {
    preamble p;
    p.family = sketch_family::count_sketch;
    p.counter_code = counter_code<Counter>();
    p.depth = shape_.depth;
    p.width = shape_.width;
    p.seed = seed_;
    p.total_weight = total_weight_;
    std::vector<std::byte> out = begin_serialized(p, memory_bytes());
    store_counters<Counter>(std::span(out).subspan(format::preamble_size, memory_bytes()),
                            counters_);
    seal(out);
    return out;
  }

  static absl::StatusOr<count_sketch> deserialize(std::span<const std::byte> in) {
    absl::StatusOr<preamble> p = parse_counter_sketch<Counter>(in, sketch_family::count_sketch);
    if (!p.ok()) return p.status();
    if (p->flags != 0) {
      return absl::InvalidArgumentError("count_sketch::deserialize: flags must be zero");
    }
    count_sketch sketch(p->depth, p->width, p->seed);
    load_counters<Counter>(payload_of(in), sketch.counters_);
    sketch.total_weight_ = p->total_weight;
    return sketch;
  }

  friend bool operator==(const count_sketch&, const count_sketch&) = default;

 private:
  count_sketch(u32 depth, u32 width, u64 seed)
      : shape_(detail::shape::of(depth, width)),
        seed_(seed),
        counters_(usize{depth} * width, Counter{0}) {}

  void add_burst(const hash_family* hashes, usize n) {
    Counter* c = counters_.data();
    total_weight_ += n;
    detail::run_burst(c, memory_bytes(), shape_, hashes, n,
                      [&](const hash_family& h, auto depth, auto w) {
                        detail::count_sketch_add(c, u32{depth}, w, h, Counter{1});
                      });
  }

  static u64 magnitude(Counter weight) {
    // |weight| without overflow for the most negative value.
    return weight < 0 ? u64{0} - static_cast<u64>(static_cast<std::int64_t>(weight))
                      : static_cast<u64>(weight);
  }

  detail::shape shape_;  // depth, width and the hot path's dispatch code
  u64 seed_;
  u64 total_weight_ = 0;
  std::vector<Counter, detail::counter_allocator<Counter>> counters_;
};

}  // namespace innet::sketch
