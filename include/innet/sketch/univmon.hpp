// UnivMon: one sketch for heavy hitters, L1, L2, entropy and distinct count (Liu, Manousis,
// Vorsanger, Sekar and Braverman, "One Sketch to Rule Them All", SIGCOMM 2016), built on
// Braverman and Ostrovsky's recursive universal sketch ("Zero-one frequency laws", STOC 2010).
//
// Structure. `levels` levels j = 0 .. L-1. Level 0 sees the whole stream; level j sees the keys
// whose sampling word has its j lowest bits set (so each level keeps about half of the keys of the
// one above it). Every level has
//   * a count_sketch<Counter> (depth x width, all levels with the same seed, hence the same rows:
//     the key is hashed once per update; the analysis needs each level's heavy hitters found
//     with high probability, a union bound over levels, not levels independent of each other),
//     and
//   * a candidate set of at most `heavy_hitters` keys with the largest estimates seen at that
//     level (detail/univmon_candidates.hpp), keys stored as bytes (at most max_key_bytes).
//
//   update(x, w):  s = sampling word of x;  for j = 0 .. while (j == 0 or bits 0..j-1 of s are 1):
//                    level j sketch += (x, w);  offer x to level j's candidates with the sketch's
//                    current estimate of x
//
// The add and the estimate are one pass over the key's counters (count_sketch::
// update_and_estimate: the estimate reads the counters the add just wrote), so tracking
// candidates costs a median and a probe of the candidate index, not a second sketch lookup.
// update_burst hashes a burst of keys first and prefetches their rows at every level they reach.
//
// The sampling word is xxh3_64(key, sampling_seed(seed)), an XXH3 under a seed derived from the
// sketch's seed, not bits of the rows' XXH3-128: the estimator's analysis conditions on which keys
// reach a level and needs the rows to stay random given that, which a second, independently
// seeded hash gives and a function of the same digest would only approximate.
//
// G-sum (Braverman-Ostrovsky). For a function g, with Q_j the candidates of level j and est_j(x)
// level j's estimate of x *recomputed from the sketch at query time*:
//
//     Y_{L-1} = sum_{x in Q_{L-1}} g(est_{L-1}(x))
//     Y_j     = 2 Y_{j+1} + sum_{x in Q_j} (1 - 2 b_{j+1}(x)) g(est_j(x))
//
// where b_{j+1}(x) = 1 if x also belongs to level j + 1. Y_0 estimates sum_x g(f_x) (exactly, if
// every level holds all of its keys). l1 uses g(x) = |x|, l2 = sqrt of g(x) = x^2, distinct
// g(x) = [x > 0], entropy = log2(L1) - (sum of g(x) = x log2 x) / L1 with both sums from G-sum.
// Q_j is every candidate of level j, not only those above a per-level threshold: any Q_j chosen
// from level j's data alone keeps the recursion unbiased (b_{j+1} is independent of it), and
// dropping light candidates leaves them to ever deeper, sparser samples. Measured on a Zipf(0.99)
// stream (200k packets, 50k ranks, 256 candidates, 16 seeds), thresholding Q_j at
// sqrt(F2_j / width) raised the RMS error of l1 from 1.8% to 9% and of distinct from 5% to 26%.
//
// Pitfalls this design avoids (tests/sketch/univmon_test.cpp has a case for each):
//   * Stale counts: the count a candidate carries is only an eviction hint, refreshed on every
//     arrival of the key (else a key pushed early with count 1 is the first evicted however
//     heavy it grows); every query re-estimates each candidate from its level's sketch (merge
//     and fold change estimates without touching the candidates; collisions do too).
//   * Merged candidates: merge adds every level's sketch, unions the two candidate sets,
//     re-estimates each key from the *merged* sketch and keeps the top `heavy_hitters`.
//   * Per-level L2: each level's F2 is its own Count Sketch's (level_l2_squared(j)); the stream's
//     L2 comes from G-sum over all levels, not from level 0 alone.
//
// Keys longer than max_key_bytes are refused by update (errc::out_of_range) and leave the sketch
// unchanged: a key the heaps cannot hold could never be reported, and dropping it from the heaps
// alone would bias every G-sum.
//
// Serialization: the common preamble (sketch_format.hpp, family 3; depth and width are each
// level's, total_weight is level 0's), then, big-endian:
//
//     u32 levels | u32 heavy_hitters
//     u64 total_weight of level j                                  (levels times)
//     counters of level 0, row-major | ... | counters of level L-1 (levels * depth * width)
//     for each level: u32 n | n x { u8 key length | key bytes | i64 stored count }
//     u64 checksum
//
// Candidates are written in a canonical order (stored count descending, then key bytes), so a
// sketch serializes to the same bytes whichever order its heap happens to be in, and deserialize
// accepts only that order: a sketch has exactly one serialized form.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/errc.hpp"
#include "innet/core/hash.hpp"
#include "innet/core/wire.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/detail/common.hpp"
#include "innet/sketch/detail/univmon_candidates.hpp"
#include "innet/sketch/sketch_format.hpp"

