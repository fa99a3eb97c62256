// count_sketch against brute-force exact counts: unbiased row estimates, the error bound at the
// stated probability, turnstile updates, exact merge and fold identities, burst == scalar.
#include "innet/sketch/count_sketch.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/workload/zipfian.hpp"

namespace {
using innet::u32;
using innet::u64;
using innet::usize;
using innet::sketch::count_sketch;
using cs32 = count_sketch<std::int32_t>;

struct item {
  u64 key;
  std::int32_t weight;
};

std::vector<item> zipf_stream(u64 seed, usize length, u64 universe, u32 max_weight = 1) {
  innet::xoshiro256ss rng(seed);
  const auto zipf = innet::workload::zipfian_generator::create(0, universe, 0.9).value();
  std::vector<item> out;
  out.reserve(length);
  for (usize i = 0; i < length; ++i) {
    const u64 key = zipf.next(rng);
    out.push_back({key, static_cast<std::int32_t>(1 + innet::uniform_below(rng, max_weight))});
  }
  return out;
}

std::map<u64, std::int64_t> exact_counts(const std::vector<item>& stream) {
  std::map<u64, std::int64_t> counts;
  for (const item& it : stream)
    counts[it.key] += it.weight;
  return counts;
}

double f2(const std::map<u64, std::int64_t>& counts) {
  double sum = 0;
  for (const auto& [key, count] : counts)
    sum += static_cast<double>(count) * static_cast<double>(count);
  return sum;
}

template <class Sketch>
void feed(Sketch& sketch, const std::vector<item>& stream) {
  for (const item& it : stream)
    sketch.update(innet::object_bytes(it.key), it.weight);
}

cs32 make(u32 depth, u32 width, u64 seed) {
  auto s = cs32::create(depth, width, seed);
  REQUIRE(s.ok());
  return *std::move(s);
}

std::int64_t truth_of(const std::map<u64, std::int64_t>& exact, u64 key) {
  const auto it = exact.find(key);
  return it == exact.end() ? 0 : it->second;
}
}  // namespace

TEST_CASE("count_sketch row estimates are unbiased with variance at most F2 / width") {
  // One stream, 400 seeds: the signed error of each row estimate averages to zero (within four
  // standard errors of its mean), and its variance respects the Charikar et al. bound. A
  // Count-Min-like (unsigned) row would be biased upward by about N / width = 31 here.
  const auto stream = zipf_stream(7, 8'000, 2'000);
  const auto exact = exact_counts(stream);
  const double total_f2 = f2(exact);
  constexpr u32 width = 256, depth = 3;
  double sum = 0, sum_sq = 0, bound_sum = 0;
  usize n = 0;
  std::vector<double> median_errors;
  for (u64 seed = 1; seed <= 400; ++seed) {
    auto sketch = make(depth, width, seed);
    feed(sketch, stream);
    for (u64 key = 0; key < 50; ++key) {
      const auto h = innet::make_hash_family(innet::object_bytes(key), seed);
      const double truth = static_cast<double>(truth_of(exact, key));
      for (u32 r = 0; r < depth; ++r) {
        const double error = sketch.row_estimate(h, r) - truth;
        sum += error;
        sum_sq += error * error;
        ++n;
      }
      bound_sum += (total_f2 - truth * truth) / width;  // this key's variance bound
      median_errors.push_back(sketch.estimate(h) - truth);
    }
  }
  const double mean = sum / n;
  const double variance = sum_sq / n - mean * mean;
  const double standard_error = std::sqrt(variance / n);
  CAPTURE(mean);
  CAPTURE(standard_error);
  CHECK(std::abs(mean) <= 4 * standard_error);
  // The variance is dominated by the few seeds where a heavy key shares the column (about 230
  // such events here, so the sample variance is within ~7% of its mean); 30% is over 4 sigma.
  // Observed: 3567 against 3446.
  const double bound = bound_sum / static_cast<double>(median_errors.size());
  CHECK(variance <= 1.3 * bound);
  CHECK(variance >= 0.7 * bound);
  // The median of unbiased rows is not exactly unbiased, but stays centred.
  double median_sum = 0;
  for (const double e : median_errors)
    median_sum += e;
  CHECK(std::abs(median_sum / median_errors.size()) <= 0.05 * std::sqrt(total_f2 / width));
}

