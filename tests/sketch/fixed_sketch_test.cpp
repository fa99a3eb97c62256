// fixed_count_min / fixed_count_sketch (the switch, NIC and XDP fragments) hold exactly the
// counters of the run-time sketches for the same seed and dimensions, so the collector can adopt
// an exported fragment with from_counters.
#include "innet/sketch/fixed_sketch.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/core/xxh3.hpp"
#include "innet/net/five_tuple.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"

namespace {
using innet::u32;
using innet::u64;
namespace sk = innet::sketch;

// Flows as an XDP program would see them.
std::vector<innet::net::five_tuple> flows(u64 seed, int n) {
  innet::xoshiro256ss rng(seed);
  std::vector<innet::net::five_tuple> out;
  for (int i = 0; i < n; ++i) {
    const u64 a = rng() % 300;  // repeats, so counters accumulate
    out.push_back({.src_ip = static_cast<u32>(0x0A000000 + a),
                   .dst_ip = 0xC0A80102,
                   .src_port = static_cast<std::uint16_t>(1000 + a % 7),
                   .dst_port = 80,
                   .protocol = 6});
  }
  return out;
}

// The hash a BPF program computes: the freestanding XXH3-128 over the 13 key bytes.
innet::hash_family bpf_hash(const innet::net::five_tuple& t, u64 seed) {
  const auto bytes = t.to_bytes();
  std::array<innet::u8, 13> raw{};
  std::transform(bytes.begin(), bytes.end(), raw.begin(),
                 [](std::byte b) { return static_cast<innet::u8>(b); });
  return innet::hash_family(innet::xxh3_128(raw.data(), raw.size(), seed));
}
}  // namespace

static_assert(std::is_aggregate_v<sk::fixed_count_min<u32, 4, 1024>>);
static_assert(std::is_trivially_copyable_v<sk::fixed_count_min<u32, 4, 1024>>);
static_assert(std::is_standard_layout_v<sk::fixed_count_sketch<std::int32_t, 5, 512>>);
static_assert(sizeof(sk::fixed_count_min<u32, 4, 1024>) == 4 * 1024 * sizeof(u32));
static_assert(sizeof(sk::fixed_count_sketch<std::int16_t, 3, 100>) == 3 * 100 * 2);
static_assert(sk::fixed_count_min<innet::u8, 3, 5>::depth == 3);
static_assert(sk::fixed_count_min<innet::u8, 3, 5>::width == 5);

TEST_CASE("fixed_count_min holds the run-time count_min's counters for the same seed") {
  constexpr u64 seed = 0xD15C;
  const auto trace = flows(1, 5'000);
  // A power-of-two width (the run-time sketch takes its shift path) and one that is not.
  auto check = [&](auto& fixed, u32 width) {
    constexpr u32 depth = 4;
    auto runtime = sk::count_min<u32>::create(depth, width, seed).value();
    for (const auto& t : trace) {
      fixed.update(bpf_hash(t, seed));
      runtime.update(t.to_bytes());
    }
    CHECK(std::equal(std::begin(fixed.counters), std::end(fixed.counters),
                     runtime.counters().begin(), runtime.counters().end()));
    const auto adopted =
        sk::count_min<u32>::from_counters(depth, width, seed, fixed.counters, trace.size());
    REQUIRE(adopted.ok());
    CHECK(*adopted == runtime);
    for (const auto& t : trace)
      CHECK(fixed.estimate(bpf_hash(t, seed)) == runtime.estimate(t.to_bytes()));
  };
  auto pow2 = std::make_unique<sk::fixed_count_min<u32, 4, 4096>>();
  check(*pow2, 4096);
  auto odd = std::make_unique<sk::fixed_count_min<u32, 4, 1000>>();
  check(*odd, 1000);
}

TEST_CASE("fixed_count_min conservative and atomic updates match the run-time forms") {
  constexpr u64 seed = 9;
  const auto trace = flows(2, 3'000);
  auto conservative = std::make_unique<sk::fixed_count_min<u32, 3, 256>>();
  auto atomic = std::make_unique<sk::fixed_count_min<u32, 3, 256>>();
  auto plain = std::make_unique<sk::fixed_count_min<u32, 3, 256>>();
  auto runtime = sk::count_min<u32>::create(3, 256, seed, sk::update_rule::conservative).value();
  for (const auto& t : trace) {
    conservative->update_conservative(bpf_hash(t, seed), 2);
    atomic->update_atomic(bpf_hash(t, seed), 2);
    plain->update(bpf_hash(t, seed), 2);
    runtime.update(t.to_bytes(), 2);
  }
  CHECK(std::equal(std::begin(conservative->counters), std::end(conservative->counters),
                   runtime.counters().begin()));
  CHECK(std::equal(std::begin(atomic->counters), std::end(atomic->counters),
                   std::begin(plain->counters)));
}

TEST_CASE("fixed_count_sketch holds the run-time count_sketch's counters for the same seed") {
  constexpr u64 seed = 77;
  const auto trace = flows(3, 5'000);
  auto fixed = std::make_unique<sk::fixed_count_sketch<std::int32_t, 5, 1024>>();
  auto atomic = std::make_unique<sk::fixed_count_sketch<std::int32_t, 5, 1024>>();
  auto runtime = sk::count_sketch<std::int32_t>::create(5, 1024, seed).value();
  int i = 0;
  for (const auto& t : trace) {
    const std::int32_t weight = (i++ % 3) - 1;  // -1, 0, +1: turnstile updates
    fixed->update(bpf_hash(t, seed), weight);
    atomic->update_atomic(bpf_hash(t, seed), weight);
    runtime.update(t.to_bytes(), weight);
  }
  CHECK(std::equal(std::begin(fixed->counters), std::end(fixed->counters),
                   runtime.counters().begin(), runtime.counters().end()));
  CHECK(std::equal(std::begin(fixed->counters), std::end(fixed->counters),
                   std::begin(atomic->counters)));
  for (const auto& t : trace) {
    const auto h = bpf_hash(t, seed);
    CHECK(fixed->estimate(h) == runtime.estimate(t.to_bytes()));
    for (u32 r = 0; r < 5; ++r)
      CHECK(fixed->row_estimate(h, r) == runtime.row_estimate(h, r));
  }
  const auto adopted = sk::count_sketch<std::int32_t>::from_counters(5, 1024, seed, fixed->counters,
                                                                     runtime.total_weight());
  REQUIRE(adopted.ok());
  CHECK(*adopted == runtime);
}

namespace {
// Fragments are usable in constant evaluation (as generated P4 constants and static checks are).
constexpr std::int32_t constexpr_fragment() {
  sk::fixed_count_sketch<std::int32_t, 3, 16> s{};
  const innet::hash_family h(innet::hash128{123, 456});
  s.update(h, 5);
  s.update(h, -2);
  return s.estimate(h);
}
static_assert(constexpr_fragment() == 3);
}  // namespace

namespace {

TEST_CASE("fixed_count_sketch row_estimate past the depth is zero") {
  auto s = std::make_unique<sk::fixed_count_sketch<std::int32_t, 3, 16>>();
  const auto h = innet::make_hash_family(innet::object_bytes(u64{7}), 4);
  s->update(h, 9);
  CHECK(s->row_estimate(h, 2) == 9);  // a lone flow: every row holds it exactly
  CHECK(s->row_estimate(h, 3) == 0);
  CHECK(s->row_estimate(h, ~u32{0}) == 0);
}

}  // namespace
