// Tests of innet/sketch/univmon.hpp against brute force: exact per-key counts of a seeded Zipf
// stream (workload/zipfian.hpp), from which the true L1, L2, entropy, distinct count, heavy
// hitters and per-level substreams (through levels_of) are computed directly.
//
// Two kinds of check:
//   * exact ones, where the estimator has no freedom: a stream whose keys all fit in every
//     level's candidates and never collide gives G-sums equal to the true sums; merge and fold
//     give per-level counters identical to a direct build; serialization round-trips bytewise;
//     and the pitfalls (stale counts, merged candidate counts) are staged so that the wrong
//     implementation gives a different, predictable number;
//   * statistical ones on a Zipf stream with fixed seeds, with tolerances a few times the error
//     measured for those seeds (noted beside each), so they cannot flake but would catch a
//     biased or broken estimator (a missing level, a wrong sign in the recursion, a dropped
//     factor of 2 each move the estimates by tens of percent).
#include "innet/sketch/univmon.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "innet/core/errc.hpp"
#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/sketch_format.hpp"
#include "innet/workload/zipfian.hpp"

namespace {

using innet::errc;
using innet::u32;
using innet::u64;
using innet::usize;
using innet::sketch::univmon;
using um = univmon<std::int32_t>;

std::span<const std::byte> bytes_of(const u64& key) {
  return innet::object_bytes(key);
}

template <class T>
T value_of(absl::StatusOr<T> s) {
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

um make(um::config c) {
  return value_of(um::create(c));
}

void add(um& s, u64 key, std::int32_t weight = 1) {
  const errc e = s.update(bytes_of(key), weight);
  REQUIRE(e == errc::ok);
}

struct stream {
  std::vector<u64> keys;  // in arrival order
  std::unordered_map<u64, std::int64_t> exact;
};

// `packets` draws from Zipf(theta) over `items` ranks; a rank r becomes key r * 0x9E37... + 1 so
// that keys are not small consecutive integers.
stream zipf_stream(u64 items, usize packets, double theta, u64 seed) {
  auto zipf = value_of(innet::workload::zipfian_generator::create(0, items, theta));
  innet::xoshiro256ss rng(seed);
  stream s;
  s.keys.reserve(packets);
  for (usize i = 0; i < packets; ++i) {
    const u64 key = zipf.next(rng) * 0x9E3779B97F4A7C15ull + 1;
    s.keys.push_back(key);
    ++s.exact[key];
  }
  return s;
}

struct truth {
  double l1 = 0, f2 = 0, entropy = 0, distinct = 0;
};

truth truth_of(const std::unordered_map<u64, std::int64_t>& exact) {
  truth t;
  double xlogx = 0;
  for (const auto& [key, f] : exact) {
    if (f == 0) continue;
    const auto x = static_cast<double>(f);
    t.l1 += std::abs(x);
    t.f2 += x * x;
    t.distinct += 1;
    if (x > 0) xlogx += x * std::log2(x);
  }
  t.entropy = t.l1 > 0 ? std::log2(t.l1) - xlogx / t.l1 : 0;
  return t;
}

um build(const um::config& c, std::span<const u64> keys) {
  um s = make(c);
  for (const u64 k : keys)
    add(s, k);
  return s;
}

u64 key_of(const um::heavy_hitter& h) {
  REQUIRE(h.key.size() == sizeof(u64));
  u64 k;
  std::memcpy(&k, h.key.data(), sizeof k);
  return k;
}

std::set<u64> key_set(const std::vector<um::heavy_hitter>& hh) {
  std::set<u64> out;
  for (const auto& h : hh)
    out.insert(key_of(h));
  return out;
}

void require_same_levels(const um& a, const um& b) {
  REQUIRE(a.levels() == b.levels());
  for (u32 j = 0; j < a.levels(); ++j) {
    const auto ca = a.level(j).counters();
    const auto cb = b.level(j).counters();
    REQUIRE(std::equal(ca.begin(), ca.end(), cb.begin(), cb.end()));
    REQUIRE(a.level(j).total_weight() == b.level(j).total_weight());
  }
}

// The Zipf stream most statistical tests share: 200k packets over 50k ranks, theta 0.99.
const stream& shared_stream() {
  static const stream s = zipf_stream(50'000, 200'000, 0.99, 7);
  return s;
}

um::config default_config(u64 seed = 11) {
  um::config c;
  c.seed = seed;
  return c;
}

}  // namespace

TEST_CASE("univmon create validates its configuration") {
  const auto message_of = [](um::config c) {
    const absl::StatusOr<um> s = um::create(c);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.status().message());
  };
  um::config c;
  c.levels = 0;
  CHECK(absl::StrContains(message_of(c), "levels"));
  c.levels = 65;
  CHECK(absl::StrContains(message_of(c), "levels"));
  c = {};
  c.heavy_hitters = 0;
  CHECK(absl::StrContains(message_of(c), "heavy_hitters"));
  c.heavy_hitters = um::max_heavy_hitters + 1;
  CHECK(absl::StrContains(message_of(c), "heavy_hitters"));
  c = {};
  c.depth = 0;
  CHECK(absl::StrContains(message_of(c), "depth"));
  c = {};
  c.width = 0;
  CHECK(absl::StrContains(message_of(c), "width"));
  c = {};
  c.depth = 65;
  CHECK(absl::StrContains(message_of(c), "depth"));
  c = {};
  c.levels = 64;
  c.heavy_hitters = 1;
  c.depth = 1;
  c.width = 1;
  CHECK(um::create(c).ok());
}

