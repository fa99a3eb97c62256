// switch_digest: the 128-bit flow digest a switch can compute, and its C++ twin.
//
// Host, XDP and GPU sketches hash a flow key once with XXH3-128 and derive every row's column
// from the two halves (innet::hash_family, core/hash_family.hpp). A switch pipeline cannot run
// XXH3: its hash units compute CRCs of header fields, and its ALUs add, shift and (in the v1model
// architecture p4/ targets) multiply fixed-width integers. So a switch-side fragment
// (p4/sketch_fragment.p4) feeds hash_family a different 128-bit digest, and the collector, to
// query that fragment, computes exactly the same digest here:
//
//   count_min.estimate(hash_family(switch_digest(five_tuple.to_bytes(), seed)))
//
// The digest of a key (the 13 bytes of five_tuple::to_bytes(), which is also the order in which
// the P4 program lists the header fields it hashes), under a node's 64-bit fragment seed:
//
//   lane0 = CRC-32/ISO-HDLC(key)   v1model HashAlgorithm.crc32 (BMv2's crc32)
//   lane1 = CRC-32/ISCSI(key)      "CRC-32C"   } HashAlgorithm.crc32_custom, each configured by
//   lane2 = CRC-32/BASE91-D(key)   "CRC-32D"   } the control plane with the polynomial below
//   lane3 = CRC-32/AUTOSAR(key)                } (reflected, init and xorout 0xFFFFFFFF)
//
//   pre_low  = lane0 << 32 | lane1          pre_high = lane2 << 32 | lane3
//   low      = pre_low  * m0 + a0           high     = pre_high * m1 + a1      (mod 2^64)
//   digest   = hash128{low, high}           (m0, a0, m1, a1) = switch_seed_params(seed)
//
// Why four different polynomials. hash_family takes row r's column from the high bits of
// low + r * (high | 1). With the seed passed to each row's CRC as its initial value, as DPDK's
// sketch does, the rows are the same linear function of the key plus a constant, and keys that
// collide in one row collide in all of them. Four polynomials give four different linear
// functions. The polynomials are pairwise coprime except lanes 1 and 3, which share the factor
// (x + 1); their least common multiple has degree 127, so two keys of at most 15 bytes with the
// same four lanes would differ by a multiple of it: the 128-bit pre-digest (pre_low, pre_high)
// is injective on 13-byte keys (the tests check the rank of its linear part). It is not
// injective per half, and row 0 uses only `low`, i.e. lanes 0 and 1: keys with equal pre_low
// (a fraction 2^-64 of random pairs, but an attacker solves for them by linear algebra over
// GF(2)) collide in row 0 at every node whatever the seeds. A 32-bit CRC alone would do worse,
// 2^-32 of pairs colliding in every row at every node.
//
// Why a multiply-add with seed-derived constants, rather than the seed as the CRCs' initial
// value. A CRC is affine over GF(2): crc_init(x) = crc_0(x) XOR c(init, length). Keys of equal
// length that collide under one initial value collide under every other, so two nodes seeded
// that way would share their collisions, and the collector's min over the fragments on a path
// would gain nothing from the second fragment. Multiply-add by an odd multiplier drawn from the
// seed is the classic multiply-shift universal family (Dietzfelbinger et al.): for two distinct
// 64-bit inputs the top b bits agree with probability at most 2 * 2^-b over the odd multiplier
// (multiply-shift is 2-approximately universal), so each node's collisions are its own, up to
// that factor of two (measured: about 1x, below). The switch_digest tests measure both properties
// at power-of-two widths: rows of one fragment, and row 0 of two nodes, collide together at
// ~1/width, and the two CRC-seeded constructions above do not.
//
// Target cost: four CRC units over 104 bits, two 64-bit multiplies and adds per packet, then per
// row one add and one shift. BMv2 (v1model) runs all of it. A target without a 64-bit
// multiplier (Tofino) would instead pick the per-node function in the hash unit itself, e.g.
// seed-selected polynomials; that target is not written here.
//
// Freestanding and constexpr (no standard library headers): the generator of p4/'s constants and
// the tests evaluate the same functions at compile time.
#pragma once

