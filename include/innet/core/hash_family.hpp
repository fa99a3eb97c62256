// k hash functions from one 128-bit hash (Kirsch and Mitzenmacher, "Less hashing,
// same performance", 2006).
//
// Row i of a sketch, filter or redundant store uses
//
//   x_i   = h1 + i * h2                 (mod 2^64; h1, h2 the two digest halves, h2 forced odd)
//   index = floor(x_i * width / 2^64)   (Lemire's multiply-shift range reduction)
//   sign  = top bit of fmix64(x_i)      (for Count Sketch's +/-1)
//
// Why this shape:
// - One XXH3-128 per key instead of k hashes: the hash dominates the cost of a
//   cache-resident update.
// - The index is taken from the *high* bits of x_i. The classic "(h1 + i*h2) mod w"
//   keeps the low bits, and for power-of-two widths those are a linear function of
//   the low bits of h1 and h2 alone, so rows whose indices differ by an even
//   multiple collide together (the failure DPDK's CRC-seeded rows show). With the
//   high bits, two keys that collide in row i are nearly independent in row j.
// - For width = 2^b the index is x_i >> (64 - b), so a sketch folded to half its
//   width maps bucket j to j >> 1: fragments of different widths combine exactly.
//   The sign is computed without the width for the same reason.
//
// Freestanding, constexpr and INNET_HD: BPF and CUDA code derive the same indices.
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/detail/mul128.hpp"

namespace innet {

namespace detail {
// MurmurHash3's 64-bit finalizer: every output bit depends on every input bit.
INNET_HD constexpr u64 fmix64(u64 x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}
}  // namespace detail

class hash_family {
 public:
  INNET_HD constexpr explicit hash_family(hash128 digest) noexcept
      : h1_(digest.low), h2_(digest.high | 1) {}

  // The i-th hash value, before range reduction.
  INNET_HD constexpr u64 value(u32 i) const noexcept { return h1_ + u64{i} * h2_; }

  // The i-th index in [0, width). width > 0.
  INNET_HD constexpr u64 index(u32 i, u64 width) const noexcept {
    return detail::mul_high64(value(i), width);
  }

  // The i-th index in [0, 2^bits), equal to index(i, 1 << bits). 1 <= bits <= 63.
  INNET_HD constexpr u64 index_pow2(u32 i, unsigned bits) const noexcept {
    return value(i) >> (64 - bits);
  }

  // +1 or -1 for row i, independent of the row's index and of the width.
  INNET_HD constexpr int sign(u32 i) const noexcept {
    return (detail::fmix64(value(i)) >> 63) != 0 ? -1 : 1;
  }

 private:
  u64 h1_;
  u64 h2_;
};

}  // namespace innet