TEST_CASE("univmon refuses keys longer than max_key_bytes and leaves the sketch unchanged") {
  um s = make({4, 3, 64, 8, 1});
  add(s, 42);
  const std::vector<std::byte> before = s.serialize();
  std::vector<std::byte> key(um::max_key_bytes + 1, std::byte{7});
  CHECK(s.update(key) == errc::out_of_range);
  CHECK(s.serialize() == before);
  key.pop_back();
  CHECK(s.update(key, 5) == errc::ok);
  const auto hh = s.heavy_hitters(0.5);
  REQUIRE(hh.size() == 1);
  CHECK(hh[0].key == key);
  CHECK(hh[0].estimate == 5);
  // The empty key is a key like any other.
  CHECK(s.update({}, 1) == errc::ok);
  CHECK(s.estimate({}) == 1);
}

TEST_CASE("univmon on an empty stream reports zeros") {
  const um s = make(default_config());
  CHECK(s.l1() == 0);
  CHECK(s.l2() == 0);
  CHECK(s.entropy() == 0);
  CHECK(s.distinct() == 0);
  CHECK(s.heavy_hitters(0.0).empty());
}

// With fewer distinct keys than candidate slots, every level holds all of its keys, so the
// recursion telescopes to the plain sum over level 0: Y_0 = sum g(f_x), exactly.
TEST_CASE("univmon G-sum is exact when every level holds all of its keys") {
  const um::config c{12, 5, 4096, 64, 3};
  um s = make(c);
  std::unordered_map<u64, std::int64_t> exact;
  innet::xoshiro256ss rng(5);
  for (int i = 0; i < 20'000; ++i) {
    const u64 key = innet::uniform_below(rng, 40) * 1000 + 17;  // 40 keys, skewed below
    const u64 repeat = key % 7 == 0 ? 3 : 1;
    for (u64 r = 0; r < repeat; ++r) {
      add(s, key);
      ++exact[key];
    }
  }
  // 40 keys in 4096 columns: no two share a column in a majority of rows (checked, not assumed).
  for (const auto& [key, f] : exact)
    REQUIRE(s.estimate(bytes_of(key)) == f);
  const truth t = truth_of(exact);
  CHECK(s.l1() == doctest::Approx(t.l1).epsilon(1e-12));
  CHECK(s.l2() == doctest::Approx(std::sqrt(t.f2)).epsilon(1e-12));
  CHECK(s.distinct() == doctest::Approx(t.distinct).epsilon(1e-12));
  CHECK(s.entropy() == doctest::Approx(t.entropy).epsilon(1e-12));
  CHECK(s.g_sum([](double x) { return x * x * x; }) ==
        doctest::Approx(std::transform_reduce(exact.begin(), exact.end(), 0.0, std::plus<>{},
                                              [](const auto& kv) {
                                                const auto x = static_cast<double>(kv.second);
                                                return x * x * x;
                                              }))
            .epsilon(1e-12));
  // Some keys reach deep levels, so the recursion's levels below 0 were exercised.
  u32 deepest = 0;
  for (const auto& [key, f] : exact)
    deepest = std::max(deepest, s.levels_of(bytes_of(key)));
  CHECK(deepest >= 4);
}