namespace innet::sketch {

// The seed of the sampling hash for a sketch seeded with `seed` (see the file comment).
constexpr u64 univmon_sampling_seed(u64 seed) noexcept {
  return innet::detail::fmix64(seed ^ 0x756E69766D6F6E21ull);  // "univmon!"
}

template <class Counter = std::int32_t>
class univmon {
  static_assert(std::is_integral_v<Counter> && std::is_signed_v<Counter>,
                "univmon's Count Sketches need signed counters");

 public:
  using counter_type = Counter;

  static constexpr usize max_key_bytes = detail::univmon_max_key_bytes;
  static constexpr u32 max_levels = 64;  // the sampling word has 64 bits
  static constexpr u32 max_heavy_hitters = u32{1} << 16;

  struct config {
    u32 levels = 16;
    u32 depth = 5;
    u32 width = 2048;
    u32 heavy_hitters = 64;  // candidates kept per level
    u64 seed = 0;

    friend bool operator==(const config&, const config&) = default;
  };

  struct heavy_hitter {
    std::vector<std::byte> key;
    Counter estimate;

    friend bool operator==(const heavy_hitter&, const heavy_hitter&) = default;
  };

  static absl::StatusOr<univmon> create(const config& c) {
    if (c.levels == 0 || c.levels > max_levels) {
      return absl::InvalidArgumentError(absl::StrCat("univmon::create: levels must be in [1, ",
                                                     max_levels, "] (got ", c.levels, ")"));
    }
    if (c.heavy_hitters == 0 || c.heavy_hitters > max_heavy_hitters) {
      return absl::InvalidArgumentError(
          absl::StrCat("univmon::create: heavy_hitters must be in [1, ", max_heavy_hitters,
                       "] (got ", c.heavy_hitters, ")"));
    }
    absl::StatusOr<count_sketch<Counter>> level =
        count_sketch<Counter>::create(c.depth, c.width, c.seed);
    if (!level.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("univmon::create: ", level.status().message()));
    }
    std::vector<count_sketch<Counter>> levels(c.levels, *level);
    return univmon(c, std::move(levels));
  }

  // ---- Updates ----

  // Adds `weight` to `key` at every level the key is sampled into. errc::out_of_range, and no
  // change, if the key is longer than max_key_bytes.
  [[nodiscard]] errc update(std::span<const std::byte> key, Counter weight = 1) {
    if (key.size() > max_key_bytes) return errc::out_of_range;
    add(key, detail::hash_key(key, config_.seed), sampling_word(key), weight);
    return errc::ok;
  }

