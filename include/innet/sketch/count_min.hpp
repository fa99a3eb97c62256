// Count-Min sketch (Cormode and Muthukrishnan, "An improved data stream summary: the count-min
// sketch and its applications", J. Algorithms 2005), with optional conservative update (Estan and
// Varghese, SIGCOMM 2002).
//
// Guarantees, for a stream of non-negative weights with total N = total_weight():
//   * estimate(x) >= f(x) always (both update rules), as long as no counter wraps;
//   * estimate(x) <= f(x) + epsilon * N with probability >= 1 - delta, where
//     epsilon = e / width and delta = e^-depth (Markov per row: a row's excess exceeds e*N/w with
//     probability <= 1/e; the rows fail independently). Rows come from one XXH3-128 per key split
//     Kirsch-Mitzenmacher style (core/hash_family.hpp), whose rows are pairwise independent in
//     practice at every width, including powers of two (tests/sketch/row_independence_test.cpp).
//   * Conservative update never gives a larger estimate than standard update on the same stream.
//   lower_bound(x) = estimate - epsilon * N (clamped at 0) is below f(x) with probability
//   >= 1 - delta; upper_bound(x) = estimate(x).
//
// Counters wrap (unsigned arithmetic), like switch registers: pick a Counter wide enough for the
// epoch's total weight. Layout: depth rows of width counters, row-major (detail/rows.hpp), the
// same as fixed_count_min and switch fragments, so from_counters adopts their exports as they are.
//
// Combining: merge adds counters (same depth, width, seed and rule); for standard update the
// result equals the sketch of the concatenated streams. fold(k) adds blocks of 2^k adjacent
// columns: because index(w / 2) == index(w) >> 1, a standard sketch folded to width w / 2^k
// equals the one built directly at that width with the same seed. Folding or merging
// conservative sketches keeps estimate >= f(x) but not equality with a direct build.
//
// Speed: a key is hashed once (XXH3-128); the row loop is unrolled for depths 3-5 and uses a
// shift for power-of-two widths (detail/common.hpp). update_burst hashes up to 32 keys, then
// prefetches every row's counter for all of them, then adds, so a DRAM-sized sketch overlaps its
// cache misses; counters of 2 MiB or more sit on transparent huge pages to spare the TLB.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <type_traits>
#include <utility>
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

enum class update_rule : u8 { standard, conservative };

template <class Counter = u32>
class count_min {
  static_assert(std::is_unsigned_v<Counter> && !std::is_same_v<Counter, bool> &&
                    (sizeof(Counter) == 1 || sizeof(Counter) == 2 || sizeof(Counter) == 4 ||
                     sizeof(Counter) == 8),
                "count_min counters are unsigned integers of 8 to 64 bits");

 public:
  using counter_type = Counter;

  static absl::StatusOr<count_min> create(u32 depth, u32 width, u64 seed,
                                          update_rule rule = update_rule::standard) {
    if (absl::Status s =
            detail::check_dimensions("count_min::create", depth, width, sizeof(Counter));
        !s.ok())
      return s;
    return count_min(depth, width, seed, rule);
  }

  // width = ceil(e / epsilon), depth = ceil(ln(1 / delta)), for 0 < epsilon <= 1 and
  // 0 < delta < 1 whose width stays below 2^32 and depth at most format::max_depth.
  static absl::StatusOr<count_min> from_error(double epsilon, double delta, u64 seed,
                                              update_rule rule = update_rule::standard) {
    if (!(epsilon > 0 && epsilon <= 1) || !(delta > 0 && delta < 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count_min::from_error: need 0 < epsilon <= 1 and 0 < delta < 1 (got epsilon ", epsilon,
          ", delta ", delta, ")"));
    }
    const double width = std::ceil(std::numbers::e / epsilon);
    const double depth = std::max(1.0, std::ceil(std::log(1 / delta)));
    if (width > 4294967295.0 || depth > format::max_depth) {
      return absl::InvalidArgumentError(
          absl::StrCat("count_min::from_error: epsilon ", epsilon, ", delta ", delta,
                       " need width ", width, " and depth ", depth,
                       ", beyond the limits (width < 2^32, depth <= ", format::max_depth, ")"));
    }
    return create(static_cast<u32>(depth), static_cast<u32>(width), seed, rule);
  }