TEST_CASE("univmon sampling halves the substream at each level") {
  const um s = make(default_config());
  // Level j holds a key with probability 2^-j (capped at the last level).
  std::vector<usize> at_least(s.levels() + 1, 0);
  const usize n = 100'000;
  for (u64 k = 0; k < n; ++k) {
    const u32 m = s.levels_of(bytes_of(k));
    REQUIRE(m >= 1);
    REQUIRE(m <= s.levels());
    for (u32 j = 0; j < m; ++j)
      ++at_least[j];
  }
  for (u32 j = 0; j < 10; ++j) {
    const double expected = static_cast<double>(n) / std::pow(2.0, j);
    // 5 binomial standard deviations.
    CHECK(std::abs(static_cast<double>(at_least[j]) - expected) <= 5 * std::sqrt(expected) + 1);
  }
  // Sampling follows the seed: another seed samples independently.
  const um other = make(default_config(12));
  usize same = 0;
  for (u64 k = 0; k < 1000; ++k)
    same += s.levels_of(bytes_of(k)) == other.levels_of(bytes_of(k));
  // Independent samplings agree with probability sum_k (2^-k)^2 = 1/3: 333 +- 15 of 1000.
  CHECK(same < 450);
}

// Errors measured over sketch seeds 1..16 on this stream (k = 256): RMS relative error of l1
// 1.8%, distinct 5.1%, entropy 0.9%, l2 0.09%, means all within 0.4% of zero (no bias); the
// bounds below are about 3.5 times the RMS. For seed 11 the errors are 2.8%, 8.8%, 1.4%, 0.06%.
TEST_CASE("univmon estimates Zipf heavy hitters, L1, L2, entropy and distinct count") {
  const stream& st = shared_stream();
  um::config c = default_config();
  c.heavy_hitters = 256;
  const um s = build(c, st.keys);
  const truth t = truth_of(st.exact);

  // Heavy hitters at 0.5% of L1. Recall: every key at or above the threshold is reported.
  // Precision: every reported key is at least 3/4 of the threshold (the usual (theta, epsilon)
  // guarantee; a key just below the line may be reported when l1() is slightly low).
  const double fraction = 0.005;
  const auto reported = s.heavy_hitters(fraction);
  const std::set<u64> reported_keys = key_set(reported);
  usize heavy = 0, found = 0;
  for (const auto& [key, f] : st.exact) {
    if (static_cast<double>(f) < fraction * t.l1) continue;
    ++heavy;
    found += reported_keys.count(key);
  }
  usize precise = 0;
  for (const u64 k : reported_keys)
    precise += static_cast<double>(st.exact.at(k)) >= 0.75 * fraction * t.l1;
  INFO("heavy hitters: ", heavy, " true, ", reported_keys.size(), " reported, ", found, " found, ",
       precise, " above 3/4 of the threshold");
  REQUIRE(heavy >= 10);
  CHECK(found == heavy);
  CHECK(precise == reported_keys.size());
  // Reported estimates are the sketch's current ones, close to the truth, and sorted.
  for (const auto& h : reported) {
    CHECK(h.estimate == s.estimate(h.key));
    const double f = static_cast<double>(st.exact.at(key_of(h)));
    CHECK(std::abs(h.estimate - f) <= s.level(0).error_bound());
  }
  CHECK(std::is_sorted(reported.begin(), reported.end(),
                       [](const auto& a, const auto& b) { return a.estimate > b.estimate; }));

  const double l1_err = std::abs(s.l1() - t.l1) / t.l1;
  const double l2_err = std::abs(s.l2() - std::sqrt(t.f2)) / std::sqrt(t.f2);
  const double h_err = std::abs(s.entropy() - t.entropy) / t.entropy;
  const double d_err = std::abs(s.distinct() - t.distinct) / t.distinct;
  INFO("l1 ", s.l1(), " vs ", t.l1, " (", l1_err, "); l2 ", s.l2(), " vs ", std::sqrt(t.f2), " (",
       l2_err, "); entropy ", s.entropy(), " vs ", t.entropy, " (", h_err, "); distinct ",
       s.distinct(), " vs ", t.distinct, " (", d_err, ")");
  CHECK(l1_err <= 0.06);
  CHECK(l2_err <= 0.005);
  CHECK(h_err <= 0.03);
  CHECK(d_err <= 0.18);
}

// Each level's F2 must come from that level's own sketch: level 0's F2 says nothing about the
// substream deeper levels see (the heavy keys that dominate it are sampled out).
TEST_CASE("univmon per-level L2 matches each level's exact substream") {
  const stream& st = shared_stream();
  const um s = build(default_config(), st.keys);
  std::vector<double> exact_f2(s.levels(), 0.0);
  for (const auto& [key, f] : st.exact) {
    const u32 m = s.levels_of(bytes_of(key));
    for (u32 j = 0; j < m; ++j)
      exact_f2[j] += static_cast<double>(f) * static_cast<double>(f);
  }
  for (u32 j = 0; j < 8; ++j) {
    // Relative standard error of a row's F2 estimate is about sqrt(2 / width) = 3%.
    CHECK(s.level_l2_squared(j) == doctest::Approx(exact_f2[j]).epsilon(0.15));
  }
  // The levels really differ, so a single F2 for all of them would be wrong somewhere.
  CHECK(exact_f2[4] < 0.5 * exact_f2[0]);
}

