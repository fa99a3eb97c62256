// Hash families for a burst of keys (update_burst's first pass): eight keys at a time with
// AVX-512 where the CPU has it and the keys are 9 to 16 bytes long (flow keys are 13), one at a
// time through hash_key otherwise. Either way the families are bit for bit make_hash_family's.
//
// The eight-lane code is XXH3-128's 9-16-byte path (core/xxh3.hpp, hash128_9to16) on 64-bit
// lanes. AVX-512 has no 64x64->128 multiply, so each one is built from four 32x32->64 multiplies
// (vpmuludq); the 64-bit low products use vpmullq (AVX512DQ), the byte swap vpshufb (AVX512BW).
// Keys are loaded with scalar loads and assembled in registers: with vpgatherqq the burst was
// slower than scalar hashing on the AMD EPYC it was measured on, and eight scalar stores read
// back as one vector load stall store forwarding. The functions carry target attributes and are
// picked at run time, so the library's baseline ISA (x86-64, or DPDK's corei7) stays as it is.
//
// Why: XXH3 is about 70% of a cache-resident Count-Min update (sketch_bench: hash_only vs the
// scalar update). With this pass update_burst of 4 x 4096 went from 188 to 320 M keys/s and of
// 4 x 2^22 from 59 to about 110 M keys/s on that machine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

#include "innet/core/hash_family.hpp"
#include "innet/core/xxh3.hpp"
#include "innet/sketch/detail/common.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define INNET_SKETCH_HASH_X8 1
#endif

// GCC 12's AVX-512 intrinsics pass an undefined vector as the unused source of their masked
// builtins, which -Wuninitialized reports once they are inlined (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace innet::sketch::detail {

#if INNET_SKETCH_HASH_X8
#define INNET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw")))

namespace x8 {
namespace xxh3 = innet::detail::xxh3;

INNET_AVX512 inline __m512i set1(u64 v) {
  return _mm512_set1_epi64(static_cast<long long>(v));
}

// The 128-bit products a * b of the eight lanes, as (low, high).
INNET_AVX512 inline void mul64to128(__m512i a, __m512i b, __m512i& low, __m512i& high) {
  const __m512i mask32 = set1(0xFFFFFFFFull);
  const __m512i a_hi = _mm512_srli_epi64(a, 32);
  const __m512i b_hi = _mm512_srli_epi64(b, 32);
  const __m512i ll = _mm512_mul_epu32(a, b);
  const __m512i lh = _mm512_mul_epu32(a, b_hi);
  const __m512i hl = _mm512_mul_epu32(a_hi, b);
  const __m512i hh = _mm512_mul_epu32(a_hi, b_hi);
  // Below 2^34: the carries out of the low word.
  const __m512i mid =
      _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, mask32)),
                       _mm512_and_si512(hl, mask32));
  low = _mm512_or_si512(_mm512_and_si512(ll, mask32), _mm512_slli_epi64(mid, 32));
  high = _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
                          _mm512_add_epi64(_mm512_srli_epi64(hl, 32), _mm512_srli_epi64(mid, 32)));
}

INNET_AVX512 inline __m512i avalanche(__m512i h) {
  h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 37));
  h = _mm512_mullo_epi64(h, set1(xxh3::avalanche_mul));
  return _mm512_xor_si512(h, _mm512_srli_epi64(h, 32));
}

// A key's first and last eight bytes (little-endian, as XXH3's read64), and its length.
inline long long first8(std::span<const std::byte> key) noexcept {
  long long v;
  std::memcpy(&v, key.data(), sizeof v);
  return v;
}
inline long long last8(std::span<const std::byte> key) noexcept {
  long long v;
  std::memcpy(&v, key.data() + key.size() - 8, sizeof v);
  return v;
}
inline long long size(std::span<const std::byte> key) noexcept {
  return static_cast<long long>(key.size());
}

