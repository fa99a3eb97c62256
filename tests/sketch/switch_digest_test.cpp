// switch_digest: the CRCs against their published check values, the digest's construction, and
// the property it exists for: rows built from it are independent at power-of-two widths, within
// one fragment and across nodes, where the CRC-seeded constructions it replaces are not.
#include "innet/sketch/switch_digest.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "innet/core/hash_family.hpp"
#include "innet/core/random.hpp"
#include "innet/net/five_tuple.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/workload/flow_trace.hpp"

namespace {

using namespace innet;
using namespace innet::sketch;

constexpr u8 check_message[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};

// Compile time too: the P4 generator relies on constant evaluation.
static_assert(crc(crc32_iso_hdlc, check_message, 9) == 0xCBF43926);
static_assert(crc(crc32_iscsi, check_message, 9) == 0xE3069283);
static_assert(crc(crc64_xz, check_message, 9) == 0x995DC9BBDF1939FAull);

TEST_CASE("CRCs match the catalogue's check values for 123456789") {
  // Each spec carries the catalogue's check value; these are the published numbers again, so
  // a typo in one place fails here.
  struct expectation {
    const crc_spec* spec;
    u64 check;
  };
  const expectation cases[] = {
      {&crc32_iso_hdlc, 0xCBF43926},
      {&crc32_iscsi, 0xE3069283},
      {&crc32_base91_d, 0x87315576},
      {&crc32_autosar, 0x1697D06A},
      {&crc32_mpeg2, 0x0376E6E7},
      {&crc32_aixm, 0x3010BF7F},
      {&crc16_arc, 0xBB3D},
      {&crc64_xz, 0x995DC9BBDF1939FAull},
      {&crc64_ecma_182, 0x6C40DF5F0B497347ull},
  };
  for (const auto& c : cases) {
    INFO("poly ", c.spec->poly);
    CHECK(c.spec->check == c.check);
    CHECK(crc(*c.spec, check_message, 9) == c.check);
  }
  // The empty message leaves init ^ xorout (the register is never shifted).
  CHECK(crc(crc32_iso_hdlc, check_message, 0) == 0);
  CHECK(crc(crc64_xz, check_message, 0) == 0);
  CHECK(crc(crc32_mpeg2, check_message, 0) == 0xFFFFFFFF);
}

TEST_CASE("table-driven CRCs equal the bitwise definition for every spec and length") {
  const crc_spec* specs[] = {&crc32_iso_hdlc, &crc32_iscsi, &crc32_base91_d,
                             &crc32_autosar,  &crc32_mpeg2, &crc32_aixm,
                             &crc16_arc,      &crc64_xz,    &crc64_ecma_182};
  xoshiro256ss rng{8};
  std::array<u8, 64> message{};
  for (auto& b : message)
    b = static_cast<u8>(rng());
  for (const crc_spec* s : specs) {
    const crc_table table = make_crc_table(*s);
    for (std::size_t n = 0; n <= message.size(); ++n) {
      INFO("poly ", s->poly, ", ", n, " bytes");
      CHECK(crc(*s, table, message, n) == crc(*s, message, n));
    }
    CHECK(crc(*s, table, check_message, 9) == s->check);
  }
}

TEST_CASE("CRCs are affine over GF(2), which is why the digest does not seed them") {
  // crc(a ^ b) == crc(a) ^ crc(b) ^ crc(0) for equal lengths: the reason a CRC's initial value
  // cannot separate two nodes' collisions (see switch_digest.hpp).
  xoshiro256ss rng{5};
  for (int trial = 0; trial < 100; ++trial) {
    std::array<u8, 13> a{}, b{}, x{}, zero{};
    for (std::size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<u8>(rng());
      b[i] = static_cast<u8>(rng());
      x[i] = a[i] ^ b[i];
    }
    for (const crc_spec& s : switch_digest_lanes) {
      CHECK(crc(s, x, 13) == (crc(s, a, 13) ^ crc(s, b, 13) ^ crc(s, zero, 13)));
    }
  }
}

TEST_CASE("the switch digest is the documented combination of four CRC lanes") {
  // The README's example flow: 10.0.0.1:1234 -> 192.168.1.2:80/TCP.
  const net::five_tuple t{0x0A000001, 0xC0A80102, 1234, 80, 6};
  const auto key = t.to_bytes();
  const u64 seed = 0x1234'5678'9ABC'DEF0ull;
  const switch_seed p = switch_seed_params(seed);
  CHECK((p.multiplier_low & 1) == 1);
  CHECK((p.multiplier_high & 1) == 1);
  CHECK(p.multiplier_low != p.multiplier_high);

  const u64 l0 = crc(crc32_iso_hdlc, key, 13);
  const u64 l1 = crc(crc32_iscsi, key, 13);
  const u64 l2 = crc(crc32_base91_d, key, 13);
  const u64 l3 = crc(crc32_autosar, key, 13);
  const hash128 d = switch_digest(key, seed);
  CHECK(d.low == ((l0 << 32 | l1) * p.multiplier_low + p.addend_low));
  CHECK(d.high == ((l2 << 32 | l3) * p.multiplier_high + p.addend_high));
  CHECK(switch_digest(key, 13, p) == d);
  CHECK(switch_digest(key, seed + 1) != d);
}

// The linear part of the lanes, for the rank test: key -> (lane0 ++ lane1, lane2 ++ lane3) minus
// the lanes of the zero key (CRCs are affine, see above).
struct lanes128 {
  u64 low = 0;
  u64 high = 0;
  std::array<u8, 13> key{};  // the key difference these lanes belong to
};

lanes128 linear_lanes(const std::array<u8, 13>& key) {
  const std::array<u8, 13> zero{};
  u64 lane[4];
  for (int i = 0; i < 4; ++i)
    lane[i] = crc(switch_digest_lanes[i], key, 13) ^ crc(switch_digest_lanes[i], zero, 13);
  return {lane[0] << 32 | lane[1], lane[2] << 32 | lane[3], key};
}

// Gaussian elimination over GF(2) on the bits `use_high ? (low, high) : low`: returns the rank of
// the 104 unit keys' lanes and, when below 104, one nonzero key difference they map to zero.
std::pair<int, std::array<u8, 13>> rank_of_lanes(bool use_high) {
  std::vector<lanes128> basis(128);
  std::vector<bool> used(128, false);
  int rank = 0;
  std::array<u8, 13> kernel{};
  for (int bit = 0; bit < 104; ++bit) {
    std::array<u8, 13> unit{};
    unit[static_cast<std::size_t>(bit / 8)] = static_cast<u8>(1U << (bit % 8));
    lanes128 v = linear_lanes(unit);
    if (!use_high) v.high = 0;
    while (v.low != 0 || v.high != 0) {
      const int pivot =
          v.high != 0 ? 64 + 63 - std::countl_zero(v.high) : 63 - std::countl_zero(v.low);
      const auto p = static_cast<std::size_t>(pivot);
      if (!used[p]) {
        used[p] = true;
        basis[p] = v;
        ++rank;
        break;
      }
      v.low ^= basis[p].low;
      v.high ^= basis[p].high;
      for (std::size_t i = 0; i < 13; ++i)
        v.key[i] ^= basis[p].key[i];
    }
    if (v.low == 0 && v.high == 0) kernel = v.key;
  }
  return {rank, kernel};
}

TEST_CASE("the four lanes are injective on 13-byte keys, lanes 0 and 1 alone are not") {
  // What switch_digest.hpp claims from the polynomials' lcm (degree 127): the linear map from
  // the key's 104 bits to the 128 lane bits has full rank 104, so distinct keys never share all
  // four lanes.
  CHECK(rank_of_lanes(true).first == 104);
  // Row 0 sees only lanes 0 and 1, 64 bits: rank 64, so a 40-dimensional space of key
  // differences leaves them unchanged. One such difference, applied to any key, gives a pair
  // that collides in row 0 at every node (every seed), and is separated by the other rows.
  const auto [rank, difference] = rank_of_lanes(false);
  CHECK(rank == 64);
  const auto a = net::five_tuple{0x0A000001, 0xC0A80102, 1234, 80, 6}.to_bytes();
  auto b = a;
  bool differs = false;
  for (std::size_t i = 0; i < 13; ++i) {
    b[i] ^= static_cast<std::byte>(difference[i]);
    differs = differs || difference[i] != 0;
  }
  REQUIRE(differs);
  int separated = 0;
  for (const u64 seed : {u64{1}, u64{0xA}, u64{0xDEADBEEF}}) {
    const hash_family ha(switch_digest(a, seed));
    const hash_family hb(switch_digest(b, seed));
    CHECK(ha.index_pow2(0, 10) == hb.index_pow2(0, 10));
    separated += ha.index_pow2(1, 10) != hb.index_pow2(1, 10) ? 1 : 0;
  }
  CHECK(separated > 0);
}

TEST_CASE("switch_seed_params is SplitMix64, as the P4 program recomputes it") {
  // SplitMix64's published first output for seed 0, and innet's own splitmix64 generator
  // (core/random.hpp) as an independent implementation of the same sequence.
  CHECK(innet::sketch::detail::splitmix64_at(0, 1) == 0xE220A8397B1DCDAFull);
  for (const u64 seed : {u64{0}, u64{0xF00D}, innet::sketch::fragment_seed(7, 3)}) {
    innet::splitmix64 reference{seed};
    const u64 words[4] = {reference(), reference(), reference(), reference()};
    const switch_seed p = switch_seed_params(seed);
    CHECK(p.multiplier_low == (words[0] | 1));
    CHECK(p.addend_low == words[1]);
    CHECK(p.multiplier_high == (words[2] | 1));
    CHECK(p.addend_high == words[3]);
    // derive_seed_params in p4/sketch_fragment.p4, step by step with the generated constants.
    namespace m = splitmix64_constants;
    for (u64 step = 1; step <= 4; ++step) {
      u64 z = seed + step * m::gamma;
      z = (z ^ (z >> m::shift1)) * m::multiplier1;
      z = (z ^ (z >> m::shift2)) * m::multiplier2;
      CHECK((z ^ (z >> m::shift3)) == words[step - 1]);
    }
  }
}

// Keys whose rows the independence tests measure: a trace's random flows, and a structured set
// (consecutive sources of one service), where a linear hash's regularities would show.
std::vector<std::array<std::byte, 13>> random_keys(std::size_t n) {
  auto trace = workload::flow_trace::generate({.flow_count = n, .packet_count = n, .seed = 17});
  REQUIRE(trace.ok());
  std::vector<std::array<std::byte, 13>> keys;
  for (const auto& f : trace->flows)
    keys.push_back(f.to_bytes());
  return keys;
}

std::vector<std::array<std::byte, 13>> structured_keys(std::size_t n) {
  std::vector<std::array<std::byte, 13>> keys;
  for (std::size_t i = 0; i < n; ++i) {
    const net::five_tuple t{static_cast<u32>(0x0A000000 + i / 16), 0xC0A80102,
                            static_cast<u16>(50000 + i % 16), 443, 6};
    keys.push_back(t.to_bytes());
  }
  return keys;
}

// Over all pairs of keys that collide under `first`, the fraction that also collide under
// `second`, times the width: about 1 when the two index functions are independent.
double conditional_collision_ratio(const std::vector<u64>& first, const std::vector<u64>& second,
                                   u64 width) {
  std::unordered_map<u64, std::vector<std::size_t>> buckets;
  for (std::size_t k = 0; k < first.size(); ++k)
    buckets[first[k]].push_back(k);
  double pairs = 0;
  double both = 0;
  for (const auto& [column, members] : buckets) {
    for (std::size_t a = 0; a < members.size(); ++a) {
      for (std::size_t b = a + 1; b < members.size(); ++b) {
        pairs += 1;
        both += second[members[a]] == second[members[b]] ? 1 : 0;
      }
    }
  }
  REQUIRE(pairs > 0);
  return both / pairs * static_cast<double>(width);
}

std::vector<u64> row_columns(const std::vector<hash128>& digests, u32 row, unsigned bits) {
  std::vector<u64> columns;
  for (const hash128& d : digests)
    columns.push_back(hash_family(d).index_pow2(row, bits));
  return columns;
}

TEST_CASE("rows from the switch digest are pairwise independent at power-of-two widths") {
  // 40000 keys: at width 1024 about 780k colliding pairs per row, of which ~760 should also
  // collide in another row (standard deviation ~28), so [0.8, 1.25] is a wide margin.
  constexpr std::size_t n = 40000;
  for (const bool structured : {false, true}) {
    const auto keys = structured ? structured_keys(n) : random_keys(n);
    const char* const kind = structured ? "structured" : "random";
    std::vector<hash128> digests;
    for (const auto& k : keys)
      digests.push_back(switch_digest(k, 0xD15C'0001ull));
    for (const unsigned bits : {8U, 10U}) {
      const u64 width = u64{1} << bits;
      for (u32 i = 0; i < 4; ++i) {
        for (u32 j = i + 1; j < 4; ++j) {
          const double ratio = conditional_collision_ratio(row_columns(digests, i, bits),
                                                           row_columns(digests, j, bits), width);
          INFO(kind, " keys, width ", width, ", rows ", i, " and ", j,
               ": P(collide in j | collide in i) * width = ", ratio);
          CHECK(ratio > 0.8);
          CHECK(ratio < 1.25);
        }
      }
    }
  }
}

TEST_CASE("two nodes' switch digests collide independently, unlike CRCs seeded by init value") {
  constexpr std::size_t n = 40000;
  constexpr unsigned bits = 10;
  constexpr u64 width = u64{1} << bits;
  const auto keys = random_keys(n);
  std::vector<hash128> node_a, node_b;
  std::vector<u64> init_a, init_b;
  // The construction switch_digest avoids: the node's seed as the CRC's initial value, the
  // column from the CRC's low bits (DPDK's sketch seeds its rows this way).
  crc_spec seeded_a = crc32_iscsi, seeded_b = crc32_iscsi;
  seeded_a.init = 0x0000'0001;
  seeded_b.init = 0x5EED'0002;
  for (const auto& k : keys) {
    node_a.push_back(switch_digest(k, 0xA));
    node_b.push_back(switch_digest(k, 0xB));
    init_a.push_back(crc(seeded_a, k, 13) & (width - 1));
    init_b.push_back(crc(seeded_b, k, 13) & (width - 1));
  }
  const double ours = conditional_collision_ratio(row_columns(node_a, 0, bits),
                                                  row_columns(node_b, 0, bits), width);
  const double seeded_crc = conditional_collision_ratio(init_a, init_b, width);
  INFO("switch digest: ", ours, "; CRC seeded by init: ", seeded_crc);
  CHECK(ours > 0.8);
  CHECK(ours < 1.25);
  // Every pair that collides at one node collides at the other: the ratio is the width itself.
  CHECK(seeded_crc == doctest::Approx(static_cast<double>(width)));
}

TEST_CASE("DPDK-style rows, one CRC seeded per row, collide together at power-of-two widths") {
  // The negative control of the independence test above: the same measurement flags the
  // degenerate construction, so the test above can fail.
  constexpr unsigned bits = 10;
  constexpr u64 width = u64{1} << bits;
  const auto keys = random_keys(20000);
  std::vector<u64> row0, row1;
  crc_spec r0 = crc32_iscsi, r1 = crc32_iscsi;
  r0.init = 0x1111'1111;
  r1.init = 0x2222'2222;
  for (const auto& k : keys) {
    row0.push_back(crc(r0, k, 13) & (width - 1));
    row1.push_back(crc(r1, k, 13) & (width - 1));
  }
  CHECK(conditional_collision_ratio(row0, row1, width) > 0.9 * static_cast<double>(width));
}

TEST_CASE("the P4 fragment's shift-and-add rows equal a count_min fed switch digests") {
  // p4/sketch_fragment.p4 computes row r's column as (h1 + r * h2) >> (64 - bits) with the
  // multiplication unrolled into shifts and adds; this is that arithmetic, written out again,
  // against count_min's own indexing of the same digest.
  constexpr u32 depth = 4;
  constexpr unsigned bits = 10;
  constexpr u32 width = 1u << bits;
  constexpr u64 seed = 0x5EED;
  auto reference = count_min<u32>::create(depth, width, seed);
  REQUIRE(reference.ok());
  std::vector<u32> registers(depth * width, 0);
  const auto trace =
      workload::flow_trace::generate({.flow_count = 500, .packet_count = 20000, .seed = 3});
  REQUIRE(trace.ok());
  for (const net::five_tuple& t : trace->packet_tuples()) {
    const hash128 d = switch_digest(t.to_bytes(), seed);
    const u64 h1 = d.low;
    const u64 h2 = d.high | 1;
    const u64 x[depth] = {h1, h1 + h2, h1 + (h2 << 1), h1 + (h2 << 1) + h2};
    for (u32 r = 0; r < depth; ++r)
      ++registers[r * width + (x[r] >> (64 - bits))];
    reference->update(hash_family(d));
  }
  CHECK(std::equal(registers.begin(), registers.end(), reference->counters().begin()));
  // A collector adopting the registers answers every flow at or above its true count.
  auto adopted = count_min<u32>::from_counters(depth, width, seed, registers, 20000);
  REQUIRE(adopted.ok());
  for (std::size_t f = 0; f < trace->flows.size(); ++f) {
    const hash_family h(switch_digest(trace->flows[f].to_bytes(), seed));
    CHECK(adopted->estimate(h) >= trace->sizes[f]);
  }
}

}  // namespace