  // Adopts counters exported by a fixed_count_min, an XDP map or a switch (row-major,
  // depth * width of them) that were updated with hash families under `seed`.
  static absl::StatusOr<count_min> from_counters(u32 depth, u32 width, u64 seed,
                                                 std::span<const Counter> counters,
                                                 u64 total_weight,
                                                 update_rule rule = update_rule::standard) {
    if (absl::Status s =
            detail::check_dimensions("count_min::from_counters", depth, width, sizeof(Counter));
        !s.ok())
      return s;
    if (counters.size() != u64{depth} * width) {
      return absl::InvalidArgumentError(absl::StrCat("count_min::from_counters: ", counters.size(),
                                                     " counters for depth ", depth, " x width ",
                                                     width, " (need ", u64{depth} * width, ")"));
    }
    count_min sketch(depth, width, seed, rule);
    std::copy(counters.begin(), counters.end(), sketch.counters_.begin());
    sketch.total_weight_ = total_weight;
    return sketch;
  }

  // ---- Updates ----

  void update(std::span<const std::byte> key, Counter weight = 1) {
    update(detail::hash_key(key, seed_), weight);
  }

  // `h` must come from make_hash_family(key, seed()) (or the same XXH3-128 computed elsewhere).
  void update(const hash_family& h, Counter weight = 1) {
    total_weight_ += weight;
    add(h, weight);
  }

