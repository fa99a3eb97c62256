// XXH3: the 64- and 128-bit members of the xxHash family, as a constexpr, freestanding header.
//
// What it computes: exactly XXH3_64bits_withSeed() and XXH3_128bits_withSeed() from xxHash v0.8
// (checked against v0.8.1, Debian's libxxhash), with the default 192-byte secret, for every input
// length. XXH3 picks a strategy by length: 0, 1-3, 4-8 and 9-16 bytes are mixed in constant time
// from a few overlapping loads; 17-128 and 129-240 bytes use 16-byte multiply-fold rounds; longer
// inputs run 64-byte stripes through eight accumulators, scrambled after every 1 KiB block. For a
// non-zero seed, short inputs fold the seed into each round, while long inputs first derive a
// custom secret from it, as the reference does.
//
// Why a reimplementation rather than libxxhash: the host hashes with libxxhash, but the same
// value must also come out of static_assert, eBPF programs and CUDA kernels, so that e.g. a sketch
// index chosen on the host matches the one chosen in the datapath. Hence: no standard library or
// libc includes, no memcpy or type punning (loads are assembled byte by byte in little-endian
// order, which GCC and Clang fold back into single loads), and everything constexpr and INNET_HD.
//
// tests/core/xxh3_test.cpp compares both functions bit for bit with libxxhash over every length
// from 0 to 2100, several seeds and unaligned inputs, and pins a few values at compile time.
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/detail/mul128.hpp"

// GCC sizes a function for inlining before it merges the byte-wise loads below into word loads, so
// helpers such as mix16 (four 8-byte reads) look too big and stay out of line, losing the folded
// secret; 16-64 byte keys then hashed up to 1.8x slower than with libxxhash. As the reference does,
// force the small pieces inline and keep the 129-240 byte and long paths out of line, so callers
// hashing short keys carry neither their code nor their register pressure. BPF needs neither
// (INNET_HD already inlines everything there), and CUDA device code keeps everything inline, since
// an outlined call would push the accumulators and derived secret out to local memory.
#if defined(__bpf__)
#define INNET_XXH3_INLINE
#define INNET_XXH3_OUTLINE
#elif defined(__CUDA_ARCH__)
#define INNET_XXH3_INLINE __attribute__((always_inline))
#define INNET_XXH3_OUTLINE
#elif defined(__GNUC__)
#define INNET_XXH3_INLINE __attribute__((always_inline))
#define INNET_XXH3_OUTLINE __attribute__((noinline))
#else
#define INNET_XXH3_INLINE
#define INNET_XXH3_OUTLINE
#endif

