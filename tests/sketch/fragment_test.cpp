// Fragments: seeds per node, the wire format (checked field by field against the diagram in
// fragment.hpp), round trips for Count-Min and Count Sketch, rejection of every truncation and
// of corruption anywhere, and the sampling slots (which partition the flows).
#include "innet/sketch/fragment.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/wire.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"

namespace {

using innet::u16;
using innet::u32;
using innet::u64;
using innet::sketch::count_min;
using innet::sketch::count_sketch;
using innet::sketch::fragment;
using innet::sketch::fragment_header;
using innet::sketch::fragment_seed;
using innet::sketch::fragment_slot;

using cm_fragment = fragment<count_min<u32>>;
using cs_fragment = fragment<count_sketch<std::int32_t>>;

std::array<std::byte, 8> key_of(u64 i) {
  std::array<std::byte, 8> k{};
  innet::store_be<u64>(k.data(), i);
  return k;
}

fragment_header header_for(u32 node, u64 seed) {
  fragment_header h;
  h.node = node;
  h.epoch = 3;
  h.begin_ns = 1000;
  h.end_ns = 2000;
  h.seed = seed;
  return h;
}

cm_fragment filled_cm(u32 node, u32 width, u64 packets) {
  const u64 seed = fragment_seed(42, node);
  auto f = cm_fragment::create(header_for(node, seed), *count_min<u32>::create(3, width, seed));
  REQUIRE(f.ok());
  for (u64 i = 0; i < packets; ++i) {
    const auto k = key_of(i % 37);
    CHECK(f->update(innet::make_hash_family(k, seed)));
  }
  return *std::move(f);
}

static_assert(fragment_seed(1, 0) != fragment_seed(1, 1));
static_assert(fragment_seed(1, 0) != fragment_seed(2, 0));

TEST_CASE("fragment_seed gives every node its own seed") {
  std::set<u64> seen;
  for (u64 base : {0ULL, 1ULL, 0xFFFFFFFFFFFFFFFFULL}) {
    for (u32 node = 0; node < 1000; ++node)
      seen.insert(fragment_seed(base, node));
  }
  CHECK(seen.size() == 3000);
}

TEST_CASE("fragment wire layout matches the header diagram") {
  const cm_fragment f = filled_cm(7, 16, 100);
  const std::vector<std::byte> bytes = f.serialize();
  const std::byte* b = bytes.data();
  REQUIRE(bytes.size() > 56);
  CHECK(innet::load_be<u32>(b + 0) == 0x494E4652U);  // "INFR"
  CHECK(innet::load_be<std::uint8_t>(b + 4) == 1);
  CHECK(innet::load_be<std::uint8_t>(b + 5) == 0);
  CHECK(innet::load_be<u16>(b + 6) == 0);
  CHECK(innet::load_be<u32>(b + 8) == 7);
  CHECK(innet::load_be<u32>(b + 12) == 3);
  CHECK(innet::load_be<u64>(b + 16) == 1000);
  CHECK(innet::load_be<u64>(b + 24) == 2000);
  CHECK(innet::load_be<u64>(b + 32) == fragment_seed(42, 7));
  CHECK(innet::load_be<u16>(b + 40) == 1);
  CHECK(innet::load_be<u16>(b + 42) == 0);
  const std::vector<std::byte> blob = f.sketch().serialize();
  CHECK(innet::load_be<u32>(b + 44) == blob.size());
  CHECK(innet::load_be<u64>(b + 48) == innet::xxh3_64(std::span(bytes).first(48), 0));
  CHECK(std::equal(blob.begin(), blob.end(), bytes.begin() + 56, bytes.end()));
}

TEST_CASE("fragment round-trips Count-Min and Count Sketch") {
  const cm_fragment f = filled_cm(2, 64, 500);
  auto back = cm_fragment::deserialize(f.serialize());
  REQUIRE(back.ok());
  CHECK(back->header() == f.header());
  CHECK(back->sketch() == f.sketch());

  fragment_header h = header_for(9, fragment_seed(5, 9));
  h.slots = 4;
  h.slot = 2;
  h.begin_ns = 2000;  // sub-epoch 2 of [0, 4000)
  h.end_ns = 3000;
  auto cs = cs_fragment::create(h, *count_sketch<std::int32_t>::create(5, 32, h.seed));
  REQUIRE(cs.ok());
  for (u64 i = 0; i < 300; ++i) {
    const auto k = key_of(i);
    (void)cs->update(innet::make_hash_family(k, h.seed), 1);
  }
  auto cs_back = cs_fragment::deserialize(cs->serialize());
  REQUIRE(cs_back.ok());
  CHECK(cs_back->header() == h);
  CHECK(cs_back->sketch() == cs->sketch());
  // A Count-Min reader refuses a Count Sketch fragment (the sketch preamble's family).
  CHECK_FALSE(cm_fragment::deserialize(cs->serialize()).ok());
}

TEST_CASE("fragment deserialize rejects every truncation and any corrupted byte") {
  const std::vector<std::byte> bytes = filled_cm(1, 8, 50).serialize();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_FALSE(cm_fragment::deserialize(std::span(bytes).first(n)).ok());
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::vector<std::byte> bad = bytes;
    bad[i] ^= std::byte{0x10};
    CAPTURE(i);
    CHECK_FALSE(cm_fragment::deserialize(bad).ok());
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  CHECK_FALSE(cm_fragment::deserialize(longer).ok());
}

TEST_CASE("fragment create checks window, slot and seed") {
  const u64 seed = fragment_seed(1, 1);
  auto sk = *count_min<u32>::create(2, 8, seed);
  fragment_header h = header_for(1, seed);
  CHECK(cm_fragment::create(h, sk).ok());
  h.end_ns = h.begin_ns;
  CHECK_FALSE(cm_fragment::create(h, sk).ok());
  h = header_for(1, seed);
  h.slots = 2;
  h.slot = 2;
  CHECK_FALSE(cm_fragment::create(h, sk).ok());
  h.slots = 0;
  h.slot = 0;
  CHECK_FALSE(cm_fragment::create(h, sk).ok());
  h.slots = 4;
  h.slot = 3;  // the sampled epoch would start before time 0
  CHECK_FALSE(cm_fragment::create(h, sk).ok());
  h = header_for(1, seed + 1);
  CHECK_FALSE(cm_fragment::create(h, sk).ok());
}

TEST_CASE("fragment sampling slots are uniform and independent of the flow's buckets") {
  constexpr u32 slots = 4;
  const u64 seed = fragment_seed(3, 3);
  std::array<u32, slots> per_slot{};
  // slot x (row 0 column, of 4): if the slot reused a sketch row's bits, the flows of one slot
  // would crowd a few columns (the fragment's effective width would shrink by `slots`).
  std::array<std::array<u32, 4>, slots> by_column{};
  for (u64 i = 0; i < 8000; ++i) {
    const auto k = key_of(i);
    const auto h = innet::make_hash_family(k, seed);
    const u32 slot = fragment_slot(h, slots);
    REQUIRE(slot < slots);
    fragment_header fh = header_for(3, seed);
    fh.slots = slots;
    fh.slot = static_cast<u16>(slot);
    CHECK(fh.tracks(h));
    ++per_slot[slot];
    ++by_column[slot][h.index(0, 4)];
  }
  for (u32 c : per_slot) {
    CHECK(c > 1800);  // 2000 expected, sd ~39
    CHECK(c < 2200);
  }
  for (const auto& row : by_column) {
    for (u32 c : row) {
      CHECK(c > 380);  // 500 expected, sd ~21
      CHECK(c < 620);
    }
  }
  // An unsampled fragment tracks everything.
  CHECK(fragment_slot(innet::make_hash_family(key_of(1), seed), 1) == 0);
}

TEST_CASE("fragment represented window of a sampled sub-epoch is the whole epoch") {
  fragment_header h;
  h.begin_ns = 1250;
  h.end_ns = 1500;
  h.slots = 4;
  h.slot = 1;  // sub-epoch 1 of [1000, 2000)
  CHECK(h.represented_begin() == 1000);
  CHECK(h.represented_end() == 2000);
  CHECK(h.overlaps(1900, 2100));
  CHECK_FALSE(h.overlaps(2000, 3000));
  CHECK_FALSE(h.overlaps(0, 1000));
  h.slots = 1;
  h.slot = 0;
  CHECK(h.represented_begin() == 1250);
  CHECK_FALSE(h.overlaps(1000, 1250));
}

}  // namespace
