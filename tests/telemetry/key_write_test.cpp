// key_write against an independent index computation, a brute-force shadow of the slot owners,
// and the analytical success probability (simulation of the real store at several (M, N, k, b)).
#include "innet/telemetry/key_write.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

#include <xxhash.h>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/host/local_memory_region.hpp"

namespace {
using innet::errc;
using innet::u32;
using innet::u64;
using innet::host::local_memory_region;
using innet::telemetry::key_write;

template <class Store>
typename Store::value_type value_for(u64 key, u64 salt) {
  typename Store::value_type v{};
  u64 x = innet::detail::fmix64(key ^ salt) | 1;  // never all-zero
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<std::byte>(x >> (8 * (i % 8)));
    if (i % 8 == 7) x = innet::detail::fmix64(x + 1);
  }
  return v;
}

}  // namespace

TEST_CASE("key_write: the index function matches an independent XXH3-128 computation") {
  using store = key_write<16, 16, 4>;
  const u64 seed = 0xDA27;
  const auto s = store::create(1024, seed, 64);
  REQUIRE(s.ok());
  for (u64 key = 0; key < 200; ++key) {
    // Recomputed here from libxxhash and the documented formulas, not through hash_family.
    const XXH128_hash_t h = XXH3_128bits_withSeed(&key, sizeof key, seed);
    const u64 h1 = h.low64;
    const u64 h2 = h.high64 | 1;
    const auto p = s->slots_of(innet::object_bytes(key));
    for (u32 i = 0; i < 4; ++i)
      CHECK(p.slot[i] == (h1 + i * h2) >> (64 - 10));
    CHECK(p.checksum == 1 + innet::detail::fmix64(h1 + 4 * h2) % 0xFFFF);
    // The writer's offsets are the reader's slots.
    const auto w = s->writes(innet::object_bytes(key), value_for<store>(key, 1));
    for (u32 i = 0; i < 4; ++i) {
      CHECK(w[i].offset == 64 + p.slot[i] * 16);
      CHECK(store::checksum_of(w[i].bytes) == p.checksum);
    }
  }
}

TEST_CASE("key_write: a writer and a separately built reader agree, another seed finds nothing") {
  using store = key_write<32, 32, 3>;
  std::vector<u64> words(store::slot_bytes * 65536 / 8 + 2);
  local_memory_region region(words);
  const auto writer = store::create(65536, 7, 16);
  const auto reader = store::create(65536, 7, 16);
  const auto stranger = store::create(65536, 8, 16);
  REQUIRE((writer.ok() && reader.ok() && stranger.ok()));
  for (u64 key = 0; key < 300; ++key)
    REQUIRE(writer->put(region, innet::object_bytes(key), value_for<store>(key, 2)) == errc::ok);
  int full = 0;
  for (u64 key = 0; key < 300; ++key) {
    const auto r = reader->get(region, innet::object_bytes(key));
    REQUIRE(r.ok());
    CHECK(r->value == value_for<store>(key, 2));
    full += r->agreement == 3 ? 1 : 0;
    CHECK(stranger->get(region, innet::object_bytes(key)).error() == errc::not_found);
  }
  CHECK(full >= 290);  // 300 keys in 65536 slots: almost no overwrites
  const u64 absent = 1'000'000;
  CHECK(reader->get(region, innet::object_bytes(absent)).error() == errc::not_found);
}

TEST_CASE("key_write: rejects a slot count that is not a power of two, and out-of-range regions") {
  CHECK(!key_write<8, 8, 2>::create(1000, 0).ok());
  CHECK(!key_write<8, 8, 2>::create(1, 0).ok());
  std::vector<u64> words(8);  // 64 bytes: too small for 16 slots of 8 bytes
  local_memory_region region(words);
  const auto s = key_write<8, 8, 2>::create(16, 0);
  REQUIRE(s.ok());
  bool some_failed = false;
  for (u64 key = 0; key < 20; ++key) {
    const auto p = s->slots_of(innet::object_bytes(key));
    const bool outside = p.slot[0] >= 8 || p.slot[1] >= 8;
    const errc e = s->put(region, innet::object_bytes(key), key_write<8, 8, 2>::value_type{});
    CHECK((e == errc::out_of_range) == outside);
    some_failed = some_failed || outside;
  }
  CHECK(some_failed);
}

TEST_CASE("key_write: vote keeps matching checksums, majority wins, ties are reported") {
  using store = key_write<8, 8, 4>;
  const auto a = store::value_type{std::byte{1}};
  const auto b = store::value_type{std::byte{2}};
  std::array<store::slot_type, 4> c = {store::encode(9, a), store::encode(9, b),
                                       store::encode(9, a), store::encode(5, b)};
  auto r = store::vote(c, 9);
  REQUIRE(r.ok());
  CHECK(r->value == a);
  CHECK(r->agreement == 2);
  CHECK(r->candidates == 3);
  c[2] = store::encode(3, a);  // now one vote each for a and b
  CHECK(store::vote(c, 9).error() == errc::checksum_mismatch);
  CHECK(store::vote(c, 77).error() == errc::not_found);
  // A key has Redundancy slots; more candidates than that is the caller's mistake.
  std::array<store::slot_type, 5> too_many{};
  too_many.fill(store::encode(9, a));
  CHECK(store::vote(too_many, 9).error() == errc::out_of_range);
}