namespace innet::detail::xxh3 {

inline constexpr u64 prime32_1 = 0x9E3779B1U;
inline constexpr u64 prime32_2 = 0x85EBCA77U;
inline constexpr u64 prime32_3 = 0xC2B2AE3DU;
inline constexpr u64 prime64_1 = 0x9E3779B185EBCA87ULL;
inline constexpr u64 prime64_2 = 0xC2B2AE3D27D4EB4FULL;
inline constexpr u64 prime64_3 = 0x165667B19E3779F9ULL;
inline constexpr u64 prime64_4 = 0x85EBCA77C2B2AE63ULL;
inline constexpr u64 prime64_5 = 0x27D4EB2F165667C5ULL;
// Multiplier of the rrmxmx mixer and of the 4-8 byte 128-bit finalizer.
inline constexpr u64 rrmxmx_mul = 0x9FB21C651E98DF25ULL;
// Multiplier of XXH3's light avalanche (not one of the primes above, despite the resemblance).
inline constexpr u64 avalanche_mul = 0x165667919E3779F9ULL;

inline constexpr usize secret_size = 192;
// The smallest secret the reference accepts; the mid-size tail offsets are defined against it,
// not against the actual secret size.
inline constexpr usize secret_size_min = 136;
inline constexpr usize stripe_len = 64;
inline constexpr usize lanes = stripe_len / 8;
// Each stripe advances the secret by 8 bytes, so a 192-byte secret covers 16 stripes per block.
inline constexpr usize secret_consume_rate = 8;
inline constexpr usize stripes_per_block = (secret_size - stripe_len) / secret_consume_rate;
inline constexpr usize block_len = stripe_len * stripes_per_block;
inline constexpr usize midsize_max = 240;
// These offsets are deliberately not multiples of 8, so that each consumer sees secret words the
// other consumers do not.
inline constexpr usize midsize_start_offset = 3;
inline constexpr usize midsize_last_offset = 17;
inline constexpr usize secret_last_acc_start = 7;
inline constexpr usize secret_merge_accs_start = 11;

// A fixed-size byte block, so a secret can be copied as a value (into CUDA constant memory) and
// declared as a local (the seed-derived secret). The alignment lets compilers that cannot do
// unaligned loads (nvcc's device pass) still merge the byte reads at 8-aligned offsets into wider
// loads.
struct alignas(8) secret_bytes {
  u8 bytes[secret_size];
};

// The default secret (XXH3_kSecret). Random bytes; their only requirement is to match the
// reference bit for bit. Access it through default_secret(), never directly.
inline constexpr secret_bytes default_secret_host = {{
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
}};

#if defined(__CUDACC__)
// Device code cannot read a host array at run time, and nvcc rejects inline __constant__ variables
// unless built with -rdc, so every translation unit gets its own internal copy. Constant memory
// suits it: all threads read the secret at the same offsets, which constant-cache broadcasts.
[[maybe_unused]] static constexpr __constant__ secret_bytes default_secret_device =
    default_secret_host;
#endif

// Constexpr on both sides: nvcc can constant-evaluate the device copy too.
INNET_XXH3_INLINE INNET_HD inline constexpr const u8* default_secret() noexcept {
#if defined(__CUDA_ARCH__)
  return default_secret_device.bytes;
#else
  return default_secret_host.bytes;
#endif
}

// ---- primitives -------------------------------------------------------------------------------

// Loads are spelled out byte by byte: that is legal in constant evaluation, independent of host
// endianness and alignment, and GCC/Clang still emit one (unaligned) load where the target has it.
INNET_XXH3_INLINE INNET_HD inline constexpr u32 read32(const u8* p) noexcept {
  return static_cast<u32>(p[0]) | static_cast<u32>(p[1]) << 8 | static_cast<u32>(p[2]) << 16 |
         static_cast<u32>(p[3]) << 24;
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 read64(const u8* p) noexcept {
  return static_cast<u64>(p[0]) | static_cast<u64>(p[1]) << 8 | static_cast<u64>(p[2]) << 16 |
         static_cast<u64>(p[3]) << 24 | static_cast<u64>(p[4]) << 32 |
         static_cast<u64>(p[5]) << 40 | static_cast<u64>(p[6]) << 48 | static_cast<u64>(p[7]) << 56;
}

// Unrolled by hand: GCC does not unroll an 8-iteration byte loop at -O2, and only straight-line
// byte stores get merged into one 8-byte store.
INNET_XXH3_INLINE INNET_HD inline constexpr void write64(u8* p, u64 v) noexcept {
  p[0] = static_cast<u8>(v);
  p[1] = static_cast<u8>(v >> 8);
  p[2] = static_cast<u8>(v >> 16);
  p[3] = static_cast<u8>(v >> 24);
  p[4] = static_cast<u8>(v >> 32);
  p[5] = static_cast<u8>(v >> 40);
  p[6] = static_cast<u8>(v >> 48);
  p[7] = static_cast<u8>(v >> 56);
}

// Shift-and-mask forms rather than __builtin_bswap*/rotate builtins: compilers recognise them as
// bswap/rol, and they need no builtin support from nvcc's device pass or the BPF backend.
INNET_XXH3_INLINE INNET_HD inline constexpr u32 swap32(u32 x) noexcept {
  return (x << 24) | ((x << 8) & 0x00FF0000U) | ((x >> 8) & 0x0000FF00U) | (x >> 24);
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 swap64(u64 x) noexcept {
  return static_cast<u64>(swap32(static_cast<u32>(x))) << 32 | swap32(static_cast<u32>(x >> 32));
}

INNET_XXH3_INLINE INNET_HD inline constexpr u32 rotl32(u32 x, int r) noexcept {
  return (x << r) | (x >> (32 - r));
}
INNET_XXH3_INLINE INNET_HD inline constexpr u64 rotl64(u64 x, int r) noexcept {
  return (x << r) | (x >> (64 - r));
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 xorshift64(u64 x, int shift) noexcept {
  return x ^ (x >> shift);
}

// Folding the product back to 64 bits keeps both halves' entropy at the cost of one xor.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 mul128_fold64(u64 lhs, u64 rhs) noexcept {
  hash128 const product = mul64to128(lhs, rhs);
  return product.low ^ product.high;
}

// XXH64's finalizer, reused by XXH3 for the 0-3 byte inputs, whose bits are not mixed at all yet.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 xxh64_avalanche(u64 h) noexcept {
  h ^= h >> 33;
  h *= prime64_2;
  h ^= h >> 29;
  h *= prime64_3;
  h ^= h >> 32;
  return h;
}

// The cheaper finalizer, enough once multiply-fold rounds have already spread the input.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 avalanche(u64 h) noexcept {
  h = xorshift64(h, 37);
  h *= avalanche_mul;
  return xorshift64(h, 32);
}

// Pelle Evensen's rrmxmx: stronger than avalanche(), needed by the 4-8 byte path whose single
// keyed word has not been through a multiply yet.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 rrmxmx(u64 h, u64 len) noexcept {
  h ^= rotl64(h, 49) ^ rotl64(h, 24);
  h *= rrmxmx_mul;
  h ^= (h >> 35) + len;
  h *= rrmxmx_mul;
  return xorshift64(h, 28);
}

