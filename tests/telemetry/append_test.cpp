// Append rings against a brute-force queue: wrap-around, every batch size 1..16, torn writes
// (a batch's bytes placed in two halves with a poll in between), overrun detection, WRITEs that
// report failure after landing in full, in part or not at all (the batch is resent as is), and
// leftovers of an unfinished batch at the tail.
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

namespace {

// A region whose writes can report failure: each write takes the next scripted outcome
// (`lands` = the bytes are placed, `ok` = success is reported); with no script left it behaves.
struct scripted_region {
  struct outcome {
    bool lands = true;
    bool ok = true;
  };
  local_memory_region& inner;
  std::deque<outcome> script{};
  u64 writes = 0;

  u64 size() const { return inner.size(); }
  errc read(u64 offset, std::span<std::byte> dst) { return inner.read(offset, dst); }
  errc write(u64 offset, std::span<const std::byte> src) {
    ++writes;
    outcome o{};
    if (!script.empty()) {
      o = script.front();
      script.pop_front();
    }
    if (o.lands) REQUIRE(inner.write(offset, src) == errc::ok);
    return o.ok ? errc::ok : errc::unavailable;
  }
  innet::result<u64> fetch_add(u64 offset, u64 v) { return inner.fetch_add(offset, v); }
  innet::result<u64> compare_swap(u64 offset, u64 expected, u64 desired) {
    return inner.compare_swap(offset, expected, desired);
  }
};

}  // namespace

TEST_CASE("append: a write that landed but reported failure is resent as is, not replaced") {
  const auto r = ring::create(1, 32, 7);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region lr(words);
  scripted_region region{lr};
  writer w(*r, 0);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  const auto first = batch_of(0, 0, 4);
  region.script.push_back({.lands = true, .ok = false});
  CHECK(w.append(region, std::span<const payload>(first)) == errc::unavailable);
  CHECK(w.pending());
  CHECK(w.head() == 0);
  // The reader may already deliver the batch that "failed".
  auto got = rd.poll(lr, out);
  REQUIRE(got.ok());
  REQUIRE(*got == 4);
  for (u32 i = 0; i < 4; ++i)
    CHECK(out[i] == first[i]);
  // New payloads are refused, and nothing is written, until the pending batch is finished.
  const auto other = batch_of(0, 100, 2);
  const u64 writes = region.writes;
  CHECK(w.append(region, std::span<const payload>(other)) == errc::would_block);
  CHECK(region.writes == writes);
  CHECK(w.retry(region) == errc::ok);
  CHECK(!w.pending());
  CHECK(w.head() == 4);
  CHECK(rd.poll(lr, out).error() == errc::would_block);  // the resend delivered nothing twice
  const auto next = batch_of(0, 4, 3);
  REQUIRE(w.append(region, std::span<const payload>(next)) == errc::ok);
  got = rd.poll(lr, out);
  REQUIRE(got.ok());
  REQUIRE(*got == 3);
  for (u32 i = 0; i < 3; ++i)
    CHECK(out[i] == next[i]);
  CHECK(w.retry(region) == errc::ok);  // nothing pending: a no-op
  CHECK(region.writes == writes + 2);
}

TEST_CASE("append: a wrapping batch whose second write failed is finished by retry") {
  const auto r = ring::create(1, 16, 8);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region lr(words);
  scripted_region region{lr};
  writer w(*r, 0);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  const auto lead = batch_of(0, 0, 14);
  REQUIRE(w.append(region, std::span<const payload>(lead)) == errc::ok);
  REQUIRE(rd.poll(lr, out).value_or(0) == 14);
  // Seqs 14..17 straddle the end: segment 0 lands, segment 1 neither lands nor succeeds.
  const auto b = batch_of(0, 14, 4);
  region.script.push_back({.lands = true, .ok = true});
  region.script.push_back({.lands = false, .ok = false});
  CHECK(w.append(region, std::span<const payload>(b)) == errc::unavailable);
  CHECK(w.pending());
  CHECK(rd.poll(lr, out).error() == errc::would_block);
  CHECK(rd.tail() == 14);
  CHECK(w.retry(region) == errc::ok);
  const auto got = rd.poll(lr, out);
  REQUIRE(got.ok());
  REQUIRE(*got == 4);
  for (u32 i = 0; i < 4; ++i)
    CHECK(out[i] == b[i]);
}

