// Append rings against a brute-force queue: wrap-around, every batch size 1..16, torn writes
// (a batch's bytes placed in two halves with a poll in between), and overrun detection.
#include "innet/telemetry/append.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

#include "innet/core/random.hpp"
#include "innet/host/local_memory_region.hpp"

namespace {
using innet::errc;
using innet::u32;
using innet::u64;
using innet::host::local_memory_region;
using ring = innet::telemetry::append_ring<16>;
using writer = innet::telemetry::append_writer<16>;
using reader = innet::telemetry::append_reader<16>;
using payload = ring::payload_type;

payload make_payload(u64 list, u64 seq) {
  payload p{};
  innet::xoshiro256ss rng(list * 1'000'003 + seq);
  for (auto& b : p)
    b = static_cast<std::byte>(rng());
  return p;
}

std::vector<payload> batch_of(u32 list, u64 first, u32 n) {
  std::vector<payload> b;
  for (u32 i = 0; i < n; ++i)
    b.push_back(make_payload(list, first + i));
  return b;
}

}  // namespace

TEST_CASE("append: random batches over several lists match a brute-force queue, with wrap-around") {
  constexpr u32 lists = 3;
  constexpr u32 capacity = 37;  // not a multiple of any batch size: batches straddle the end
  const auto r = ring::create(lists, capacity, 0xA99, 8);
  REQUIRE(r.ok());
  std::vector<u64> words(1 + r->region_bytes() / 8);
  local_memory_region region(words);
  std::vector<writer> writers;
  std::vector<reader> readers;
  std::vector<std::deque<payload>> truth(lists);
  for (u32 l = 0; l < lists; ++l) {
    writers.emplace_back(*r, l);
    readers.emplace_back(*r, l);
  }
  innet::xoshiro256ss rng(7);
  std::array<payload, 16> out{};
  u64 delivered = 0;
  for (int step = 0; step < 6000; ++step) {
    const u32 l = static_cast<u32>(rng() % lists);
    if (rng() % 2 == 0) {
      const u32 n = 1 + static_cast<u32>(rng() % 16);
      // The test keeps the writer within a lap of the reader (no overrun here).
      if (writers[l].head() + n - readers[l].tail() > capacity) continue;
      const auto b = batch_of(l, writers[l].head(), n);
      REQUIRE(writers[l].append(region, std::span<const payload>(b)) == errc::ok);
      truth[l].insert(truth[l].end(), b.begin(), b.end());
    } else {
      const auto got = readers[l].poll(region, out);
      if (truth[l].empty()) {
        CHECK(got.error() == errc::would_block);
        continue;
      }
      REQUIRE(got.ok());
      for (u32 i = 0; i < *got; ++i) {
        CHECK(out[i] == truth[l].front());
        truth[l].pop_front();
      }
      delivered += *got;
    }
  }
  CHECK(delivered > 10000);
  CHECK(words[0] == 0);                     // nothing below base
  CHECK(readers[0].tail() > 3 * capacity);  // wrapped several times
}

TEST_CASE(
    "append: every batch size 1..16 is one write except across the end, and is read back whole") {
  const auto r = ring::create(1, 64, 1);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region region(words);
  writer w(*r, 0);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  for (int lap = 0; lap < 3; ++lap) {
    for (u32 n = 1; n <= 16; ++n) {
      const auto b = batch_of(0, w.head(), n);
      const auto plan = r->plan(0, w.head(), std::span<const payload>(b));
      REQUIRE(plan.ok());
      const bool straddles = w.head() % 64 + n > 64;
      CHECK(plan->segment_count == (straddles ? 2u : 1u));
      REQUIRE(w.append(region, std::span<const payload>(b)) == errc::ok);
      const auto got = rd.poll(region, out);
      REQUIRE(got.ok());
      REQUIRE(*got == n);
      for (u32 i = 0; i < n; ++i)
        CHECK(out[i] == b[i]);
      CHECK(rd.poll(region, out).error() == errc::would_block);
    }
  }
}