// One 16-byte round of the 17-240 byte paths: key both input words, multiply, fold.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 mix16(const u8* in, const u8* secret,
                                                      u64 seed) noexcept {
  return mul128_fold64(read64(in) ^ (read64(secret) + seed),
                       read64(in + 8) ^ (read64(secret + 8) - seed));
}

// The 128-bit variant's 32-byte round. Xoring each lane with the raw words of the other half is
// what keeps a zero product (input equal to the keyed secret) from cancelling the lane outright.
INNET_XXH3_INLINE INNET_HD inline constexpr hash128 mix32(hash128 acc, const u8* in1, const u8* in2,
                                                          const u8* secret, u64 seed) noexcept {
  acc.low += mix16(in1, secret, seed);
  acc.low ^= read64(in2) + read64(in2 + 8);
  acc.high += mix16(in2, secret + 16, seed);
  acc.high ^= read64(in1) + read64(in1 + 8);
  return acc;
}

// ---- 64-bit, short and mid-size inputs --------------------------------------------------------
//
// Inputs up to 240 bytes always use the default secret (the seed is mixed in separately), so these
// fetch it themselves rather than take it as a parameter: the secret words then fold into
// immediates even where a function is not inlined.

// 1-3 bytes become one 32-bit word {last, len, first, middle} so that every byte and the length
// reach the mixer; shorter inputs simply repeat bytes.
INNET_XXH3_INLINE INNET_HD inline constexpr u32 combine_1to3(const u8* in, usize len) noexcept {
  return static_cast<u32>(in[0]) << 16 | static_cast<u32>(in[len >> 1]) << 24 |
         static_cast<u32>(in[len - 1]) | static_cast<u32>(len) << 8;
}