TEST_CASE("count_sketch stays within its error bound with probability at least 1 - delta") {
  usize trials = 0, violations = 0;
  double delta = 0;
  for (u64 seed = 1; seed <= 200; ++seed) {
    const auto stream = zipf_stream(500 + seed, 4'000, 2'000, 3);
    const auto exact = exact_counts(stream);
    auto sketch = make(5, 64, seed);
    feed(sketch, stream);
    delta = sketch.delta();
    const double bound = sketch.error_bound();
    for (u64 key = 0; key < 100; ++key) {
      const auto k = innet::object_bytes(key);
      const double truth = static_cast<double>(truth_of(exact, key));
      ++trials;
      const double error = std::abs(sketch.estimate(k) - truth);
      if (error > bound) {
        ++violations;
      } else {
        CHECK(sketch.lower_bound(k) <= truth);
        CHECK(sketch.upper_bound(k) >= truth);
      }
    }
  }
  CAPTURE(violations);
  CHECK(delta == doctest::Approx(681.0 / 59049));  // P[Bin(5, 1/9) >= 3], by hand
  CHECK(static_cast<double>(violations) / static_cast<double>(trials) <= delta);
}

TEST_CASE("count_sketch l2_squared estimates F2") {
  const auto stream = zipf_stream(3, 50'000, 10'000, 4);
  auto sketch = make(5, 1024, 3);
  feed(sketch, stream);
  const double truth = f2(exact_counts(stream));
  CHECK(sketch.l2_squared() == doctest::Approx(truth).epsilon(0.15));
  CHECK(sketch.error_bound() == doctest::Approx(3 * std::sqrt(sketch.l2_squared() / 1024)));
  CHECK(sketch.epsilon() == doctest::Approx(3.0 / 32));
}

TEST_CASE("count_sketch takes negative weights: deleting a stream empties the sketch") {
  const auto stream = zipf_stream(9, 5'000, 1'000, 5);
  auto sketch = make(4, 300, 1);
  feed(sketch, stream);
  CHECK(std::ranges::any_of(sketch.counters(), [](std::int32_t c) { return c != 0; }));
  for (const item& it : stream)
    sketch.update(innet::object_bytes(it.key), -it.weight);
  CHECK(std::ranges::all_of(sketch.counters(), [](std::int32_t c) { return c == 0; }));
  u64 l1 = 0;
  for (const item& it : stream)
    l1 += static_cast<u64>(it.weight);
  CHECK(sketch.total_weight() == 2 * l1);  // sum of |weight|
}

TEST_CASE("count_sketch merge equals the sketch of the concatenated streams") {
  const auto a = zipf_stream(11, 5'000, 3'000, 4);
  const auto b = zipf_stream(12, 7'000, 3'000, 4);
  for (const u32 width : {4096U, 1000U}) {
    auto sa = make(5, width, 99);
    auto sb = make(5, width, 99);
    auto su = make(5, width, 99);
    feed(sa, a);
    feed(sb, b);
    feed(su, a);
    feed(su, b);
    REQUIRE(sa.merge(sb).ok());
    CHECK(sa == su);
    CHECK(std::ranges::equal(sa.counters(), su.counters()));
  }
}

TEST_CASE("count_sketch merge refuses incompatible sketches with the reason") {
  auto base = make(5, 1024, 1);
  base.update(innet::object_bytes(u64{7}), 3);
  const auto before = base;
  auto expect_refused = [&](const cs32& other, const std::string& reason) {
    const absl::Status s = base.merge(other);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).find(reason) != std::string::npos);
    CHECK(base == before);
  };
  expect_refused(make(3, 1024, 1), "dimensions differ (5x1024 vs 3x1024)");
  expect_refused(make(5, 2048, 1), "dimensions differ (5x1024 vs 5x2048)");
  expect_refused(make(5, 1024, 3), "seeds differ");
}

