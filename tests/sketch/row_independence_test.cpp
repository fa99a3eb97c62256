// Rows of a sketch must fail independently: the epsilon/delta guarantees multiply per-row failure
// probabilities. At power-of-two widths this is where CRC-seeded rows break: CRC is linear, so for
// keys of one length crc(seed_r, key) = crc(0, key) ^ c_r, every row's index is row 0's XOR a
// constant, and two keys that collide in one row collide in all of them (the sketch is one row).
//
// For distinct keys, P[collide in row j | collide in row i] must be about 1 / width for our rows
// (one XXH3-128 per key, Kirsch-Mitzenmacher rows taking the high bits, core/hash_family.hpp),
// and is 1 for a DPDK-style CRC32C-per-row-seed construction (rte_member's sketch:
// index_r = crc32c(key, seed_r) & (w - 1)), implemented here bytewise as the contrast: the
// detector demonstrably fires on the shape we must not regress to.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/sketch/detail/rows.hpp"

namespace {
using innet::u32;
using innet::u64;

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, bytewise with a 256-entry table.
constexpr std::array<u32, 256> crc32c_table() {
  std::array<u32, 256> t{};
  for (u32 i = 0; i < 256; ++i) {
    u32 c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto crc_table = crc32c_table();

// The raw register update, as rte_hash_crc(key, len, init_val) uses it: no pre/post inversion.
constexpr u32 crc32c_update(u32 crc, std::span<const std::byte> bytes) {
  for (const std::byte b : bytes)
    crc = crc_table[(crc ^ std::to_integer<u32>(b)) & 0xFF] ^ (crc >> 8);
  return crc;
}

// The standard CRC-32C: init and final XOR 0xFFFFFFFF.
constexpr u32 crc32c(std::span<const std::byte> bytes) {
  return ~crc32c_update(0xFFFFFFFFU, bytes);
}

constexpr bool crc_check_value() {
  constexpr char text[] = "123456789";
  std::array<std::byte, 9> b{};
  for (int i = 0; i < 9; ++i)
    b[i] = static_cast<std::byte>(text[i]);
  return crc32c(b) == 0xE3069283U;  // the published check value of CRC-32C
}
static_assert(crc_check_value());

// Among pairs of keys that collide in row a, the fraction that also collide in row b. Keys are
// grouped by their row-a column (a counting sort); within a group, pairs with equal row-b columns
// collide in both. O(keys) plus sorts of groups of a few dozen.
double conditional_collision_rate(const std::vector<u64>& row_a, const std::vector<u64>& row_b,
                                  u64 width) {
  std::vector<std::size_t> start(width + 1, 0);
  for (const u64 a : row_a)
    ++start[a + 1];
  for (u64 c = 0; c < width; ++c)
    start[c + 1] += start[c];
  std::vector<u64> grouped(row_a.size());
  std::vector<std::size_t> next(start.begin(), start.end() - 1);
  for (std::size_t i = 0; i < row_a.size(); ++i)
    grouped[next[row_a[i]]++] = row_b[i];
  auto pairs = [](std::size_t n) {
    return static_cast<double>(n) * (static_cast<double>(n) - 1) / 2;
  };
  double in_a = 0, in_both = 0;
  for (u64 c = 0; c < width; ++c) {
    const auto first = grouped.begin() + static_cast<std::ptrdiff_t>(start[c]);
    const auto last = grouped.begin() + static_cast<std::ptrdiff_t>(start[c + 1]);
    in_a += pairs(static_cast<std::size_t>(last - first));
    std::sort(first, last);
    for (auto i = first; i != last;) {
      auto j = i;
      while (j != last && *j == *i)
        ++j;
      in_both += pairs(static_cast<std::size_t>(j - i));
      i = j;
    }
  }
  return in_both / in_a;
}

// Per-row indices of keys 0..n-1 (8-byte keys) under a row-index function.
template <class Index>
std::vector<std::vector<u64>> row_indices(u64 n, u32 depth, Index index) {
  std::vector<std::vector<u64>> rows(depth, std::vector<u64>(n));
  for (u64 k = 0; k < n; ++k) {
    const u64 value = k * 0x9E3779B97F4A7C15ULL;  // distinct keys (an odd multiplier)
    const auto key = innet::object_bytes(value);
    for (u32 r = 0; r < depth; ++r)
      rows[r][k] = index(key, r);
  }
  return rows;
}

constexpr u32 depth = 4;
constexpr u64 seed = 0x5EED;
}  // namespace

TEST_CASE("our rows are pairwise independent at power-of-two widths") {
  for (unsigned bits = 8; bits <= 16; bits += 2) {
    const u64 width = u64{1} << bits;
    // About 24^2 / 2 = 288 pairs are expected to collide in both rows of a pair: the count is
    // within 30% of that with overwhelming probability (more than 5 standard deviations).
    const u64 keys = 24 * width;
    const auto rows = row_indices(keys, depth, [&](std::span<const std::byte> key, u32 r) {
      return innet::make_hash_family(key, seed).index_pow2(r, bits);
    });
    for (const auto& rows_pair : {std::pair<u32, u32>{0, 1}, {1, 2}, {0, 3}}) {
      const u32 a = rows_pair.first, b = rows_pair.second;
      const double rate = conditional_collision_rate(rows[a], rows[b], width);
      CAPTURE(bits);
      CAPTURE(a);
      CAPTURE(b);
      CAPTURE(rate * width);
      CHECK(rate * width > 0.7);
      CHECK(rate * width < 1.3);
    }
  }
}

TEST_CASE("CRC32C rows seeded per row collide in every row once they collide in one") {
  const std::array<u32, depth> seeds{0x00000000U, 0x12345678U, 0x9ABCDEF0U, 0xDEADBEEFU};
  for (unsigned bits = 8; bits <= 16; bits += 2) {
    const u64 width = u64{1} << bits;
    const u64 keys = 4 * width;  // the conditional rate is exactly 1: few pairs show it
    const auto rows = row_indices(keys, depth, [&](std::span<const std::byte> key, u32 r) {
      return u64{crc32c_update(seeds[r], key) & (width - 1)};
    });
    for (const auto& [a, b] : {std::pair<u32, u32>{0, 1}, {1, 2}, {0, 3}}) {
      CHECK(conditional_collision_rate(rows[a], rows[b], width) > 0.99);  // not 1 / width
    }
  }
}

TEST_CASE("the kernel's columns are the hash family's, so the sketch inherits independence") {
  // The sketch kernel indexes row r with hash_family::index(r, width): equal to index_pow2 at
  // power-of-two widths (the form checked above) for every row.
  for (u64 k = 0; k < 1000; ++k) {
    const auto h = innet::make_hash_family(innet::object_bytes(k), seed);
    for (u32 r = 0; r < depth; ++r) {
      std::array<u32, 4 * 256> counters{};
      innet::sketch::count_min_add(counters.data(), depth, 256, h, u32{1});
      CHECK(counters[r * 256 + h.index_pow2(r, 8)] == 1);
    }
  }
}