namespace {

struct sim_point {
  double analytic = 0;
  u64 successes = 0;
  u64 trials = 0;
};

// Simulates the real store: `rounds` independent stores (different seeds) each receive `keys` keys
// in order; every key is then queried, with k = keys written after it. Queries are binned by k.
// A shadow array records which key last wrote each slot, so false matches (a slot of another
// key with our checksum) are counted exactly.
template <class Store>
void simulate(u64 slots, u64 keys, int rounds, int bins, double allowance = 0.01) {
  constexpr u32 n = Store::redundancy;
  std::vector<sim_point> bin(static_cast<std::size_t>(bins));
  double false_expected = 0;
  u64 false_seen = 0;
  double overwritten_expected = 0;
  u64 overwritten_seen = 0;
  std::vector<u64> words(slots * Store::slot_bytes / 8);
  std::vector<u64> owner(slots);
  for (int round = 0; round < rounds; ++round) {
    std::fill(words.begin(), words.end(), 0);
    std::fill(owner.begin(), owner.end(), ~u64{0});
    local_memory_region region(words);
    const auto s = Store::create(slots, 0x5EED0000u + static_cast<u64>(round));
    REQUIRE(s.ok());
    const u64 salt = static_cast<u64>(round) << 40;
    for (u64 i = 0; i < keys; ++i) {
      const u64 key = salt + i;
      REQUIRE(s->put(region, innet::object_bytes(key), value_for<Store>(key, 3)) == errc::ok);
      for (u64 slot : s->slots_of(innet::object_bytes(key)).slot)
        owner[slot] = i;
    }
    for (u64 i = 0; i < keys; ++i) {
      const u64 key = salt + i;
      const u64 since = keys - 1 - i;
      const auto r = s->get(region, innet::object_bytes(key));
      const bool ok = r.ok() && r->value == value_for<Store>(key, 3);
      sim_point& b = bin[static_cast<std::size_t>(since * static_cast<u64>(bins) / keys)];
      b.analytic +=
          innet::telemetry::key_write_success_probability(slots, n, since, Store::checksum_bits);
      b.successes += ok ? 1 : 0;
      ++b.trials;
      const auto p = s->slots_of(innet::object_bytes(key));
      std::vector<u64> seen;
      u64 ours = 0;        // the key's slots that still hold its write
      u64 false_here = 0;  // slots of later keys that carry this key's checksum
      for (u64 slot : p.slot) {
        if (std::find(seen.begin(), seen.end(), slot) != seen.end()) continue;
        seen.push_back(slot);
        typename Store::slot_type bytes{};
        REQUIRE(region.read(s->offset_of(slot), bytes) == errc::ok);
        overwritten_seen += owner[slot] != i ? 1 : 0;
        ours += owner[slot] == i ? 1 : 0;
        if (owner[slot] != i && Store::checksum_of(bytes) == p.checksum) ++false_here;
      }
      false_seen += false_here;
      // Against the owner shadow: the candidates are exactly our surviving slots and the false
      // matches; our value gets all our votes, and a wrong value only false matches' votes.
      // With no false match the answer is our value, or not_found when nothing of ours is left.
      if (r.ok()) {
        CHECK(r->candidates == ours + false_here);
        if (r->value == value_for<Store>(key, 3)) {
          CHECK(r->agreement >= ours);
        } else {
          CHECK(r->agreement <= false_here);
        }
      } else if (false_here == 0) {
        CHECK(ours == 0);
        CHECK(r.error() == errc::not_found);
      }
      false_expected +=
          innet::telemetry::key_write_expected_false_matches(slots, n, since, Store::checksum_bits);
      overwritten_expected +=
          n * (1 - std::pow(1 - 1.0 / static_cast<double>(slots), n * static_cast<double>(since)));
    }
  }
  u64 all_successes = 0;
  u64 all_trials = 0;
  for (const sim_point& b : bin) {
    all_successes += b.successes;
    all_trials += b.trials;
  }
  const double mean_model =
      innet::telemetry::key_write_mean_success_probability(slots, n, keys, Store::checksum_bits);
  const double mean_measured = static_cast<double>(all_successes) / static_cast<double>(all_trials);
  MESSAGE("M=" << slots << " N=" << n << " b=" << Store::checksum_bits << " all " << keys
               << " keys of an epoch: analytic mean " << mean_model << " simulated "
               << mean_measured);
  CHECK(std::abs(mean_measured - mean_model) <=
        5 * std::sqrt(mean_model * (1 - mean_model) / static_cast<double>(all_trials)) +
            allowance / 2);
  for (int j = 0; j < bins; ++j) {
    const sim_point& b = bin[static_cast<std::size_t>(j)];
    const double t = static_cast<double>(b.trials);
    const double model = b.analytic / t;
    const double measured = static_cast<double>(b.successes) / t;
    const double se = std::sqrt(std::max(model * (1 - model), 1e-4) / t);
    MESSAGE("M=" << slots << " N=" << n << " b=" << Store::checksum_bits << " k in ["
                 << static_cast<u64>(j) * keys / static_cast<u64>(bins) << ","
                 << static_cast<u64>(j + 1) * keys / static_cast<u64>(bins) << "): analytic "
                 << model << " simulated " << measured << " (n=" << b.trials << ")");
    // 5 standard errors, plus `allowance` for the model's approximations (independent
    // survival, distinct slots per key, distinct wrong values), each O(N^2 / M) or smaller.
    CHECK(std::abs(measured - model) <= 5 * se + allowance);
  }
  MESSAGE("M=" << slots << " N=" << n << " b=" << Store::checksum_bits << ": false matches seen "
               << false_seen << ", expected " << false_expected << "; overwritten slots seen "
               << overwritten_seen << ", expected " << overwritten_expected);
  // Poisson count: 5 sigma plus 5% for the model.
  CHECK(std::abs(static_cast<double>(false_seen) - false_expected) <=
        5 * std::sqrt(false_expected) + 0.05 * false_expected + 3);
  // The same for overwritten slots; the model counts a key's N slots as distinct (off by about
  // N^2 / 2M of them, under 0.5% here), hence 1% for the model.
  CHECK(std::abs(static_cast<double>(overwritten_seen) - overwritten_expected) <=
        5 * std::sqrt(overwritten_expected) + 0.01 * overwritten_expected + 3);
}

}  // namespace