  // Weight 1 per key, in order: the same sketch as update(key) on each key in turn. Each burst of
  // detail::burst_size keys is hashed first (rows and sampling word), then, when one level's
  // counters exceed detail::prefetch_threshold_bytes, every row of every level a key reaches is
  // prefetched, and only then are the keys added. The test is per level, not for the whole
  // sketch: a key reaches level j with probability 2^-j, so levels 0 and 1 take three quarters of
  // the accesses and stay cached while they fit in L2 (the default 5 x 2048 x i32 is 40 KiB a
  // level, 640 KiB in all); prefetching them measured slower, and faster from 1 MiB a level.
  // errc::out_of_range, and no change at all, if any key is longer than max_key_bytes.
  [[nodiscard]] errc update_burst(std::span<const std::span<const std::byte>> keys) {
    for (const std::span<const std::byte> key : keys) {
      if (key.size() > max_key_bytes) return errc::out_of_range;
    }
    auto hashes = detail::blank_burst();
    std::array<u64, detail::burst_size> samples;
    const bool prefetch = levels_[0].memory_bytes() > detail::prefetch_threshold_bytes;
    while (!keys.empty()) {
      const usize n = std::min(keys.size(), detail::burst_size);
      for (usize i = 0; i < n; ++i) {
        hashes[i] = detail::hash_key(keys[i], config_.seed);
        samples[i] = sampling_word(keys[i]);
      }
      if (prefetch) {
        for (usize i = 0; i < n; ++i) {
          const u32 reached = levels_of(samples[i]);
          for (u32 j = 0; j < reached; ++j)
            levels_[j].prefetch(hashes[i]);
        }
      }
      for (usize i = 0; i < n; ++i)
        add(keys[i], hashes[i], samples[i], Counter{1});
      keys = keys.subspan(n);
    }
    return errc::ok;
  }

  // ---- Point queries (level 0, which sees every key) ----

  Counter estimate(std::span<const std::byte> key) const { return levels_[0].estimate(key); }
  // Level 0's Count Sketch bound (see count_sketch::error_bound): |estimate - f| <= error_bound()
  // with probability >= 1 - level(0).delta() for a given key.
  double error_bound() const { return levels_[0].error_bound(); }
  // Level 0's Count Sketch epsilon() and delta() (see count_sketch).
  double epsilon() const { return levels_[0].epsilon(); }
  double delta() const { return levels_[0].delta(); }
  double lower_bound(std::span<const std::byte> key) const { return levels_[0].lower_bound(key); }
  double upper_bound(std::span<const std::byte> key) const { return levels_[0].upper_bound(key); }

  // The number of levels `key` is sampled into (1 .. levels()): level j holds it iff j < this.
  u32 levels_of(std::span<const std::byte> key) const { return levels_of(sampling_word(key)); }

  // ---- Heavy hitters ----

  // Level-0 candidates whose estimate, recomputed now, is positive and at least
  // fraction_of_l1 * total_weight(); sorted by estimate descending, then key bytes ascending.
  // Finds every key above the threshold as long as heavy_hitters >= 1 / fraction_of_l1 and the
  // sketch is wide enough for the estimates to separate them.
  //
  // The threshold's L1 is total_weight(), the sum of |weight| over all updates: exactly the L1
  // of an insert-only stream, where l1()'s G-sum is an estimate (a few percent off, and at
  // worst <= 0, which would report every positive candidate). With deletions total_weight() is
  // at least the stream's L1, so the threshold only errs high: every key reported still has an
  // estimate of at least fraction_of_l1 * L1. Filter level_heavy_hitters(0) against l1()
  // directly for the other trade-off.
  std::vector<heavy_hitter> heavy_hitters(double fraction_of_l1) const {
    const double threshold = fraction_of_l1 * static_cast<double>(total_weight());
    std::vector<heavy_hitter> all = level_heavy_hitters(0);
    std::erase_if(all, [&](const heavy_hitter& h) {
      return !(h.estimate > 0 && static_cast<double>(h.estimate) >= threshold);
    });
    return all;
  }

  // Every candidate of level j with its estimate recomputed from level j's sketch, in the same
  // order as heavy_hitters. j < levels().
  std::vector<heavy_hitter> level_heavy_hitters(u32 j) const {
    std::vector<heavy_hitter> out;
    out.reserve(candidates_[j].size());
    for (const detail::univmon_candidate& e : candidates_[j].entries()) {
      const std::span<const std::byte> key = e.key();
      out.push_back({std::vector<std::byte>(key.begin(), key.end()), levels_[j].estimate(e.rows)});
    }
    std::sort(out.begin(), out.end(), [](const heavy_hitter& a, const heavy_hitter& b) {
      if (a.estimate != b.estimate) return a.estimate > b.estimate;
      return a.key < b.key;
    });
    return out;
  }

  // ---- Moments via G-sum ----