// Families of keys[0..8), each 9 to 16 bytes long.
INNET_AVX512 inline void hash_9to16(const std::span<const std::byte>* keys, u64 seed,
                                    hash_family* out) {
  // Built in registers: eight scalar stores read back as one vector would not be forwarded.
  const auto* k = keys;
  const __m512i in_lo = _mm512_set_epi64(first8(k[7]), first8(k[6]), first8(k[5]), first8(k[4]),
                                         first8(k[3]), first8(k[2]), first8(k[1]), first8(k[0]));
  const __m512i in_hi = _mm512_set_epi64(last8(k[7]), last8(k[6]), last8(k[5]), last8(k[4]),
                                         last8(k[3]), last8(k[2]), last8(k[1]), last8(k[0]));
  const __m512i length = _mm512_set_epi64(size(k[7]), size(k[6]), size(k[5]), size(k[4]),
                                          size(k[3]), size(k[2]), size(k[1]), size(k[0]));
  const u8* secret = xxh3::default_secret();
  const u64 bitflip_lo = (xxh3::read64(secret + 32) ^ xxh3::read64(secret + 40)) - seed;
  const u64 bitflip_hi = (xxh3::read64(secret + 48) ^ xxh3::read64(secret + 56)) + seed;
  __m512i m_lo, m_hi;
  mul64to128(_mm512_xor_si512(_mm512_xor_si512(in_lo, in_hi), set1(bitflip_lo)),
             set1(xxh3::prime64_1), m_lo, m_hi);
  m_lo = _mm512_add_epi64(m_lo, _mm512_slli_epi64(_mm512_sub_epi64(length, set1(1)), 54));
  const __m512i keyed_hi = _mm512_xor_si512(in_hi, set1(bitflip_hi));
  m_hi = _mm512_add_epi64(
      m_hi, _mm512_add_epi64(keyed_hi, _mm512_mul_epu32(keyed_hi, set1(xxh3::prime32_2 - 1))));
  // Byte-reverse each 64-bit lane (swap64).
  const __m512i reverse =
      _mm512_broadcast_i32x4(_mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  m_lo = _mm512_xor_si512(m_lo, _mm512_shuffle_epi8(m_hi, reverse));
  __m512i h_lo, h_hi;
  mul64to128(m_lo, set1(xxh3::prime64_2), h_lo, h_hi);
  h_hi = _mm512_add_epi64(h_hi, _mm512_mullo_epi64(m_hi, set1(xxh3::prime64_2)));
  alignas(64) u64 lo[8], hi[8];
  _mm512_store_si512(lo, avalanche(h_lo));
  _mm512_store_si512(hi, avalanche(h_hi));
  for (int i = 0; i < 8; ++i)
    out[i] = hash_family(hash128{lo[i], hi[i]});
}

inline bool available() noexcept {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512bw");
  return yes;
}
}  // namespace x8
#undef INNET_AVX512
#endif

// out[i] = hash_key(keys[i], seed) for every key.
inline void hash_burst(std::span<const std::span<const std::byte>> keys, u64 seed,
                       hash_family* out) {
  usize i = 0;
#if INNET_SKETCH_HASH_X8
  if (x8::available()) {
    for (; i + 8 <= keys.size(); i += 8) {
      bool short_keys = true;
      for (usize j = i; j < i + 8; ++j)
        short_keys = short_keys && keys[j].size() >= 9 && keys[j].size() <= 16;
      if (short_keys) {
        x8::hash_9to16(keys.data() + i, seed, out + i);
      } else {
        for (usize j = i; j < i + 8; ++j)
          out[j] = hash_key(keys[j], seed);
      }
    }
  }
#endif
  for (; i < keys.size(); ++i)
    out[i] = hash_key(keys[i], seed);
}

// Feeds `add(families, n)` bursts of at most burst_size families: the keys hashed a burst at a
// time (hash_burst), or families the caller already has. One chunking loop for every sketch.
template <class AddBurst>
void for_each_burst(std::span<const std::span<const std::byte>> keys, u64 seed, AddBurst&& add) {
  auto hashes = blank_burst();
  while (!keys.empty()) {
    const usize n = std::min(keys.size(), burst_size);
    hash_burst(keys.first(n), seed, hashes.data());
    add(hashes.data(), n);
    keys = keys.subspan(n);
  }
}
template <class AddBurst>
void for_each_burst(std::span<const hash_family> hashes, AddBurst&& add) {
  while (!hashes.empty()) {
    const usize n = std::min(hashes.size(), burst_size);
    add(hashes.data(), n);
    hashes = hashes.subspan(n);
  }
}

}  // namespace innet::sketch::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