#include "innet/core/crc.hpp"
#include "innet/core/detail/freestanding.hpp"

namespace innet::sketch {

// The generic CRC (spec, bitwise and table-driven) lives in core/crc.hpp; these names keep
// reading as they did when it lived here.
using innet::crc;
using innet::crc16_arc;
using innet::crc32_aixm;
using innet::crc32_autosar;
using innet::crc32_base91_d;
using innet::crc32_iscsi;
using innet::crc32_iso_hdlc;
using innet::crc32_mpeg2;
using innet::crc64_ecma_182;
using innet::crc64_xz;
using innet::crc_spec;
using innet::crc_table;
using innet::make_crc_table;

// The four CRC lanes, in digest order (see the file comment), and their tables.
inline constexpr crc_spec switch_digest_lanes[4] = {crc32_iso_hdlc, crc32_iscsi, crc32_base91_d,
                                                    crc32_autosar};
inline constexpr crc_table switch_digest_tables[4] = {
    make_crc_table(switch_digest_lanes[0]), make_crc_table(switch_digest_lanes[1]),
    make_crc_table(switch_digest_lanes[2]), make_crc_table(switch_digest_lanes[3])};

// The per-node constants of the digest's multiply-add, which the switch derives from the seed the
// control plane installs (p4/sketch_fragment.p4, derive_seed_params). Multipliers are odd, so
// each multiply-add is a bijection of 64-bit values.
struct switch_seed {
  u64 multiplier_low;
  u64 addend_low;
  u64 multiplier_high;
  u64 addend_high;

  friend constexpr bool operator==(const switch_seed&, const switch_seed&) = default;
};

// SplitMix64's constants. The P4 fragment derives switch_seed_params(seed) itself with them
// (p4/include/sketch_constants.p4 is generated from these), so the control plane installs only
// the seed and a mismatch between seed and multipliers cannot happen.
namespace splitmix64_constants {
inline constexpr u64 gamma = 0x9E3779B97F4A7C15ull;
inline constexpr u64 multiplier1 = 0xBF58476D1CE4E5B9ull;
inline constexpr u64 multiplier2 = 0x94D049BB133111EBull;
inline constexpr unsigned shift1 = 30, shift2 = 27, shift3 = 31;
}  // namespace splitmix64_constants

namespace detail {
// SplitMix64's output function at state seed + step * gamma: consecutive states give
// independent-looking words.
INNET_HD constexpr u64 splitmix64_at(u64 seed, u64 step) noexcept {
  u64 z = seed + step * splitmix64_constants::gamma;
  z = (z ^ (z >> splitmix64_constants::shift1)) * splitmix64_constants::multiplier1;
  z = (z ^ (z >> splitmix64_constants::shift2)) * splitmix64_constants::multiplier2;
  return z ^ (z >> splitmix64_constants::shift3);
}
}  // namespace detail

INNET_HD constexpr switch_seed switch_seed_params(u64 seed) noexcept {
  return {detail::splitmix64_at(seed, 1) | 1, detail::splitmix64_at(seed, 2),
          detail::splitmix64_at(seed, 3) | 1, detail::splitmix64_at(seed, 4)};
}

// The digest of the key bytes[0, size) (13 bytes of five_tuple::to_bytes() on a switch), as the
// P4 fragment computes it; feed it to innet::hash_family.
template <class Bytes>
INNET_HD constexpr hash128 switch_digest(const Bytes& bytes, usize size,
                                         const switch_seed& s) noexcept {
  const auto lane = [&](int i) {
    return crc(switch_digest_lanes[i], switch_digest_tables[i], bytes, size);
  };
  const u64 pre_low = lane(0) << 32 | lane(1);
  const u64 pre_high = lane(2) << 32 | lane(3);
  return {pre_low * s.multiplier_low + s.addend_low, pre_high * s.multiplier_high + s.addend_high};
}

// The same for a container with size() (std::array<std::byte, 13>, std::span, ...).
template <class Bytes>
INNET_HD constexpr hash128 switch_digest(const Bytes& bytes, u64 seed) noexcept {
  return switch_digest(bytes, bytes.size(), switch_seed_params(seed));
}

}  // namespace innet::sketch