TEST_CASE("append: random write failures lose, duplicate and reorder nothing") {
  // Every write lands or not, and reports success or not, at random; the caller retries the
  // pending batch on the next round or sends new payloads. The reader must deliver exactly the
  // batches the writer took, once each, and never report malformed.
  const auto r = ring::create(1, 23, 9);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region lr(words);
  scripted_region region{lr};
  writer w(*r, 0);
  reader rd(*r, 0);
  std::deque<payload> truth;
  std::array<payload, 16> out{};
  innet::xoshiro256ss rng(11);
  u64 taken = 0;
  u64 delivered = 0;
  for (int step = 0; step < 4000; ++step) {
    region.script.clear();
    for (int i = 0; i < 2; ++i) {
      // A write reported successful has landed (a reliable connection); a failed one may have.
      const bool ok = rng() % 3 != 0;
      region.script.push_back({.lands = ok || rng() % 2 == 0, .ok = ok});
    }
    if (rng() % 2 == 0) {
      if (w.pending()) {
        (void)w.retry(region);
      } else {
        const u32 n = 1 + static_cast<u32>(rng() % 8);
        if (w.head() + n - rd.tail() > r->capacity()) continue;  // stay within a lap
        const auto b = batch_of(0, taken, n);
        const errc e = w.append(region, std::span<const payload>(b));
        REQUIRE((e == errc::ok || e == errc::unavailable));
        truth.insert(truth.end(), b.begin(), b.end());
        taken += n;
      }
    } else {
      const auto got = rd.poll(lr, out);
      if (!got.ok()) {
        REQUIRE(got.error() == errc::would_block);
        continue;
      }
      for (u32 i = 0; i < *got; ++i) {
        REQUIRE(!truth.empty());
        CHECK(out[i] == truth.front());
        truth.pop_front();
      }
      delivered += *got;
    }
  }
  CHECK(delivered > 3 * r->capacity());
  CHECK(delivered + truth.size() == taken);
}

TEST_CASE("append: leftovers of an unfinished batch at the tail block instead of failing") {
  const auto r = ring::create(1, 32, 10);
  REQUIRE(r.ok());
  std::vector<u64> words(r->region_bytes() / 8);
  local_memory_region region(words);
  writer w(*r, 0);
  reader rd(*r, 0);
  std::array<payload, 16> out{};
  const auto lead = batch_of(0, 0, 2);
  REQUIRE(w.append(region, std::span<const payload>(lead)) == errc::ok);
  REQUIRE(rd.poll(region, out).value_or(0) == 2);
  // An abandoned 4-entry batch from seq 0 (e.g. a writer restarted with it pending) left its
  // entries 2 and 3: valid checks and the stamps the reader expects next, in the wrong places.
  const auto stale = batch_of(0, 50, 4);
  const auto old = r->plan(0, 0, std::span<const payload>(stale));
  REQUIRE(old.ok());
  const auto place = [&](const ring::batch_write& bw, u64 first_seq, u32 from_entry, u32 to_entry) {
    for (u32 e = from_entry; e < to_entry; ++e)
      REQUIRE(region.write(r->offset_of(0, first_seq + e),
                           std::span<const std::byte>(bw.bytes).subspan(
                               e * ring::entry_bytes, ring::entry_bytes)) == errc::ok);
  };
  place(*old, 0, 2, 4);
  CHECK(rd.poll(region, out).error() == errc::would_block);  // pos 2 at the tail
  // The real batch for seqs 2..4 lands its first entry only: entry 3 is still the leftover.
  const auto b = batch_of(0, 2, 3);
  const auto now = r->plan(0, 2, std::span<const payload>(b));
  REQUIRE(now.ok());
  place(*now, 2, 0, 1);
  CHECK(rd.poll(region, out).error() == errc::would_block);  // size 4 pos 3 inside a 3-batch
  CHECK(rd.tail() == 2);
  place(*now, 2, 0, 3);
  const auto got = rd.poll(region, out);
  REQUIRE(got.ok());
  REQUIRE(*got == 3);
  for (u32 i = 0; i < 3; ++i)
    CHECK(out[i] == b[i]);
}