// The candidate set against a brute-force model with the same rule: update if present, insert
// while there is room, else replace the least (count, key bytes) when strictly larger. Small key
// universe and random (also negative) counts, so updates, evictions, index growth and
// backward-shift removals all happen thousands of times.
TEST_CASE("univmon candidate set keeps exactly what the brute-force model keeps") {
  using innet::sketch::detail::univmon_candidates;
  for (const u32 capacity : {1U, 3U, 8U, 40U}) {
    univmon_candidates set(capacity);
    std::vector<std::pair<u64, std::int64_t>> model;  // (key, count)
    const auto bytes_less = [](u64 a, u64 b) {
      const auto x = bytes_of(a), y = bytes_of(b);
      return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
    };
    innet::xoshiro256ss rng(capacity);
    for (int step = 0; step < 20'000; ++step) {
      const u64 key = innet::uniform_below(rng, 3 * capacity + 5);
      const auto count = static_cast<std::int64_t>(innet::uniform_below(rng, 200)) - 50;
      set.offer(bytes_of(key), innet::make_hash_family(bytes_of(key), 1), 0, count);
      auto it =
          std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == key; });
      if (it != model.end()) {
        it->second = count;
      } else if (model.size() < capacity) {
        model.emplace_back(key, count);
      } else {
        auto least =
            std::min_element(model.begin(), model.end(), [&](const auto& a, const auto& b) {
              return a.second != b.second ? a.second < b.second : bytes_less(a.first, b.first);
            });
        if (count > least->second) *least = {key, count};
      }
      bool same = set.size() == model.size();
      for (const auto& [k, c] : model)
        same = same && set.contains(bytes_of(k), innet::make_hash_family(bytes_of(k), 1));
      REQUIRE_MESSAGE(same, "diverged from the model at step ", step);
    }
    std::vector<std::pair<u64, std::int64_t>> kept;
    for (const auto& e : set.entries()) {
      u64 k;
      std::memcpy(&k, e.bytes.data(), sizeof k);
      kept.emplace_back(k, e.count);
    }
    std::sort(kept.begin(), kept.end());
    std::sort(model.begin(), model.end());
    CHECK(kept == model);
  }
}

TEST_CASE("univmon refreshes a candidate's count on every arrival") {
  // Two slots. A arrives once, B twice: B is the larger candidate. Then A 100 more times, then
  // C. If A's stored count stayed at the 1 it was pushed with, C would evict A (the smallest
  // stored count); with counts refreshed, C evicts B.
  um s = make({1, 3, 1024, 2, 9});
  const u64 a = 1, b = 2, c = 3;
  add(s, a);
  add(s, b, 2);
  for (int i = 0; i < 100; ++i)
    add(s, a);
  for (int i = 0; i < 50; ++i)
    add(s, c);
  REQUIRE(s.estimate(bytes_of(a)) == 101);  // no collisions among three keys in 1024 columns
  REQUIRE(s.estimate(bytes_of(b)) == 2);
  REQUIRE(s.estimate(bytes_of(c)) == 50);
  const auto hh = s.level_heavy_hitters(0);
  REQUIRE(hh.size() == 2);
  CHECK(key_of(hh[0]) == a);
  CHECK(hh[0].estimate == 101);
  CHECK(key_of(hh[1]) == c);
  CHECK(hh[1].estimate == 50);
}

TEST_CASE("univmon merge re-estimates candidates from the merged sketch") {
  // One slot per level. x sees A 10 times. y sees A 500 times, then B 501 times, which evicts
  // A from y's only slot. The union of the stream has A = 510 and B = 501, so the merged sketch
  // must keep A with 510. Keeping stored counts (A: 10 from x, B: 501 from y) would keep B;
  // adding them would too.
  const um::config c{1, 5, 1024, 1, 21};
  um x = make(c);
  um y = make(c);
  const u64 a = 100, b = 200;
  add(x, a, 10);
  add(y, a, 500);
  for (int i = 0; i < 501; ++i)
    add(y, b);
  REQUIRE(key_of(y.level_heavy_hitters(0).at(0)) == b);
  REQUIRE(x.merge(y).ok());
  const auto hh = x.level_heavy_hitters(0);
  REQUIRE(hh.size() == 1);
  CHECK(key_of(hh[0]) == a);
  CHECK(hh[0].estimate == 510);
  CHECK(x.estimate(bytes_of(b)) == 501);
}

