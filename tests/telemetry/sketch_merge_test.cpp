// sketch_merge: concurrent writers merging Count-Min sketches with FETCH_ADD give exactly
// count_min::merge of their sketches; columns merge piecewise; incompatible sketches are refused.
#include "innet/telemetry/sketch_merge.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/host/local_memory_region.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/workload/zipfian.hpp"

namespace {
using innet::errc;
using innet::u32;
using innet::u64;
using innet::host::local_memory_region;
using innet::sketch::count_min;
using innet::telemetry::sketch_merge;

template <class Counter>
count_min<Counter> writer_sketch(int writer, u32 depth, u32 width, u64 seed,
                                 std::map<u64, u64>* truth) {
  auto s = count_min<Counter>::create(depth, width, seed);
  REQUIRE(s.ok());
  innet::xoshiro256ss rng(static_cast<u64>(writer) * 7919 + 1);
  for (int i = 0; i < 20000; ++i) {
    const u64 key = rng() % 4000;
    const auto w = static_cast<Counter>(1 + rng() % 3);
    s->update(innet::object_bytes(key), w);
    if (truth != nullptr) (*truth)[key] += w;
  }
  return *std::move(s);
}

}  // namespace

TEST_CASE("sketch_merge: concurrent writers give exactly count_min::merge of their sketches") {
  constexpr u32 depth = 4;
  constexpr u32 width = 256;
  const u64 seed = 0x5EED;
  const auto m = sketch_merge::create(depth, width, seed, 16);
  REQUIRE(m.ok());
  std::vector<u64> words(2 + m->region_bytes() / 8);
  constexpr int writers = 6;
  std::vector<count_min<u64>> sketches;
  std::map<u64, u64> truth;
  for (int w = 0; w < writers; ++w)
    sketches.push_back(writer_sketch<u64>(w, depth, width, seed, &truth));
  // Each writer merges its sketch 5 times, interleaving with the others, so each counter sees
  // many concurrent FETCH_ADDs.
  constexpr int repeats = 5;
  std::vector<std::thread> pool;
  for (int w = 0; w < writers; ++w) {
    pool.emplace_back([&, w] {
      local_memory_region mine(words);
      for (int k = 0; k < repeats; ++k) {
        if (m->merge(mine, sketches[static_cast<std::size_t>(w)]) != errc::ok) std::abort();
      }
    });
  }
  for (auto& t : pool)
    t.join();
  count_min<u64> expected = sketches[0];
  for (int k = 1; k < repeats; ++k)
    REQUIRE(expected.merge(sketches[0]).ok());
  for (int w = 1; w < writers; ++w) {
    for (int k = 0; k < repeats; ++k)
      REQUIRE(expected.merge(sketches[static_cast<std::size_t>(w)]).ok());
  }
  local_memory_region view(words);
  const auto merged = m->read(view);
  REQUIRE(merged.ok());
  CHECK(*merged == expected);
  CHECK(words[0] == 0);
  CHECK(words[1] == 0);  // nothing below base
  for (const auto& [key, count] : truth)
    CHECK(merged->estimate(innet::object_bytes(key)) >= repeats * count);
}

TEST_CASE("sketch_merge: 32-bit switch sketches merged column by column equal the 64-bit sketch") {
  constexpr u32 depth = 3;
  constexpr u32 width = 128;
  const auto m = sketch_merge::create(depth, width, 11);
  REQUIRE(m.ok());
  std::vector<u64> words(m->region_bytes() / 8);
  local_memory_region region(words);
  auto expected = count_min<u64>::create(depth, width, 11);
  REQUIRE(expected.ok());
  for (int w = 0; w < 3; ++w) {
    const auto s = writer_sketch<u32>(w, depth, width, 11, nullptr);
    for (u32 c = 0; c < width; ++c) {
      std::vector<u32> column;
      for (u32 r = 0; r < depth; ++r)
        column.push_back(s.row(r)[c]);
      REQUIRE(m->merge_column(region, c, std::span<const u32>(column),
                              c == 0 ? s.total_weight() : 0) == errc::ok);
    }
    const auto s64 = writer_sketch<u64>(w, depth, width, 11, nullptr);
    REQUIRE(expected->merge(s64).ok());
  }
  const auto merged = m->read(region);
  REQUIRE(merged.ok());
  CHECK(*merged == *expected);
}

TEST_CASE("sketch_merge: refuses sketches of another shape, seed or update rule") {
  const auto m = sketch_merge::create(2, 64, 1);
  REQUIRE(m.ok());
  std::vector<u64> words(m->region_bytes() / 8);
  local_memory_region region(words);
  CHECK(m->merge(region, *count_min<u64>::create(2, 32, 1)) == errc::incompatible);
  CHECK(m->merge(region, *count_min<u64>::create(3, 64, 1)) == errc::incompatible);
  CHECK(m->merge(region, *count_min<u64>::create(2, 64, 2)) == errc::incompatible);
  CHECK(m->merge(region,
                 *count_min<u64>::create(2, 64, 1, innet::sketch::update_rule::conservative)) ==
        errc::incompatible);
  const std::vector<u32> short_column(1);
  CHECK(m->merge_column(region, 0, std::span<const u32>(short_column)) == errc::incompatible);
  CHECK(!sketch_merge::create(2, 64, 1, 4).ok());
  for (u64 w : words)
    CHECK(w == 0);
}
