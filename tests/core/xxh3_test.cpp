// innet::xxh3_64 / xxh3_128 must be bit-identical to libxxhash, since host code hashes with the
// library while BPF and GPU code use this header; any divergence silently splits sketch indexes.
#include "innet/core/xxh3.hpp"

#include <doctest/doctest.h>
#include <xxhash.h>

#include <vector>

namespace {

using innet::hash128;
using innet::u64;
using innet::u8;
using innet::usize;

// Deterministic bytes that are usable both in constant evaluation and at run time, so the
// static_asserts and the runtime cross-check below hash exactly the same input.
template <usize N>
struct byte_array {
  u8 bytes[N];
};

template <usize N>
constexpr byte_array<N> pattern() {
  byte_array<N> out{};
  u64 state = 0x243F6A8885A308D3ULL;
  for (usize i = 0; i < N; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    out.bytes[i] = static_cast<u8>(state >> 56);
  }
  return out;
}

constexpr auto kPattern = pattern<2048>();

constexpr u64 kGolden = 0x9E3779B97F4A7C15ULL;

struct pinned {
  usize len;
  u64 seed;
  u64 h64;
  hash128 h128;
};

// Obtained from libxxhash 0.8.1 (XXH3_64bits_withSeed / XXH3_128bits_withSeed) over kPattern.
// One case per length class: empty, 1-3, 4-8, 9-16, 17-128, 129-240, long without a full block,
// long with a custom secret, and long with a scrambled block.
constexpr pinned kPinned[] = {
    {0, 0, 0x2D06800538D394C2ULL, {0x6001C324468D497FULL, 0x99AA06D3014798D8ULL}},
    {3, 0, 0x40FFB44DDC6A1AE4ULL, {0x40FFB44DDC6A1AE4ULL, 0x28E76C0AED21454EULL}},
    {7, kGolden, 0x6881739ADCB1093BULL, {0x27466330F36291BBULL, 0x633BCF14CB51620BULL}},
    {16, 0, 0xF16CDB36E7FB7C86ULL, {0x60B7053A636DFC82ULL, 0xC74FBFBE5203F1DFULL}},
    {100, kGolden, 0xE98E2B53516EC752ULL, {0xD9325EB4A27A2410ULL, 0x256D061C3A0B6539ULL}},
    {200, 0, 0x7FD5FAF49D539F45ULL, {0x441030ACD0C7C370ULL, 0x10C2508FCA917C52ULL}},
    {1000, 0, 0x350ED0ED46BB7FDEULL, {0x350ED0ED46BB7FDEULL, 0x2C77A58545E4C13FULL}},
    {1000, kGolden, 0xA27842275860088CULL, {0xA27842275860088CULL, 0xF8C68E5E5A5CAB1AULL}},
    {2048, kGolden, 0x67155D0686BDD4E3ULL, {0x67155D0686BDD4E3ULL, 0x6262EE0516D91760ULL}},
};

// Each case is its own constant expression so a failure names the length class that broke.
template <usize I>
constexpr bool pinned_matches() {
  constexpr pinned c = kPinned[I];
  return innet::xxh3_64(kPattern.bytes, c.len, c.seed) == c.h64 &&
         innet::xxh3_128(kPattern.bytes, c.len, c.seed) == c.h128;
}

static_assert(pinned_matches<0>());
static_assert(pinned_matches<1>());
static_assert(pinned_matches<2>());
static_assert(pinned_matches<3>());
static_assert(pinned_matches<4>());
static_assert(pinned_matches<5>());
static_assert(pinned_matches<6>());
static_assert(pinned_matches<7>());
static_assert(pinned_matches<8>());

// The empty input may come with a null pointer, as it may for libxxhash.
static_assert(innet::xxh3_64(nullptr, 0) == 0x2D06800538D394C2ULL);

// The whole-array overloads hash all N bytes with seed 0. Like kPinned's 1000- and 2048-byte
// cases, this also shows that long inputs stay within the default constant-evaluation limits of
// g++ 12 and clang 14 (inputs up to 256 KiB did, when tried).
constexpr auto kThousand = pattern<1000>();
static_assert(innet::xxh3_64(kThousand.bytes) == 0x350ED0ED46BB7FDEULL);
static_assert(innet::xxh3_128(kThousand.bytes) ==
              hash128{0x350ED0ED46BB7FDEULL, 0x2C77A58545E4C13FULL});

hash128 to_hash128(XXH128_hash_t h) {
  return {h.low64, h.high64};
}

// splitmix64: fast, seedable, and good enough to make every input byte look independent.
u64 next_random(u64& state) {
  u64 z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

TEST_CASE("xxh3: pinned constexpr values agree with libxxhash") {
  for (const pinned& c : kPinned) {
    INFO("len=" << c.len << " seed=" << c.seed);
    CHECK(XXH3_64bits_withSeed(kPattern.bytes, c.len, c.seed) == c.h64);
    CHECK(to_hash128(XXH3_128bits_withSeed(kPattern.bytes, c.len, c.seed)) == c.h128);
    // Also through the runtime code path, which may differ from constant evaluation (e.g. the
    // 128-bit multiply).
    const u8* volatile data = kPattern.bytes;
    CHECK(innet::xxh3_64(data, c.len, c.seed) == c.h64);
    CHECK(innet::xxh3_128(data, c.len, c.seed) == c.h128);
  }
  CHECK(XXH3_64bits_withSeed(nullptr, 0, 0) == innet::xxh3_64(nullptr, 0));
}

// BPF (and nvcc device code before CUDA 11.5) takes the 32-bit-halves multiply instead of
// __uint128_t, so the host suite never runs it through the hashes above; check it against the
// native product directly.
constexpr bool portable_mul_matches(u64 a, u64 b) {
  const __uint128_t wide = static_cast<__uint128_t>(a) * b;
  const hash128 got = innet::detail::mul64to128_portable(a, b);
  return got.low == static_cast<u64>(wide) && got.high == static_cast<u64>(wide >> 64);
}

static_assert(portable_mul_matches(~u64{0}, ~u64{0}));
static_assert(portable_mul_matches(0xFFFFFFFFULL, 0xFFFFFFFF00000000ULL));

TEST_CASE("detail/mul128.hpp: the portable 64x64->128 multiply matches __uint128_t") {
  constexpr u64 kEdges[] = {
      0, 1, 0xFFFFFFFFULL, 0x100000000ULL, u64{1} << 63, ~u64{0}, 0xFFFFFFFF00000000ULL, kGolden};
  for (u64 a : kEdges) {
    for (u64 b : kEdges) {
      CHECK(portable_mul_matches(a, b));
    }
  }
  u64 rng = 42;
  for (int i = 0; i < 100000; ++i) {
    const u64 a = next_random(rng);
    const u64 b = next_random(rng);
    // Random values rarely have all-ones halves; masking some exercises the carries.
    REQUIRE(portable_mul_matches(a, b));
    REQUIRE(portable_mul_matches(a | 0xFFFFFFFFULL, b | 0xFFFFFFFF00000000ULL));
  }
}

TEST_CASE("xxh3: matches libxxhash for every length up to 2100") {
  // 2100 reaches two scrambled 1 KiB blocks plus a partial one; the offsets make the input
  // start misaligned for 8-byte loads.
  constexpr usize kMaxLen = 2100;
  constexpr usize kOffsets[] = {0, 1, 3, 7};
  std::vector<u8> buffer(kMaxLen + 8);
  u64 rng = 0x5EED5EED12345678ULL;
  for (u8& b : buffer) {
    b = static_cast<u8>(next_random(rng));
  }

  std::vector<u64> seeds = {0, 1, kGolden, ~u64{0}, u64{1} << 63};
  for (int i = 0; i < 3; ++i) {
    seeds.push_back(next_random(rng));
  }

  for (u64 seed : seeds) {
    for (usize offset : kOffsets) {
      const u8* base = buffer.data() + offset;
      for (usize len = 0; len <= kMaxLen; ++len) {
        INFO("len=" << len << " seed=" << seed << " offset=" << offset);
        // REQUIRE: one mismatch usually means thousands; report the first and stop.
        REQUIRE(innet::xxh3_64(base, len, seed) == XXH3_64bits_withSeed(base, len, seed));
        REQUIRE(innet::xxh3_128(base, len, seed) ==
                to_hash128(XXH3_128bits_withSeed(base, len, seed)));
      }
    }
  }
}

}  // namespace