TEST_CASE("univmon reports estimates recomputed at query time, never stored counts") {
  const stream& st = shared_stream();
  const um s = build(default_config(), st.keys);
  const um folded = value_of(s.fold(5));  // width 64: estimates move a lot
  for (const um* sketch : {&s, &folded}) {
    for (u32 j = 0; j < sketch->levels(); ++j) {
      for (const auto& h : sketch->level_heavy_hitters(j)) {
        const auto rows = innet::make_hash_family(h.key, sketch->seed());
        REQUIRE(h.estimate == sketch->level(j).estimate(rows));
      }
    }
    for (const auto& h : sketch->heavy_hitters(0.01))
      CHECK(h.estimate == sketch->estimate(h.key));
  }
  // Folding changed some estimates, so the check above was not vacuous.
  usize changed = 0;
  for (const auto& h : s.level_heavy_hitters(0))
    changed += folded.estimate(h.key) != h.estimate;
  CHECK(changed > 0);
}

TEST_CASE("univmon merge of two halves equals the sketch of the whole") {
  const stream& st = shared_stream();
  const um::config c = default_config();
  const usize half = st.keys.size() / 2;
  const std::span<const u64> all(st.keys);
  um first = build(c, all.first(half));
  const um second = build(c, all.subspan(half));
  const um whole = build(c, all);
  um other_way = second;
  REQUIRE(first.merge(second).ok());
  REQUIRE(other_way.merge(build(c, all.first(half))).ok());

  require_same_levels(first, whole);
  CHECK(first.total_weight() == st.keys.size());
  // Merge is symmetric, candidates included (canonical serialization).
  CHECK(first.serialize() == other_way.serialize());
  // Same heavy hitters with the same estimates as the sketch of the whole stream.
  const auto merged_hh = first.heavy_hitters(0.005);
  const auto whole_hh = whole.heavy_hitters(0.005);
  CHECK(merged_hh == whole_hh);
  CHECK(merged_hh.size() >= 10);
  CHECK(first.l1() == doctest::Approx(whole.l1()).epsilon(0.05));
  CHECK(first.entropy() == doctest::Approx(whole.entropy()).epsilon(0.02));
}

TEST_CASE("univmon merge refuses incompatible sketches") {
  const um::config base{8, 4, 256, 16, 5};
  um s = make(base);
  const auto refused = [&](um::config c, const char* what) {
    const absl::Status st = s.merge(make(c));
    CHECK_FALSE(st.ok());
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(absl::StrContains(st.message(), what), st.message());
  };
  um::config c = base;
  c.levels = 9;
  refused(c, "levels");
  c = base;
  c.depth = 5;
  refused(c, "depth");
  c = base;
  c.width = 128;
  refused(c, "fold");
  c = base;
  c.heavy_hitters = 8;
  refused(c, "heavy_hitters");
  c = base;
  c.seed = 6;
  refused(c, "seed");
  CHECK(s.merge(make(base)).ok());
}

TEST_CASE("univmon merge with itself doubles every count") {
  um s = make({6, 3, 512, 8, 4});
  for (const u64 k : std::span(shared_stream().keys).first(5000))
    add(s, k);
  const um before = s;
  REQUIRE(s.merge(s).ok());
  for (u32 j = 0; j < s.levels(); ++j) {
    const auto a = before.level(j).counters();
    const auto b = s.level(j).counters();
    for (usize i = 0; i < a.size(); ++i)
      REQUIRE(b[i] == 2 * a[i]);
    const auto hb = before.level_heavy_hitters(j);
    const auto hs = s.level_heavy_hitters(j);
    REQUIRE(hb.size() == hs.size());
    for (usize i = 0; i < hb.size(); ++i)
      CHECK(hs[i].estimate == 2 * hb[i].estimate);
  }
  CHECK(s.l1() == doctest::Approx(2 * before.l1()));
}