  // Weight 1 per key. Hashes a burst of keys, computes and prefetches every row's counter for all
  // of them, then adds in order: the counters of scalar updates, with the cache misses of a
  // sketch larger than L2 overlapped (smaller sketches skip the prefetch pass).
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
      return detail::count_min_query(counters_.data(), u32{depth}, w, h);
    });
  }

  // estimate - epsilon * N, clamped at 0: at most the true count with probability >= 1 - delta.
  Counter lower_bound(std::span<const std::byte> key) const {
    return lower_bound(detail::hash_key(key, seed_));
  }
  // The subtraction is done in Counter: double(estimate) can round up to 2^64 (or past the
  // Counter's range), and converting such a double back is undefined behaviour.
  Counter lower_bound(const hash_family& h) const {
    const Counter est = estimate(h);
    const double slack = std::ceil(epsilon() * static_cast<double>(total_weight_));
    if (!(slack < static_cast<double>(est))) return Counter{0};
    // slack < est <= max(Counter), and slack is an integer, so it converts exactly.
    return static_cast<Counter>(est - static_cast<Counter>(slack));
  }
  // Count-Min never underestimates, so the estimate is its own upper bound.
  Counter upper_bound(std::span<const std::byte> key) const { return estimate(key); }
  Counter upper_bound(const hash_family& h) const { return estimate(h); }

  double epsilon() const { return std::numbers::e / shape_.width; }
  double delta() const { return std::exp(-static_cast<double>(shape_.depth)); }

  // Sum of all update weights (modulo 2^64), the N of the epsilon * N bound.
  u64 total_weight() const { return total_weight_; }
  u32 depth() const { return shape_.depth; }
  u32 width() const { return shape_.width; }
  u64 seed() const { return seed_; }
  update_rule rule() const { return rule_; }
  std::span<const Counter> counters() const { return counters_; }
  // Row r's counters; empty for r >= depth().
  std::span<const Counter> row(u32 r) const {
    if (r >= shape_.depth) return {};
    return std::span<const Counter>(counters_).subspan(usize{r} * shape_.width, shape_.width);
  }
  usize memory_bytes() const { return counters_.size() * sizeof(Counter); }

  // ---- Combining ----

  absl::Status merge(const count_min& other) {
    if (absl::Status s = check_compatible(other); !s.ok()) return s;
    for (usize i = 0; i < counters_.size(); ++i)
      counters_[i] = detail::wrapping_add(counters_[i], other.counters_[i]);
    total_weight_ += other.total_weight_;
    return absl::OkStatus();
  }

  // The sketch at width / 2^halvings: column c of the result is the sum of columns
  // [c * 2^halvings, (c + 1) * 2^halvings) of each row. width must be divisible by 2^halvings.
  absl::StatusOr<count_min> fold(u32 halvings) const {
    if (absl::Status s = detail::check_foldable("count_min::fold", shape_.width, halvings); !s.ok())
      return s;
    count_min folded(shape_.depth, shape_.width >> halvings, seed_, rule_);
    folded.total_weight_ = total_weight_;
    detail::fold_counters<Counter>(counters_, folded.counters_, u32{1} << halvings);
    return folded;
  }

  // ---- Serialization (sketch_format.hpp) ----

  std::vector<std::byte> serialize() const {
    preamble p;
    p.family = sketch_family::count_min;
    p.counter_code = counter_code<Counter>();
    p.flags = rule_ == update_rule::conservative ? format::flag_conservative : 0;
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

  static absl::StatusOr<count_min> deserialize(std::span<const std::byte> in) {
    absl::StatusOr<preamble> p = parse_counter_sketch<Counter>(in, sketch_family::count_min);
    if (!p.ok()) return p.status();
    count_min sketch(p->depth, p->width, p->seed,
                     (p->flags & format::flag_conservative) != 0 ? update_rule::conservative
                                                                 : update_rule::standard);
    load_counters<Counter>(payload_of(in), sketch.counters_);
    sketch.total_weight_ = p->total_weight;
    return sketch;
  }

  friend bool operator==(const count_min&, const count_min&) = default;

 private:
  count_min(u32 depth, u32 width, u64 seed, update_rule rule)
      : shape_(detail::shape::of(depth, width)),
        rule_(rule),
        seed_(seed),
        counters_(usize{depth} * width, Counter{0}) {}

  void add(const hash_family& h, Counter weight) {
    Counter* c = counters_.data();
    // The usual fragment shape (depth 4, power-of-two width: it folds) checked first, on its
    // own: GCC then keeps the shape code in a register across a caller's update loop, which
    // measured 40% faster for pre-hashed updates than entering with_shape's general dispatch.
    if (shape_.code == detail::shape::depth4_pow2 && rule_ == update_rule::standard) {
      detail::count_min_add(c, 4u, detail::pow2_width{shape_.bits}, h, weight);
      return;
    }
    if (rule_ == update_rule::standard) {
      detail::with_shape(
          shape_, [&](auto depth, auto w) { detail::count_min_add(c, u32{depth}, w, h, weight); });
    } else {
      detail::with_shape(shape_, [&](auto depth, auto w) {
        detail::count_min_add_conservative(c, u32{depth}, w, h, weight);
      });
    }
  }

  void add_burst(const hash_family* hashes, usize n) {
    Counter* c = counters_.data();
    total_weight_ += n;
    const bool standard = rule_ == update_rule::standard;
    detail::run_burst(c, memory_bytes(), shape_, hashes, n,
                      [&](const hash_family& h, auto depth, auto w) {
                        if (standard) {
                          detail::count_min_add(c, u32{depth}, w, h, Counter{1});
                        } else {
                          detail::count_min_add_conservative(c, u32{depth}, w, h, Counter{1});
                        }
                      });
  }

  absl::Status check_compatible(const count_min& other) const {
    if (shape_.depth != other.shape_.depth || shape_.width != other.shape_.width) {
      return absl::InvalidArgumentError(absl::StrCat(
          "count_min::merge: dimensions differ (", shape_.depth, "x", shape_.width, " vs ",
          other.shape_.depth, "x", other.shape_.width, "); fold the wider sketch first"));
    }
    if (seed_ != other.seed_) {
      return absl::InvalidArgumentError(absl::StrCat("count_min::merge: seeds differ (", seed_,
                                                     " vs ", other.seed_,
                                                     "); rows would not line up"));
    }
    if (rule_ != other.rule_) {
      return absl::InvalidArgumentError(
          "count_min::merge: update rules differ (standard vs conservative)");
    }
    return absl::OkStatus();
  }

  detail::shape shape_;  // depth, width and the hot path's dispatch code
  update_rule rule_;
  u64 seed_;
  u64 total_weight_ = 0;
  std::vector<Counter, detail::counter_allocator<Counter>> counters_;
};

}  // namespace innet::sketch