  // The recursive G-sum estimate of sum over keys of g(f_x); g maps a frequency estimate
  // (double) to a double and should satisfy g(0) = 0.
  template <class G>
  double g_sum(G g) const {
    double y = 0;
    for (u32 j = config_.levels; j-- > 0;) {
      double level_sum = 0;
      for (const detail::univmon_candidate& e : candidates_[j].entries()) {
        const double v = g(static_cast<double>(levels_[j].estimate(e.rows)));
        const bool in_next = j + 1 < config_.levels && levels_of(e.sample) > j + 1;
        level_sum += in_next ? -v : v;
      }
      y = 2 * y + level_sum;
    }
    return y;
  }

  // sum |f_x|.
  double l1() const {
    return g_sum([](double x) { return std::abs(x); });
  }
  // sqrt(sum f_x^2).
  double l2() const { return std::sqrt(std::max(0.0, f2())); }
  // sum f_x^2 by G-sum.
  double f2() const {
    return g_sum([](double x) { return x * x; });
  }
  // Number of keys with a positive count.
  double distinct() const {
    return std::max(0.0, g_sum([](double x) { return x > 0 ? 1.0 : 0.0; }));
  }
  // Shannon entropy (bits) of the empirical distribution f_x / L1; 0 for an empty stream.
  double entropy() const {
    const double total = l1();
    if (!(total > 0)) return 0;
    const double s = g_sum([](double x) { return x > 0 ? x * std::log2(x) : 0.0; });
    return std::max(0.0, std::log2(total) - s / total);
  }

  // Level j's own F2 estimate (its Count Sketch's), for per-level L2 heavy-hitter thresholds.
  double level_l2_squared(u32 j) const { return static_cast<double>(levels_[j].l2_squared()); }

  // ---- Shape ----

  u32 levels() const { return config_.levels; }
  u32 depth() const { return config_.depth; }
  u32 width() const { return config_.width; }
  u32 heavy_hitter_capacity() const { return config_.heavy_hitters; }
  u64 seed() const { return config_.seed; }
  const config& configuration() const { return config_; }
  // Level 0's total weight (see count_sketch::total_weight).
  u64 total_weight() const { return levels_[0].total_weight(); }
  const count_sketch<Counter>& level(u32 j) const { return levels_[j]; }

  // Counters of every level plus the candidate storage at full capacity (inline key bytes,
  // hashes, counts, heap and index entries); excludes std::vector headers.
  usize memory_bytes() const {
    const usize per_level =
        usize{config_.heavy_hitters} *
            (sizeof(detail::univmon_candidate) + sizeof(u32) /* heap */) +
        detail::univmon_candidates::full_table(config_.heavy_hitters) * sizeof(u32);
    return counter_bytes() + usize{config_.levels} * per_level;
  }

  // Equal configurations, counters, total weights and candidates (keys with their stored
  // counts; the heap and index layout is not compared). The eviction order is a total order
  // on (count, key), so equal sketches stay equal under the same updates.
  friend bool operator==(const univmon& a, const univmon& b) {
    return a.config_ == b.config_ && a.levels_ == b.levels_ && a.candidates_ == b.candidates_;
  }

  // ---- Combining ----