TEST_CASE("univmon fold equals the sketch built at the narrower width") {
  const stream& st = shared_stream();
  const std::span<const u64> keys = std::span(st.keys).first(50'000);
  um::config c = default_config();
  const um wide = build(c, keys);
  c.width = 2048 >> 3;
  const um narrow = build(c, keys);
  const um folded = value_of(wide.fold(3));
  CHECK(folded.width() == 256);
  require_same_levels(folded, narrow);
  // The folded sketch merges with natively narrow ones.
  um merged = folded;
  CHECK(merged.merge(narrow).ok());
  // Width 2048 is not divisible by 2^12.
  const absl::StatusOr<um> bad = wide.fold(12);
  REQUIRE_FALSE(bad.ok());
  CHECK(absl::StrContains(bad.status().message(), "divisible"));
}

TEST_CASE("univmon survives deletions: a stream minus itself is empty") {
  um s = make(default_config());
  const std::span<const u64> keys = std::span(shared_stream().keys).first(20'000);
  for (const u64 k : keys)
    add(s, k);
  for (const u64 k : keys)
    add(s, k, -1);
  for (u32 j = 0; j < s.levels(); ++j) {
    const auto counters = s.level(j).counters();
    REQUIRE(std::all_of(counters.begin(), counters.end(), [](auto v) { return v == 0; }));
  }
  CHECK(s.l1() == 0);
  CHECK(s.distinct() == 0);
  CHECK(s.entropy() == 0);
  CHECK(s.heavy_hitters(0.0).empty());
}

TEST_CASE("univmon serialization round-trips exactly") {
  const stream& st = shared_stream();
  const std::span<const u64> keys(st.keys);
  const um s = build(default_config(), keys.first(30'000));
  const std::vector<std::byte> bytes = s.serialize();
  um back = value_of(um::deserialize(bytes));
  CHECK(back.serialize() == bytes);
  require_same_levels(s, back);
  CHECK(back.l1() == s.l1());
  CHECK(back.entropy() == s.entropy());
  CHECK(back.heavy_hitters(0.001) == s.heavy_hitters(0.001));
  // The stored counts travel too, so a restored sketch continues exactly like the original.
  um original = s;
  for (const u64 k : keys.subspan(30'000, 20'000)) {
    add(original, k);
    add(back, k);
  }
  CHECK(back.serialize() == original.serialize());
  CHECK(s.memory_bytes() >= usize{16} * 5 * 2048 * sizeof(std::int32_t));
}

TEST_CASE("univmon deserialize rejects every truncation and every corrupted byte") {
  um s = make({4, 3, 16, 4, 77});
  for (const u64 k : std::span(shared_stream().keys).first(2000))
    add(s, k);
  const std::vector<std::byte> bytes = s.serialize();
  REQUIRE(um::deserialize(bytes).ok());
  for (usize n = 0; n < bytes.size(); ++n) {
    const auto r = um::deserialize(std::span(bytes).first(n));
    REQUIRE_MESSAGE(!r.ok(), "accepted a truncation to ", n, " bytes");
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  CHECK_FALSE(um::deserialize(longer).ok());
  for (usize i = 0; i < bytes.size(); ++i) {
    for (const std::byte flip : {std::byte{0x01}, std::byte{0x80}}) {
      std::vector<std::byte> bad = bytes;
      bad[i] ^= flip;
      REQUIRE_MESSAGE(!um::deserialize(bad).ok(), "accepted a flip at byte ", i);
    }
  }
}

TEST_CASE("univmon deserialize explains what is wrong") {
  const auto message = [](absl::StatusOr<um> r) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  // Wide enough that the 40 keys' estimates are exact, hence distinct stored counts.
  um s = make({3, 3, 1024, 4, 5});
  for (u64 k = 0; k < 40; ++k)
    add(s, k, static_cast<std::int32_t>(k + 1));
  const std::vector<std::byte> good = s.serialize();

  // Another family and another counter type.
  const auto cs = value_of(innet::sketch::count_sketch<std::int32_t>::create(3, 1024, 5));
  CHECK(absl::StrContains(message(um::deserialize(cs.serialize())), "family"));
  CHECK(absl::StrContains(univmon<std::int64_t>::deserialize(good).status().message(), "counter"));
  CHECK(absl::StrContains(message(um::deserialize(std::span(good).first(20))), "truncated"));
  CHECK(absl::StrContains(message(um::deserialize(std::span(good).first(good.size() - 1))),
                          "truncated"));

  // Inputs whose checksum was recomputed after the damage (a forger, not line noise): the
  // structure itself is checked.
  const usize payload = innet::sketch::format::preamble_size;
  const usize counters_end = payload + 8 + 3 * 8 + 3 * 3 * 1024 * 4;
  const auto forged = [&](auto damage) {
    std::vector<std::byte> bad = good;
    damage(bad);
    innet::sketch::seal(bad);
    return um::deserialize(bad);
  };
  CHECK(absl::StrContains(
      message(forged([&](auto& b) { innet::store_be<u32>(b.data() + payload, 0); })), "levels"));
  CHECK(absl::StrContains(
      message(forged([&](auto& b) { innet::store_be<u32>(b.data() + payload + 4, 1); })),
      "more than heavy_hitters"));
  // Level 0 has 4 candidates of 8-byte keys: u32 count, then {u8 length, key, i64 count} each.
  REQUIRE(innet::load_be<u32>(good.data() + counters_end) == 4);
  const usize first_key = counters_end + 4 + 1;
  const usize second_key = first_key + 8 + 8 + 1;
  CHECK(absl::StrContains(message(forged([&](auto& b) { b[first_key - 1] = std::byte{65}; })),
                          "longer than"));
  CHECK(absl::StrContains(message(forged([&](auto& b) {
                            std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(first_key), 8,
                                        b.begin() + static_cast<std::ptrdiff_t>(second_key));
                          })),
                          "duplicate"));
  CHECK(absl::StrContains(message(forged([&](auto& b) {
                            // Swap the first two candidates (same length): order is canonical.
                            std::swap_ranges(
                                b.begin() + static_cast<std::ptrdiff_t>(first_key - 1),
                                b.begin() + static_cast<std::ptrdiff_t>(second_key - 1),
                                b.begin() + static_cast<std::ptrdiff_t>(second_key - 1));
                          })),
                          "canonical order"));
  CHECK(absl::StrContains(message(forged([&](auto& b) { b[7] = std::byte{1}; })), "flags"));
  CHECK(absl::StrContains(
      message(forged([&](auto& b) { innet::store_be<u64>(b.data() + 24, 12345); })),
      "total_weight"));
  // A level-1 candidate replaced by a key that only reaches level 0.
  usize level1 = counters_end + 4 + 4 * (1 + 8 + 8);
  REQUIRE(innet::load_be<u32>(good.data() + level1) >= 1);
  u64 shallow = 1000;
  while (s.levels_of(bytes_of(shallow)) != 1)
    ++shallow;
  CHECK(absl::StrContains(
      message(forged([&](auto& b) { std::memcpy(b.data() + level1 + 5, &shallow, 8); })),
      "not sampled"));
  CHECK(
      absl::StrContains(message(forged([&](auto& b) { b.push_back(std::byte{0}); })), "trailing"));
  // And unforged damage is a checksum mismatch.
  std::vector<std::byte> flipped = good;
  flipped[payload + 20] ^= std::byte{1};
  CHECK(absl::StrContains(message(um::deserialize(flipped)), "checksum"));
}

TEST_CASE("univmon update_burst equals scalar updates") {
  const stream& st = shared_stream();
  const std::span<const u64> keys = std::span(st.keys).first(20'000);
  std::vector<std::span<const std::byte>> spans;
  for (const u64& k : keys)
    spans.push_back(bytes_of(k));
  // 5 x 16384 x i32 is 320 KiB a level, past the prefetch threshold; the default (40 KiB a
  // level) and the small sketch skip the prefetch. The burst lengths cover single keys, partial
  // bursts, exact multiples of the burst size and everything at once.
  for (const um::config& c :
       {um::config{4, 5, 16384, 16, 8}, default_config(), um::config{6, 3, 256, 16, 8}}) {
    const um scalar = build(c, keys);
    for (const usize chunk : {usize{1}, usize{7}, usize{32}, usize{100}, spans.size()}) {
      um burst = make(c);
      for (usize at = 0; at < spans.size(); at += chunk) {
        const usize n = std::min(chunk, spans.size() - at);
        REQUIRE(burst.update_burst(std::span(spans).subspan(at, n)) == errc::ok);
      }
      INFO("chunk ", chunk, ", width ", c.width);
      CHECK(burst == scalar);
      CHECK(burst.serialize() == scalar.serialize());
    }
  }
  // One key too long refuses the whole burst, before any key is added.
  um s = make({4, 3, 64, 8, 1});
  const um before = s;
  const std::vector<std::byte> long_key(um::max_key_bytes + 1, std::byte{1});
  const std::vector<std::span<const std::byte>> mixed{bytes_of(keys[0]), long_key};
  CHECK(s.update_burst(mixed) == errc::out_of_range);
  CHECK(s == before);
  CHECK(s.update_burst({}) == errc::ok);
  CHECK(s == before);
}

// The fused add-and-estimate univmon's updates use, against the two separate calls, for odd and
// even depths (the branch-free median and the insertion sort must agree, lower midpoint
// included), both width policies and signed weights.
TEST_CASE("count_sketch update_and_estimate equals update followed by estimate") {
  using cs = innet::sketch::count_sketch<std::int32_t>;
  for (const u32 depth : {1U, 2U, 3U, 4U, 5U, 6U, 7U, 8U}) {
    for (const u32 width : {16U, 24U}) {
      cs fused = value_of(cs::create(depth, width, 3));
      cs split = fused;
      innet::xoshiro256ss rng(depth * 100 + width);
      for (int i = 0; i < 2000; ++i) {
        const u64 key = innet::uniform_below(rng, 300);
        const auto weight = static_cast<std::int32_t>(innet::uniform_below(rng, 11)) - 3;
        const auto h = innet::make_hash_family(bytes_of(key), 3);
        split.update(h, weight);
        REQUIRE(fused.update_and_estimate(h, weight) == split.estimate(h));
      }
      CHECK(fused == split);
    }
  }
}

TEST_CASE("univmon equality compares contents, not the candidate layout") {
  const stream& st = shared_stream();
  const um s = build(default_config(), std::span(st.keys).first(30'000));
  // Deserialization inserts candidates in canonical order, not arrival order, so slots and heap
  // positions differ from the original's; the sketches are still equal.
  const um back = value_of(um::deserialize(s.serialize()));
  CHECK(back == s);
  um changed = back;
  add(changed, st.keys[0]);
  CHECK_FALSE(changed == s);
  um::config other = default_config();
  other.seed = 12;
  CHECK_FALSE(make(other) == make(default_config()));
  CHECK(make(default_config()) == make(default_config()));
  // Same counters, different candidates: with one slot, a tie keeps whichever key came first.
  um x = make({1, 3, 1024, 1, 4});
  um y = x;
  add(x, 1);
  add(x, 2);
  add(y, 2);
  add(y, 1);
  REQUIRE(x.level(0) == y.level(0));
  REQUIRE(key_of(x.level_heavy_hitters(0).at(0)) == 1);
  REQUIRE(key_of(y.level_heavy_hitters(0).at(0)) == 2);
  CHECK_FALSE(x == y);
  CHECK(s.epsilon() == s.level(0).epsilon());
  CHECK(s.delta() == s.level(0).delta());
}

// heavy_hitters' threshold is fraction * total_weight(): exact for an insert-only stream. The
// G-sum l1() is an estimate and may even be negative; a negative threshold would report every
// positive candidate.
TEST_CASE("univmon heavy hitter threshold is the exact total weight, not the G-sum") {
  const stream& st = shared_stream();
  const um s = build(default_config(), st.keys);
  const auto n = static_cast<double>(st.keys.size());
  REQUIRE(s.total_weight() == st.keys.size());
  REQUIRE(std::abs(s.l1() - n) > 0.005 * n);  // the two thresholds really differ
  const auto level0 = s.level_heavy_hitters(0);
  REQUIRE(level0.size() > 20);
  // Fractions that put the threshold just below and just above the k-th candidate's estimate.
  for (const usize k : {usize{3}, usize{10}, usize{20}}) {
    for (const double nudge : {-0.25, 0.25}) {
      const double fraction = (level0[k].estimate + nudge) / n;
      std::vector<um::heavy_hitter> expected;
      for (const auto& h : level0)
        if (h.estimate > 0 && h.estimate >= fraction * n) expected.push_back(h);
      INFO("k ", k, " nudge ", nudge);
      CHECK(s.heavy_hitters(fraction) == expected);
      CHECK(expected.size() == (nudge < 0 ? k + 1 : k));
    }
  }

  // A turnstile stream whose G-sum L1 is negative. Two levels, one candidate per level; A and B
  // reach level 1, C only level 0; no collisions among three keys in 1024 columns.
  //   B +10: both levels keep B (10).      C +11: level 0 keeps C (11).
  //   C -5:  level 0's C drops to 6.       A +8:  level 0 takes A (8 > 6); level 1 keeps B (10).
  //   B -10: level 1's B drops to 0; level 0 refuses B (0).
  // G-sum: Y_1 = |0| = 0; Y_0 = 2 * 0 - |8| = -8 (A belongs to level 1 too).
  um t = make({2, 3, 1024, 1, 9});
  u64 a = 1, b = 2, c = 3;
  while (t.levels_of(bytes_of(a)) != 2)
    ++a;
  b = a + 1;
  while (t.levels_of(bytes_of(b)) != 2)
    ++b;
  while (t.levels_of(bytes_of(c)) != 1)
    ++c;
  add(t, b, 10);
  add(t, c, 11);
  add(t, c, -5);
  add(t, a, 8);
  add(t, b, -10);
  REQUIRE(t.estimate(bytes_of(a)) == 8);
  REQUIRE(t.estimate(bytes_of(b)) == 0);
  REQUIRE(t.estimate(bytes_of(c)) == 6);
  CHECK(t.l1() == -8);
  // True L1 is 14, A holds 8/14 = 57% of it: not a 90% heavy hitter. A threshold of 0.9 * l1()
  // would report it; 0.9 * total_weight() (44) does not, and 0.1 * 44 does.
  CHECK(t.total_weight() == 44);
  CHECK(t.heavy_hitters(0.9).empty());
  const auto hh = t.heavy_hitters(0.1);
  REQUIRE(hh.size() == 1);
  CHECK(key_of(hh[0]) == a);
  CHECK(hh[0].estimate == 8);
}