TEST_CASE("count_sketch fold equals the sketch built directly at the smaller width") {
  const auto stream = zipf_stream(31, 20'000, 10'000, 7);
  struct shape {
    u32 width;
    u32 halvings;
  };
  for (const shape s :
       {shape{4096, 1}, shape{4096, 4}, shape{4096, 12}, shape{3000, 3}, shape{2, 1}}) {
    const u32 width = s.width, halvings = s.halvings;
    CAPTURE(width);
    CAPTURE(halvings);
    auto wide = make(5, width, 77);
    auto narrow = make(5, width >> halvings, 77);
    feed(wide, stream);
    feed(narrow, stream);
    const auto folded = wide.fold(halvings);
    REQUIRE(folded.ok());
    CHECK(*folded == narrow);
  }
  CHECK(make(2, 3000, 1).fold(4).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(!make(2, 4096, 1).fold(13).ok());
}

TEST_CASE("count_sketch update_burst gives the counters of scalar updates") {
  const auto stream = zipf_stream(41, 1'000, 500);
  for (const u32 width : {4096U, 1000U, 1U << 17}) {  // 2^17: large enough to prefetch
    for (const u32 depth : {1U, 5U, 6U, 9U}) {
      std::vector<std::span<const std::byte>> keys;
      std::vector<innet::hash_family> hashes;
      for (const item& it : stream) {
        keys.push_back(innet::object_bytes(it.key));
        hashes.push_back(innet::make_hash_family(keys.back(), 5));
      }
      auto scalar = make(depth, width, 5);
      auto burst = make(depth, width, 5);
      auto hashed = make(depth, width, 5);
      for (const auto& k : keys)
        scalar.update(k);
      burst.update_burst(keys);
      hashed.update_burst(hashes);
      CHECK(burst == scalar);
      CHECK(hashed == scalar);
    }
  }
}

TEST_CASE("count_sketch estimate is the median of the row estimates") {
  const auto stream = zipf_stream(17, 3'000, 500, 9);
  for (const u32 depth : {1U, 2U, 5U, 6U}) {
    auto sketch = make(depth, 64, 2);
    feed(sketch, stream);
    for (u64 key = 0; key < 100; ++key) {
      const auto h = innet::make_hash_family(innet::object_bytes(key), 2);
      std::vector<std::int64_t> rows;
      for (u32 r = 0; r < depth; ++r) {
        // By hand from the counters: sign(r) * counters[r * width + index(r, width)].
        const std::int64_t c = sketch.counters()[r * 64 + h.index(r, 64)];
        rows.push_back(h.sign(r) * c);
        CHECK(sketch.row_estimate(h, r) == rows.back());
      }
      std::sort(rows.begin(), rows.end());
      const std::int64_t median =
          depth % 2 == 1 ? rows[depth / 2]
                         : static_cast<std::int64_t>(
                               std::floor((rows[depth / 2 - 1] + rows[depth / 2]) / 2.0));
      CHECK(sketch.estimate(h) == median);
    }
  }
}

TEST_CASE("count_sketch from_error picks width 9 / epsilon^2 and the shallowest adequate depth") {
  const auto s = cs32::from_error(0.1, 0.01, 4);
  REQUIRE(s.ok());
  CHECK(s->width() == 900);
  // P[Bin(d, 1/9) >= ceil(d/2)]: d=5 0.0115, d=6 0.0206 (even depths need only half), d=7 0.0040.
  CHECK(s->depth() == 7);
  CHECK(s->delta() <= 0.01);
  CHECK(s->epsilon() == doctest::Approx(0.1));
  CHECK(!cs32::from_error(0, 0.1, 1).ok());
  CHECK(!cs32::from_error(0.1, 1.5, 1).ok());
  CHECK(!cs32::from_error(1e-6, 0.1, 1).ok());  // width 9e12
}

TEST_CASE("count_sketch from_counters adopts exported counters and create checks dimensions") {
  auto original = make(3, 100, 8);
  feed(original, zipf_stream(51, 2'000, 300));
  const auto adopted = cs32::from_counters(3, 100, 8, original.counters(), original.total_weight());
  REQUIRE(adopted.ok());
  CHECK(*adopted == original);
  CHECK(!cs32::from_counters(3, 99, 8, original.counters(), 0).ok());
  CHECK(!cs32::create(0, 1, 1).ok());
  CHECK(!cs32::create(1, 0, 1).ok());
  CHECK(!cs32::create(65, 1, 1).ok());
}

TEST_CASE("count_sketch counters wrap like switch registers") {
  auto s = count_sketch<std::int8_t>::create(1, 1, 0).value();
  const auto h = innet::make_hash_family(innet::object_bytes(u64{1}), 0);
  for (int i = 0; i < 200; ++i)
    s.update(h, 1);
  // 200 * sign(0) modulo 2^8, as a two's complement int8.
  CHECK(s.counters()[0] == static_cast<std::int8_t>(static_cast<std::uint8_t>(200 * h.sign(0))));
}

namespace {

TEST_CASE("count_sketch row and row_estimate past the depth are empty and zero") {
  auto s = make(3, 16, 4);
  const auto h = innet::make_hash_family(innet::object_bytes(u64{7}), 4);
  s.update(h, 9);
  CHECK(s.row_estimate(h, 2) == 9);  // one flow: no collision, each row holds it exactly
  CHECK(s.row_estimate(h, 3) == 0);
  CHECK(s.row_estimate(h, ~u32{0}) == 0);
  CHECK(s.row(2).size() == 16);
  CHECK(s.row(3).empty());
}

TEST_CASE("count_sketch create refuses shapes over the counter byte cap") {
  CHECK(cs32::create(64, ~u32{0}, 1).status().code() == absl::StatusCode::kResourceExhausted);
}

}  // namespace