  // Adds `other` (same levels, depth, width, heavy_hitters and seed) into this sketch: every
  // level's Count Sketch is merged, the candidate sets are united, every candidate re-estimated
  // from the merged sketch and the largest heavy_hitters kept.
  absl::Status merge(const univmon& other) {
    if (absl::Status s = check_compatible(other); !s.ok()) return s;
    for (u32 j = 0; j < config_.levels; ++j) {
      std::vector<detail::univmon_candidate> united(candidates_[j].entries().begin(),
                                                    candidates_[j].entries().end());
      for (const detail::univmon_candidate& e : other.candidates_[j].entries()) {
        if (!candidates_[j].contains(e.key(), e.rows)) united.push_back(e);
      }
      if (absl::Status s = levels_[j].merge(other.levels_[j]); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("univmon::merge: ", s.message()));
      }
      rebuild(j, std::move(united));
    }
    return absl::OkStatus();
  }

  // The sketch with every level folded to width / 2^halvings (see count_sketch::fold); the
  // candidates are kept and re-estimated from the folded sketches.
  absl::StatusOr<univmon> fold(u32 halvings) const {
    std::vector<count_sketch<Counter>> folded;
    folded.reserve(config_.levels);
    for (const count_sketch<Counter>& s : levels_) {
      absl::StatusOr<count_sketch<Counter>> f = s.fold(halvings);
      if (!f.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("univmon::fold: ", f.status().message()));
      }
      folded.push_back(*std::move(f));
    }
    config c = config_;
    c.width = folded[0].width();
    univmon out(c, std::move(folded));
    for (u32 j = 0; j < config_.levels; ++j) {
      std::vector<detail::univmon_candidate> kept(candidates_[j].entries().begin(),
                                                  candidates_[j].entries().end());
      out.rebuild(j, std::move(kept));
    }
    return out;
  }

  // ---- Serialization ----

  std::vector<std::byte> serialize() const {
    const usize counters_per_level = usize{config_.depth} * config_.width;
    usize payload = 8 + usize{config_.levels} * 8 +
                    usize{config_.levels} * counters_per_level * sizeof(Counter) +
                    usize{config_.levels} * 4;
    std::vector<std::vector<const detail::univmon_candidate*>> ordered(config_.levels);
    for (u32 j = 0; j < config_.levels; ++j) {
      for (const detail::univmon_candidate& e : candidates_[j].entries()) {
        ordered[j].push_back(&e);
        payload += 1 + e.length + 8;
      }
      std::sort(ordered[j].begin(), ordered[j].end(),
                [](const detail::univmon_candidate* a, const detail::univmon_candidate* b) {
                  return canonically_before(a->count, a->key(), b->count, b->key());
                });
    }
    preamble p;
    p.family = sketch_family::univmon;
    p.counter_code = counter_code<Counter>();
    p.depth = config_.depth;
    p.width = config_.width;
    p.seed = config_.seed;
    p.total_weight = levels_[0].total_weight();
    std::vector<std::byte> out = begin_serialized(p, payload);
    std::byte* at = out.data() + format::preamble_size;
    store_be<u32>(at, config_.levels);
    store_be<u32>(at + 4, config_.heavy_hitters);
    at += 8;
    for (const count_sketch<Counter>& s : levels_) {
      store_be<u64>(at, s.total_weight());
      at += 8;
    }
    for (const count_sketch<Counter>& s : levels_) {
      const usize bytes = counters_per_level * sizeof(Counter);
      store_counters<Counter>(std::span<std::byte>(at, bytes), s.counters());
      at += bytes;
    }
    for (u32 j = 0; j < config_.levels; ++j) {
      store_be<u32>(at, static_cast<u32>(ordered[j].size()));
      at += 4;
      for (const detail::univmon_candidate* e : ordered[j]) {
        store_be<u8>(at, e->length);
        std::memcpy(at + 1, e->bytes.data(), e->length);
        at += 1 + e->length;
        store_be<u64>(at, static_cast<u64>(e->count));
        at += 8;
      }
    }
    seal(out);
    return out;
  }

  // Rejects, each with its own message: anything parse_preamble rejects, nonzero flags, levels
  // or heavy_hitters out of range, input too short for the counters, a candidate section that
  // runs past the end or overfills a level, a key longer than max_key_bytes, trailing bytes, a
  // checksum mismatch, and (for inputs whose checksum was forged) candidates out of canonical
  // order, duplicate candidates, a candidate not sampled into its level, or a preamble
  // total_weight that disagrees with level 0's. Whatever it accepts serializes back to the same
  // bytes.
  static absl::StatusOr<univmon> deserialize(std::span<const std::byte> in) {
    absl::StatusOr<preamble> p =
        parse_preamble(in, sketch_family::univmon, counter_code<Counter>());
    if (!p.ok()) return p.status();
    if (p->flags != 0) return error("flags must be zero");
    const std::span<const std::byte> payload = payload_of(in);
    if (payload.size() < 8) return error("truncated input (no level header)");
    config c;
    c.levels = load_be<u32>(payload.data());
    c.heavy_hitters = load_be<u32>(payload.data() + 4);
    c.depth = p->depth;
    c.width = p->width;
    c.seed = p->seed;
    if (c.levels == 0 || c.levels > max_levels) {
      return error(absl::StrCat("levels ", c.levels, " outside [1, ", max_levels, "]"));
    }
    if (c.heavy_hitters == 0 || c.heavy_hitters > max_heavy_hitters) {
      return error(
          absl::StrCat("heavy_hitters ", c.heavy_hitters, " outside [1, ", max_heavy_hitters, "]"));
    }
    // depth <= 64, width < 2^32, levels <= 64, sizeof <= 8: below 2^50, no overflow.
    const u64 counters_per_level = u64{c.depth} * c.width;
    const u64 fixed = 8 + u64{c.levels} * 8 + u64{c.levels} * counters_per_level * sizeof(Counter);
    if (payload.size() < fixed) {
      return error(absl::StrCat("truncated input (payload ", payload.size(),
                                " bytes, the levels' "
                                "counters need ",
                                fixed, ")"));
    }
    // Walk the candidate sections with every read bounds-checked, before trusting anything.
    struct raw_candidate {
      std::span<const std::byte> key;
      std::int64_t count;
    };
    std::vector<std::vector<raw_candidate>> raw(c.levels);
    usize at = fixed;
    for (u32 j = 0; j < c.levels; ++j) {
      const result<u32> n = read_be<u32>(payload, at);
      if (!n) return error(absl::StrCat("truncated input (candidate count of level ", j, ")"));
      at += 4;
      if (*n > c.heavy_hitters) {
        return error(absl::StrCat("level ", j, " has ", *n, " candidates, more than heavy_hitters ",
                                  c.heavy_hitters));
      }
      for (u32 i = 0; i < *n; ++i) {
        const result<u8> length = read_be<u8>(payload, at);
        if (!length)
          return error(absl::StrCat("truncated input (candidate ", i, " of level ", j, ")"));
        if (*length > max_key_bytes) {
          return error(absl::StrCat("candidate key of ", int{*length}, " bytes, longer than ",
                                    max_key_bytes));
        }
        at += 1;
        if (payload.size() - at < usize{*length} + 8) {
          return error(absl::StrCat("truncated input (candidate ", i, " of level ", j, ")"));
        }
        raw[j].push_back({payload.subspan(at, *length),
                          static_cast<std::int64_t>(load_be<u64>(payload.data() + at + *length))});
        at += usize{*length} + 8;
      }
    }
    if (at != payload.size()) {
      return error(absl::StrCat(payload.size() - at, " trailing bytes after the last level"));
    }
    if (absl::Status s = verify_checksum(in, sketch_family::univmon); !s.ok()) return s;

    std::vector<count_sketch<Counter>> levels;
    levels.reserve(c.levels);
    std::vector<Counter> counters(counters_per_level);
    for (u32 j = 0; j < c.levels; ++j) {
      const u64 weight = load_be<u64>(payload.data() + 8 + usize{j} * 8);
      load_counters<Counter>(
          payload.subspan(8 + usize{c.levels} * 8 + j * counters_per_level * sizeof(Counter),
                          counters_per_level * sizeof(Counter)),
          counters);
      absl::StatusOr<count_sketch<Counter>> s =
          count_sketch<Counter>::from_counters(c.depth, c.width, c.seed, counters, weight);
      if (!s.ok()) return error(s.status().message());
      levels.push_back(*std::move(s));
    }
    if (levels[0].total_weight() != p->total_weight) {
      return error("preamble total_weight differs from level 0's");
    }
    univmon out(c, std::move(levels));
    for (u32 j = 0; j < c.levels; ++j) {
      for (usize i = 1; i < raw[j].size(); ++i) {
        if (!canonically_before(raw[j][i - 1].count, raw[j][i - 1].key, raw[j][i].count,
                                raw[j][i].key)) {
          return error(absl::StrCat("candidates of level ", j,
                                    " are not in canonical order (count descending, then key)"));
        }
      }
      for (const raw_candidate& r : raw[j]) {
        const hash_family rows = detail::hash_key(r.key, c.seed);
        const u64 sample = out.sampling_word(r.key);
        if (out.levels_of(sample) <= j) {
          return error(absl::StrCat("a candidate of level ", j, " is not sampled into it"));
        }
        if (out.candidates_[j].contains(r.key, rows)) {
          return error(absl::StrCat("duplicate candidate in level ", j));
        }
        out.candidates_[j].offer(r.key, rows, sample, r.count);
      }
    }
    return out;
  }

 private:
  univmon(const config& c, std::vector<count_sketch<Counter>> levels)
      : config_(c),
        sampling_seed_(univmon_sampling_seed(c.seed)),
        levels_(std::move(levels)),
        candidates_(c.levels, detail::univmon_candidates(c.heavy_hitters)) {}

  static absl::Status error(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("univmon::deserialize: ", what));
  }

  // The order candidates are serialized and kept in: count descending, then key bytes.
  static bool canonically_before(std::int64_t count_a, std::span<const std::byte> a,
                                 std::int64_t count_b, std::span<const std::byte> b) {
    if (count_a != count_b) return count_a > count_b;
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

  // xxh3_64(key, sampling_seed_), with the flow-key length as a constant like detail::hash_key.
  u64 sampling_word(std::span<const std::byte> key) const {
    return key.size() == 13 ? XXH3_64bits_withSeed(key.data(), 13, sampling_seed_)
                            : XXH3_64bits_withSeed(key.data(), key.size(), sampling_seed_);
  }

  // The update of one key already hashed: each level's Count Sketch add returns the key's new
  // estimate from the counters it just touched (count_sketch::update_and_estimate), and that
  // estimate refreshes or offers the key to the level's candidates.
  void add(std::span<const std::byte> key, const hash_family& rows, u64 sample, Counter weight) {
    const u32 reached = levels_of(sample);
    for (u32 j = 0; j < reached; ++j) {
      const Counter estimate = levels_[j].update_and_estimate(rows, weight);
      candidates_[j].offer(key, rows, sample, static_cast<std::int64_t>(estimate));
    }
  }

  usize counter_bytes() const {
    return usize{config_.levels} * config_.depth * config_.width * sizeof(Counter);
  }

  // Level j holds a key iff its sampling word's j lowest bits are all 1.
  u32 levels_of(u64 sample) const {
    const auto ones = static_cast<u32>(std::countr_one(sample));
    return std::min(config_.levels, ones + 1);
  }

  // Replaces level j's candidates by the largest heavy_hitters of `keys`, each re-estimated from
  // level j's current sketch.
  void rebuild(u32 j, std::vector<detail::univmon_candidate> keys) {
    for (detail::univmon_candidate& e : keys)
      e.count = static_cast<std::int64_t>(levels_[j].estimate(e.rows));
    std::sort(keys.begin(), keys.end(),
              [](const detail::univmon_candidate& a, const detail::univmon_candidate& b) {
                return canonically_before(a.count, a.key(), b.count, b.key());
              });
    if (keys.size() > config_.heavy_hitters) keys.resize(config_.heavy_hitters);
    candidates_[j].clear();
    for (const detail::univmon_candidate& e : keys)
      candidates_[j].offer(e.key(), e.rows, e.sample, e.count);
  }

  absl::Status check_compatible(const univmon& other) const {
    const auto differ = [](absl::string_view what, u64 a, u64 b) {
      return absl::InvalidArgumentError(
          absl::StrCat("univmon::merge: ", what, " differ (", a, " vs ", b, ")"));
    };
    if (config_.levels != other.config_.levels)
      return differ("levels", config_.levels, other.config_.levels);
    if (config_.depth != other.config_.depth)
      return differ("depths", config_.depth, other.config_.depth);
    if (config_.width != other.config_.width) {
      return absl::InvalidArgumentError(absl::StrCat("univmon::merge: widths differ (",
                                                     config_.width, " vs ", other.config_.width,
                                                     "); fold the wider sketch first"));
    }
    if (config_.heavy_hitters != other.config_.heavy_hitters)
      return differ("heavy_hitters", config_.heavy_hitters, other.config_.heavy_hitters);
    if (config_.seed != other.config_.seed) {
      return absl::InvalidArgumentError(absl::StrCat("univmon::merge: seeds differ (", config_.seed,
                                                     " vs ", other.config_.seed,
                                                     "); rows and sampling would not line up"));
    }
    return absl::OkStatus();
  }

  config config_;
  u64 sampling_seed_;
  std::vector<count_sketch<Counter>> levels_;
  std::vector<detail::univmon_candidates> candidates_;
};

}  // namespace innet::sketch