TEST_CASE("append: a batch written in two halves is not returned until both halves land") {
  const auto r = ring::create(1, 40, 2);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region region(words);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  u64 head = 0;
  for (int round = 0; round < 40; ++round) {
    const u32 n = 1 + static_cast<u32>(round % 16);
    const auto b = batch_of(0, head, n);
    const auto plan = r->plan(0, head, std::span<const payload>(b));
    REQUIRE(plan.ok());
    // Flatten the batch's writes into (offset, byte) pieces, then place them in two halves,
    // cutting inside an entry; odd rounds place the second half first.
    std::vector<std::pair<u64, std::byte>> bytes;
    for (u32 s = 0; s < plan->segment_count; ++s) {
      const auto& seg = plan->segments[s];
      for (u32 i = 0; i < seg.length; ++i)
        bytes.emplace_back(seg.offset + i, plan->bytes[seg.from + i]);
    }
    const std::size_t cut = bytes.size() / 2 + 5;
    const auto place = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i)
        REQUIRE(region.write(bytes[i].first, std::span<const std::byte>(&bytes[i].second, 1)) ==
                errc::ok);
    };
    if (round % 2 == 0) {
      place(0, cut);
    } else {
      place(cut, bytes.size());
    }
    CHECK(rd.poll(region, out).error() == errc::would_block);
    CHECK(rd.tail() == head);
    if (round % 2 == 0) {
      place(cut, bytes.size());
    } else {
      place(0, cut);
    }
    const auto got = rd.poll(region, out);
    REQUIRE(got.ok());
    REQUIRE(*got == n);
    for (u32 i = 0; i < n; ++i)
      CHECK(out[i] == b[i]);
    head += n;
  }
}

TEST_CASE("append: a single corrupted byte anywhere in a batch blocks it") {
  const auto r = ring::create(1, 32, 3);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region region(words);
  writer w(*r, 0);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  const auto b = batch_of(0, 0, 4);
  REQUIRE(w.append(region, std::span<const payload>(b)) == errc::ok);
  auto* bytes = reinterpret_cast<std::byte*>(words.data());
  for (u32 i = 0; i < 4 * ring::entry_bytes; i += 7) {
    bytes[i] ^= std::byte{0x10};
    CHECK(rd.poll(region, out).error() == errc::would_block);
    bytes[i] ^= std::byte{0x10};
  }
  CHECK(rd.poll(region, out).value_or(0) == 4);
}

TEST_CASE("append: a writer that laps the reader is reported as an overrun") {
  const auto r = ring::create(2, 20, 4);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region region(words);
  writer w(*r, 1);
  reader rd(*r, 1);
  reader other(*r, 0);
  std::array<payload, 16> out{};
  for (int i = 0; i < 5; ++i) {
    const auto b = batch_of(1, w.head(), 5);
    REQUIRE(w.append(region, std::span<const payload>(b)) == errc::ok);
  }
  CHECK(rd.poll(region, out).error() == errc::out_of_range);
  CHECK(rd.tail() == 0);
  CHECK(other.poll(region, out).error() == errc::would_block);  // list 0 untouched
  rd.reset(20);  // resume where the surviving entries start
  const auto got = rd.poll(region, out);
  REQUIRE(got.ok());
  CHECK(*got == 5);
  CHECK(out[0] == make_payload(1, 20));
}

TEST_CASE("append: refuses empty or oversized batches and bad shapes") {
  CHECK(!ring::create(0, 32, 0).ok());
  CHECK(!ring::create(1, 8, 0).ok());
  CHECK(!ring::create(1, 32, 0, 4).ok());
  const auto r = ring::create(1, 32, 0);
  REQUIRE(r.ok());
  std::vector<payload> none;
  std::vector<payload> many(17);
  CHECK(r->plan(0, 0, std::span<const payload>(none)).error() == errc::malformed);
  CHECK(r->plan(0, 0, std::span<const payload>(many)).error() == errc::malformed);
  CHECK(r->plan(1, 0, std::span<const payload>(many).first(1)).error() == errc::out_of_range);
}
