// key_increment against brute-force exact counts (never below the truth) and against
// sketch::count_min<u64> built from the same stream (the region's words equal its counters),
// with concurrent writers losing no update.
#include "innet/telemetry/key_increment.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <thread>
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
using innet::telemetry::key_increment;

// A region that is not batched, to run the one-by-one path too.
struct plain_region {
  local_memory_region* inner;
  u64 size() const { return inner->size(); }
  errc read(u64 o, std::span<std::byte> d) { return inner->read(o, d); }
  errc write(u64 o, std::span<const std::byte> s) { return inner->write(o, s); }
  innet::result<u64> fetch_add(u64 o, u64 v) { return inner->fetch_add(o, v); }
  innet::result<u64> compare_swap(u64 o, u64 e, u64 d) { return inner->compare_swap(o, e, d); }
};
static_assert(innet::memory_region<plain_region> && !innet::batched_memory_region<plain_region>);

// A batched region that accepts at most 3 posts and returns at most 2 completions per call, and
// completes out of order within a poll (reversed), to exercise partial posts and id matching.
struct stingy_region {
  local_memory_region* inner;
  std::vector<innet::memory_completion> pending;
  u64 size() const { return inner->size(); }
  errc read(u64 o, std::span<std::byte> d) { return inner->read(o, d); }
  errc write(u64 o, std::span<const std::byte> s) { return inner->write(o, s); }
  innet::result<u64> fetch_add(u64 o, u64 v) { return inner->fetch_add(o, v); }
  innet::result<u64> compare_swap(u64 o, u64 e, u64 d) { return inner->compare_swap(o, e, d); }
  std::size_t post(std::span<const innet::memory_op> ops) {
    const std::size_t n = std::min<std::size_t>(ops.size(), 3);
    for (std::size_t i = 0; i < n; ++i) {
      REQUIRE(inner->post(ops.subspan(i, 1)) == 1);
      innet::memory_completion c;
      REQUIRE(inner->poll(std::span(&c, 1)) == 1);
      pending.push_back(c);
    }
    return n;
  }
  std::size_t poll(std::span<innet::memory_completion> out) {
    const std::size_t n = std::min<std::size_t>({out.size(), pending.size(), 2});
    for (std::size_t i = 0; i < n; ++i)
      out[i] = pending[n - 1 - i];
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
};
static_assert(innet::batched_memory_region<stingy_region>);

}  // namespace

TEST_CASE("key_increment: estimates never below brute force, equal to count_min's") {
  constexpr u32 width = 8192;
  const u64 seed = 0x1CE;
  const auto ki = key_increment<4>::create(width, seed, 8);
  REQUIRE(ki.ok());
  std::vector<u64> words(1 + 4 * width);
  local_memory_region region(words);
  plain_region plain{&region};
  auto cm = innet::sketch::count_min<u64>::create(4, width, seed);
  REQUIRE(cm.ok());
  std::map<u64, u64> truth;
  innet::xoshiro256ss rng(42);
  for (int i = 0; i < 20000; ++i) {
    const u64 key = rng() % 3000;
    const u64 add = 1 + rng() % 5;
    // Alternate the batched and the one-by-one path: both must do the same adds.
    const errc e = i % 2 == 0 ? ki->increment(region, innet::object_bytes(key), add)
                              : ki->increment(plain, innet::object_bytes(key), add);
    REQUIRE(e == errc::ok);
    cm->update(innet::object_bytes(key), add);
    truth[key] += add;
  }
  CHECK(words[0] == 0);  // nothing written below base
  for (u32 i = 0; i < 4 * width; ++i)
    REQUIRE(words[1 + i] == cm->counters()[i]);
  u64 exact = 0;
  for (const auto& [key, count] : truth) {
    const auto q = ki->query(region, innet::object_bytes(key));
    REQUIRE(q.ok());
    CHECK(*q >= count);
    CHECK(*q == cm->estimate(innet::object_bytes(key)));
    CHECK(*ki->query(plain, innet::object_bytes(key)) == *q);
    exact += *q == count ? 1 : 0;
  }
  // 3000 keys, 8192 columns: a row is exact for a key with probability e^-0.37 = 0.69, and
  // the minimum is exact unless all 4 rows collide (about 1%).
  CHECK(exact * 10 > truth.size() * 9);
}

TEST_CASE("key_increment: concurrent writers lose no update") {
  constexpr u32 width = 64;  // small, so the writers hit the same counters all the time
  const auto ki = key_increment<3>::create(width, 9);
  REQUIRE(ki.ok());
  std::vector<u64> words(3 * width);
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      local_memory_region mine(words);  // each writer its own queue, shared words
      innet::xoshiro256ss rng(static_cast<u64>(t) + 100);
      for (int i = 0; i < per_thread; ++i) {
        const u64 key = rng() % 500;
        if (ki->increment(mine, innet::object_bytes(key), 1) != errc::ok) std::abort();
      }
    });
  }
  for (auto& th : pool)
    th.join();
  // Replay the same streams single-threaded: every counter must match exactly.
  std::vector<u64> replay(3 * width);
  local_memory_region ref(replay);
  std::map<u64, u64> truth;
  for (int t = 0; t < threads; ++t) {
    innet::xoshiro256ss rng(static_cast<u64>(t) + 100);
    for (int i = 0; i < per_thread; ++i) {
      const u64 key = rng() % 500;
      REQUIRE(ki->increment(ref, innet::object_bytes(key), 1) == errc::ok);
      ++truth[key];
    }
  }
  CHECK(words == replay);
  for (u32 r = 0; r < 3; ++r) {
    u64 row_sum = 0;
    for (u32 c = 0; c < width; ++c)
      row_sum += words[r * width + c];
    CHECK(row_sum == u64{threads} * per_thread);
  }
  local_memory_region view(words);
  for (const auto& [key, count] : truth)
    CHECK(*ki->query(view, innet::object_bytes(key)) >= count);
}

TEST_CASE("key_increment: refuses a misaligned base, reports out-of-range counters") {
  CHECK(!key_increment<2>::create(16, 0, 4).ok());
  CHECK(!key_increment<2>::create(0, 0).ok());
  const auto ki = key_increment<2>::create(16, 0);
  REQUIRE(ki.ok());
  std::vector<u64> words(16);  // one row only
  local_memory_region region(words);
  const u64 key = 5;
  CHECK(ki->increment(region, innet::object_bytes(key)) == errc::out_of_range);
  CHECK(ki->query(region, innet::object_bytes(key)).error() == errc::out_of_range);
}

TEST_CASE("key_increment: a region that takes partial posts and polls gets every update") {
  const auto ki = key_increment<8>::create(32, 3);
  REQUIRE(ki.ok());
  std::vector<u64> a(8 * 32);
  std::vector<u64> b(8 * 32);
  local_memory_region ra(a);
  local_memory_region rb(b);
  stingy_region stingy{&rb, {}};
  for (u64 key = 0; key < 500; ++key) {
    REQUIRE(ki->increment(ra, innet::object_bytes(key), key + 1) == errc::ok);
    REQUIRE(ki->increment(stingy, innet::object_bytes(key), key + 1) == errc::ok);
  }
  CHECK(a == b);
  for (u64 key = 0; key < 500; ++key)
    CHECK(*ki->query(stingy, innet::object_bytes(key)) == *ki->query(ra, innet::object_bytes(key)));
  CHECK(stingy.pending.empty());
}