// Mixing the seed's byte-swapped low half into its top half lets a 32-bit seed affect both words of
// the 64-bit key used by the 4-8 byte paths.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 spread_seed(u64 seed) noexcept {
  return seed ^ static_cast<u64>(swap32(static_cast<u32>(seed))) << 32;
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_1to3(const u8* in, usize len,
                                                            u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 const bitflip = (read32(secret) ^ read32(secret + 4)) + seed;
  return xxh64_avalanche(combine_1to3(in, len) ^ bitflip);
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_4to8(const u8* in, usize len,
                                                            u64 seed) noexcept {
  const u8* const secret = default_secret();
  // Two possibly overlapping 4-byte loads cover every length from 4 to 8.
  u64 const input = read32(in + len - 4) + (static_cast<u64>(read32(in)) << 32);
  u64 const bitflip = (read64(secret + 8) ^ read64(secret + 16)) - spread_seed(seed);
  return rrmxmx(input ^ bitflip, len);
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_9to16(const u8* in, usize len,
                                                             u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 const lo = read64(in) ^ ((read64(secret + 24) ^ read64(secret + 32)) + seed);
  u64 const hi = read64(in + len - 8) ^ ((read64(secret + 40) ^ read64(secret + 48)) - seed);
  return avalanche(static_cast<u64>(len) + swap64(lo) + hi + mul128_fold64(lo, hi));
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_0to16(const u8* in, usize len,
                                                             u64 seed) noexcept {
  if (len > 8) return hash64_9to16(in, len, seed);
  if (len >= 4) return hash64_4to8(in, len, seed);
  if (len > 0) return hash64_1to3(in, len, seed);
  const u8* const secret = default_secret();
  return xxh64_avalanche(seed ^ read64(secret + 56) ^ read64(secret + 64));
}

// Rounds pair a chunk from the front with one from the back, so each byte is read at least once
// without a loop and the round count only depends on which 32-byte bracket len falls in.
INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_17to128(const u8* in, usize len,
                                                               u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 acc = static_cast<u64>(len) * prime64_1;
  if (len > 32) {
    if (len > 64) {
      if (len > 96) {
        acc += mix16(in + 48, secret + 96, seed);
        acc += mix16(in + len - 64, secret + 112, seed);
      }
      acc += mix16(in + 32, secret + 64, seed);
      acc += mix16(in + len - 48, secret + 80, seed);
    }
    acc += mix16(in + 16, secret + 32, seed);
    acc += mix16(in + len - 32, secret + 48, seed);
  }
  acc += mix16(in, secret, seed);
  acc += mix16(in + len - 16, secret + 16, seed);
  return avalanche(acc);
}

// The first 128 bytes use the secret's first 128 bytes; later rounds restart 3 bytes into the
// secret so that they are keyed differently from the first eight.
INNET_XXH3_OUTLINE INNET_HD inline constexpr u64 hash64_129to240(const u8* in, usize len,
                                                                 u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 acc = static_cast<u64>(len) * prime64_1;
  usize const rounds = len / 16;
  for (usize i = 0; i < 8; ++i) {
    acc += mix16(in + 16 * i, secret + 16 * i, seed);
  }
  acc = avalanche(acc);
  for (usize i = 8; i < rounds; ++i) {
    acc += mix16(in + 16 * i, secret + 16 * (i - 8) + midsize_start_offset, seed);
  }
  acc += mix16(in + len - 16, secret + secret_size_min - midsize_last_offset, seed);
  return avalanche(acc);
}

// ---- 128-bit, short and mid-size inputs -------------------------------------------------------

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_1to3(const u8* in, usize len,
                                                                 u64 seed) noexcept {
  const u8* const secret = default_secret();
  u32 const combined_lo = combine_1to3(in, len);
  // A byte-swapped, rotated copy gives the high half different bit positions to work with.
  u32 const combined_hi = rotl32(swap32(combined_lo), 13);
  u64 const bitflip_lo = (read32(secret) ^ read32(secret + 4)) + seed;
  u64 const bitflip_hi = (read32(secret + 8) ^ read32(secret + 12)) - seed;
  return {xxh64_avalanche(combined_lo ^ bitflip_lo), xxh64_avalanche(combined_hi ^ bitflip_hi)};
}

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_4to8(const u8* in, usize len,
                                                                 u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 const input = read32(in) + (static_cast<u64>(read32(in + len - 4)) << 32);
  u64 const bitflip = (read64(secret + 16) ^ read64(secret + 24)) + spread_seed(seed);
  // Adding a multiple of 4 keeps the odd prime odd, so the multiply never discards low bits.
  hash128 m = mul64to128(input ^ bitflip, prime64_1 + (static_cast<u64>(len) << 2));
  m.high += m.low << 1;
  m.low ^= m.high >> 3;
  m.low = xorshift64(m.low, 35);
  m.low *= rrmxmx_mul;
  m.low = xorshift64(m.low, 28);
  m.high = avalanche(m.high);
  return m;
}

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_9to16(const u8* in, usize len,
                                                                  u64 seed) noexcept {
  const u8* const secret = default_secret();
  u64 const bitflip_lo = (read64(secret + 32) ^ read64(secret + 40)) - seed;
  u64 const bitflip_hi = (read64(secret + 48) ^ read64(secret + 56)) + seed;
  u64 const in_lo = read64(in);
  u64 const in_hi = read64(in + len - 8);
  hash128 m = mul64to128(in_lo ^ in_hi ^ bitflip_lo, prime64_1);
  // len enters the middle of the 128-bit value so the 128x64 multiply below spreads it into both
  // output halves.
  m.low += static_cast<u64>(len - 1) << 54;
  u64 const keyed_hi = in_hi ^ bitflip_hi;
  // Adds keyed_hi's top half plus its low half times prime32_2, without having to mask.
  m.high += keyed_hi + (keyed_hi & 0xFFFFFFFFU) * (prime32_2 - 1);
  m.low ^= swap64(m.high);
  // 128x64 multiply by prime64_2, keeping the low 128 bits.
  hash128 h = mul64to128(m.low, prime64_2);
  h.high += m.high * prime64_2;
  return {avalanche(h.low), avalanche(h.high)};
}

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_0to16(const u8* in, usize len,
                                                                  u64 seed) noexcept {
  if (len > 8) return hash128_9to16(in, len, seed);
  if (len >= 4) return hash128_4to8(in, len, seed);
  if (len > 0) return hash128_1to3(in, len, seed);
  const u8* const secret = default_secret();
  return {xxh64_avalanche(seed ^ read64(secret + 64) ^ read64(secret + 72)),
          xxh64_avalanche(seed ^ read64(secret + 80) ^ read64(secret + 88))};
}

// Shared by the 17-240 byte 128-bit paths.
INNET_XXH3_INLINE INNET_HD inline constexpr hash128 finalize128_mid(hash128 acc, usize len,
                                                                    u64 seed) noexcept {
  u64 const low = acc.low + acc.high;
  u64 const high =
      acc.low * prime64_1 + acc.high * prime64_4 + (static_cast<u64>(len) - seed) * prime64_2;
  return {avalanche(low), u64{0} - avalanche(high)};
}

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_17to128(const u8* in, usize len,
                                                                    u64 seed) noexcept {
  const u8* const secret = default_secret();
  hash128 acc{static_cast<u64>(len) * prime64_1, 0};
  if (len > 32) {
    if (len > 64) {
      if (len > 96) acc = mix32(acc, in + 48, in + len - 64, secret + 96, seed);
      acc = mix32(acc, in + 32, in + len - 48, secret + 64, seed);
    }
    acc = mix32(acc, in + 16, in + len - 32, secret + 32, seed);
  }
  acc = mix32(acc, in, in + len - 16, secret, seed);
  return finalize128_mid(acc, len, seed);
}

INNET_XXH3_OUTLINE INNET_HD inline constexpr hash128 hash128_129to240(const u8* in, usize len,
                                                                      u64 seed) noexcept {
  const u8* const secret = default_secret();
  hash128 acc{static_cast<u64>(len) * prime64_1, 0};
  usize const rounds = len / 32;
  for (usize i = 0; i < 4; ++i) {
    acc = mix32(acc, in + 32 * i, in + 32 * i + 16, secret + 32 * i, seed);
  }
  acc = {avalanche(acc.low), avalanche(acc.high)};
  for (usize i = 4; i < rounds; ++i) {
    acc = mix32(acc, in + 32 * i, in + 32 * i + 16, secret + midsize_start_offset + 32 * (i - 4),
                seed);
  }
  // The tail round swaps its two halves and negates the seed, so it differs from a regular round
  // even when it lands on the same bytes.
  acc = mix32(acc, in + len - 16, in + len - 32,
              secret + secret_size_min - midsize_last_offset - 16, u64{0} - seed);
  return finalize128_mid(acc, len, seed);
}

// ---- long inputs (> 240 bytes) ----------------------------------------------------------------

// One 64-byte stripe into eight lanes. The 32x32->64 product of each keyed word does the mixing;
// adding the raw word to the neighbouring lane preserves the input even when the keyed word
// multiplies to zero.
INNET_XXH3_INLINE INNET_HD inline constexpr void accumulate_stripe(u64* acc, const u8* in,
                                                                   const u8* secret) noexcept {
  for (usize i = 0; i < lanes; ++i) {
    u64 const value = read64(in + 8 * i);
    u64 const keyed = value ^ read64(secret + 8 * i);
    acc[i ^ 1] += value;
    acc[i] += (keyed & 0xFFFFFFFFU) * (keyed >> 32);
  }
}

// Run after every block so that the accumulators' high bits, which the 32-bit products never
// feed back, flow into the low bits again.
INNET_XXH3_INLINE INNET_HD inline constexpr void scramble(u64* acc, const u8* secret) noexcept {
  for (usize i = 0; i < lanes; ++i) {
    acc[i] = (xorshift64(acc[i], 47) ^ read64(secret + 8 * i)) * prime32_1;
  }
}

// Consumes every byte of a > 240 byte input into acc. The final stripe is always the input's
// last 64 bytes, overlapping earlier ones, so no partial stripe ever needs padding.
INNET_XXH3_INLINE INNET_HD inline constexpr void accumulate_long(u64* acc, const u8* in, usize len,
                                                                 const u8* secret) noexcept {
  // len - 1 so that an input ending exactly on a block or stripe boundary leaves its last stripe
  // to the final, overlapping step instead of processing it twice.
  usize const blocks = (len - 1) / block_len;
  for (usize b = 0; b < blocks; ++b) {
    for (usize s = 0; s < stripes_per_block; ++s) {
      accumulate_stripe(acc, in + b * block_len + s * stripe_len, secret + s * secret_consume_rate);
    }
    scramble(acc, secret + secret_size - stripe_len);
  }
  usize const stripes = ((len - 1) - block_len * blocks) / stripe_len;
  for (usize s = 0; s < stripes; ++s) {
    accumulate_stripe(acc, in + blocks * block_len + s * stripe_len,
                      secret + s * secret_consume_rate);
  }
  accumulate_stripe(acc, in + len - stripe_len,
                    secret + secret_size - stripe_len - secret_last_acc_start);
}

INNET_XXH3_INLINE INNET_HD inline constexpr u64 merge_accs(const u64* acc, const u8* secret,
                                                           u64 start) noexcept {
  u64 result = start;
  for (usize i = 0; i < 4; ++i) {
    result += mul128_fold64(acc[2 * i] ^ read64(secret + 16 * i),
                            acc[2 * i + 1] ^ read64(secret + 16 * i + 8));
  }
  return avalanche(result);
}

// Initial lanes as fixed by the reference (XXH3_INIT_ACC); distinct per lane, so lanes that see
// identical words still diverge.
struct long_state {
  u64 acc[lanes] = {prime32_3, prime64_1, prime64_2, prime64_3,
                    prime64_4, prime32_2, prime64_5, prime32_1};
};

INNET_XXH3_INLINE INNET_HD inline constexpr u64 hash64_long(const u8* in, usize len,
                                                            const u8* secret) noexcept {
  long_state state;
  accumulate_long(state.acc, in, len, secret);
  return merge_accs(state.acc, secret + secret_merge_accs_start, static_cast<u64>(len) * prime64_1);
}

INNET_XXH3_INLINE INNET_HD inline constexpr hash128 hash128_long(const u8* in, usize len,
                                                                 const u8* secret) noexcept {
  long_state state;
  accumulate_long(state.acc, in, len, secret);
  return {
      merge_accs(state.acc, secret + secret_merge_accs_start, static_cast<u64>(len) * prime64_1),
      merge_accs(state.acc, secret + secret_size - sizeof(state.acc) - secret_merge_accs_start,
                 ~(static_cast<u64>(len) * prime64_2))};
}

// Long inputs take the seed only through the secret: each 16-byte pair of default-secret words
// becomes (first + seed, second - seed). Seed 0 yields the default secret itself, which is why
// callers skip the derivation for it. Writes through a pointer rather than returning the block:
// GCC scalarises a returned 192-byte struct and rebuilds every word byte by byte.
INNET_XXH3_INLINE INNET_HD inline constexpr void derive_secret(u8* out, u64 seed) noexcept {
  const u8* const base = default_secret();
  // One word per iteration (rather than a pair) is what lets Clang merge each write64 into a
  // single store.
  for (usize i = 0; i < secret_size; i += 8) {
    u64 const delta = (i & 8) == 0 ? seed : u64{0} - seed;
    write64(out + i, read64(base + i) + delta);
  }
}

// The long path with its seed handling, kept out of line as one unit like the reference. The
// derived secret is left uninitialized (allowed in constexpr since C++20): derive_secret writes
// every byte, and zeroing it first would cost about as much as the derivation.
INNET_XXH3_OUTLINE INNET_HD inline constexpr u64 hash64_long_seeded(const u8* in, usize len,
                                                                    u64 seed) noexcept {
  secret_bytes derived;
  const u8* secret = default_secret();
  if (seed != 0) {
    derive_secret(derived.bytes, seed);
    secret = derived.bytes;
  }
  return hash64_long(in, len, secret);
}

INNET_XXH3_OUTLINE INNET_HD inline constexpr hash128 hash128_long_seeded(const u8* in, usize len,
                                                                         u64 seed) noexcept {
  secret_bytes derived;
  const u8* secret = default_secret();
  if (seed != 0) {
    derive_secret(derived.bytes, seed);
    secret = derived.bytes;
  }
  return hash128_long(in, len, secret);
}

}  // namespace innet::detail::xxh3

namespace innet {

// XXH3_64bits_withSeed(data, len, seed). data may be null when len is 0.
INNET_HD inline constexpr u64 xxh3_64(const u8* data, usize len, u64 seed = 0) noexcept {
  namespace x = detail::xxh3;
  if (len <= 16) return x::hash64_0to16(data, len, seed);
  if (len <= 128) return x::hash64_17to128(data, len, seed);
  if (len <= x::midsize_max) return x::hash64_129to240(data, len, seed);
  return x::hash64_long_seeded(data, len, seed);
}

// XXH3_128bits_withSeed(data, len, seed); low/high are XXH128_hash_t's low64/high64.
INNET_HD inline constexpr hash128 xxh3_128(const u8* data, usize len, u64 seed = 0) noexcept {
  namespace x = detail::xxh3;
  if (len <= 16) return x::hash128_0to16(data, len, seed);
  if (len <= 128) return x::hash128_17to128(data, len, seed);
  if (len <= x::midsize_max) return x::hash128_129to240(data, len, seed);
  return x::hash128_long_seeded(data, len, seed);
}

// Whole-array convenience, seed 0. There is deliberately no seeded array overload: with one,
// xxh3_64(array, n) would silently mean "seed n" instead of "first n bytes".
template <usize N>
INNET_HD inline constexpr u64 xxh3_64(const u8 (&data)[N]) noexcept {
  return xxh3_64(data, N);
}

template <usize N>
INNET_HD inline constexpr hash128 xxh3_128(const u8 (&data)[N]) noexcept {
  return xxh3_128(data, N);
}

}  // namespace innet

#undef INNET_XXH3_INLINE
#undef INNET_XXH3_OUTLINE