TEST_CASE("key_write: success probability matches simulation, M=1024 N=1 b=8") {
  simulate<key_write<8, 8, 1>>(1024, 2048, 64, 8);
}
TEST_CASE("key_write: success probability matches simulation, M=1024 N=2 b=4") {
  simulate<key_write<16, 4, 2>>(1024, 2048, 64, 8);
}
TEST_CASE("key_write: success probability matches simulation, M=1024 N=3 b=16") {
  simulate<key_write<16, 16, 3>>(1024, 2048, 64, 8);
}
TEST_CASE("key_write: success probability matches simulation, M=2048 N=4 b=6") {
  simulate<key_write<32, 6, 4>>(2048, 4096, 32, 8);
}

TEST_CASE("key_write: every query matches a brute-force shadow of slot owners") {
  // Keys are rewritten with new values (the latest must win). With 32-bit checksums a false
  // match is negligible here, so the outcome of each query is exactly predictable: found iff one
  // of its distinct slots is still its own, with agreement = the number of such slots.
  using store = key_write<16, 32, 3>;
  constexpr u64 slots = 2048;
  const auto s = store::create(slots, 0xB007);
  REQUIRE(s.ok());
  std::vector<u64> words(slots * store::slot_bytes / 8);
  local_memory_region region(words);
  std::vector<u64> owner(slots, ~u64{0});
  std::map<u64, u64> version;  // key -> how many times written (the value's salt)
  innet::xoshiro256ss rng(99);
  for (int i = 0; i < 3000; ++i) {
    const u64 key = rng() % 1500;
    const u64 v = ++version[key];
    REQUIRE(s->put(region, innet::object_bytes(key), value_for<store>(key, v)) == errc::ok);
    for (u64 slot : s->slots_of(innet::object_bytes(key)).slot)
      owner[slot] = key;
  }
  int found = 0;
  for (const auto& [key, v] : version) {
    const auto p = s->slots_of(innet::object_bytes(key));
    std::set<u64> own;
    for (u64 slot : p.slot) {
      if (owner[slot] == key) own.insert(slot);
    }
    const auto r = s->get(region, innet::object_bytes(key));
    if (own.empty()) {
      CHECK(r.error() == errc::not_found);
      continue;
    }
    REQUIRE(r.ok());
    CHECK(r->value == value_for<store>(key, v));
    CHECK(r->agreement == own.size());
    CHECK(r->candidates == own.size());
    ++found;
  }
  CHECK(found > 500);
}
TEST_CASE("key_write: success probability matches simulation in the high-success regime") {
  // 512 keys in 8192 slots (16 slots per key): failures are rare, so this checks the tail the
  // 99.9% target lives in.
  // N^2 / M ~ 0.001 here, so the model allowance shrinks to match.
  simulate<key_write<16, 16, 3>>(8192, 512, 32, 4, 0.002);
  simulate<key_write<8, 8, 2>>(8192, 1024, 32, 4, 0.002);
}
