// The freestanding row kernel (sketch/detail/rows.hpp), checked against hand computations: the
// column of row r is floor(x_r * width / 2^64) with x_r = h1 + r * (h2 | 1), computed here
// independently of hash_family with a 128-bit product.
#include "innet/sketch/detail/rows.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "innet/core/random.hpp"

namespace {
using innet::hash128;
using innet::hash_family;
using innet::u32;
using innet::u64;
namespace sk = innet::sketch;

__extension__ using u128 = unsigned __int128;

// Row r's column by the definition in core/hash_family.hpp, not by calling it.
u64 column_by_hand(hash128 d, u32 row, u64 width) {
  const u64 x = d.low + u64{row} * (d.high | 1);
  return static_cast<u64>((static_cast<u128>(x) * width) >> 64);
}

hash128 random_digest(innet::xoshiro256ss& rng) {
  const u64 low = rng();
  return {low, rng()};
}
}  // namespace

TEST_CASE("count_min_add adds the weight at row r, column index(r) of row-major counters") {
  innet::xoshiro256ss rng(1);
  for (const u64 width : {1ULL, 7ULL, 10ULL, 4096ULL, 1000003ULL}) {
    const u32 depth = 4;
    std::vector<u64> counters(depth * width, 0), expected(depth * width, 0);
    for (int n = 0; n < 200; ++n) {
      const hash128 d = random_digest(rng);
      const u64 weight = 1 + rng() % 100;
      sk::count_min_add(counters.data(), depth, width, hash_family(d), weight);
      for (u32 r = 0; r < depth; ++r)
        expected[r * width + column_by_hand(d, r, width)] += weight;
    }
    CHECK(counters == expected);
  }
}

TEST_CASE("the power-of-two width policy finds the same columns as the general one") {
  innet::xoshiro256ss rng(2);
  for (unsigned bits = 1; bits <= 20; ++bits) {
    const u64 width = u64{1} << bits;
    std::vector<u32> general(3 * width, 0), shifted(3 * width, 0);
    for (int n = 0; n < 100; ++n) {
      const hash_family h(random_digest(rng));
      sk::detail::count_min_add(general.data(), 3, sk::detail::any_width{width}, h, u32{1});
      sk::detail::count_min_add(shifted.data(), 3, sk::detail::pow2_width{bits}, h, u32{1});
      CHECK(sk::detail::count_min_query(general.data(), 3, sk::detail::any_width{width}, h) ==
            sk::detail::count_min_query(shifted.data(), 3, sk::detail::pow2_width{bits}, h));
    }
    CHECK(general == shifted);
  }
}

TEST_CASE("count_min_query is the least of the key's counters") {
  const hash128 d{0x0123456789ABCDEFULL, 0xFEDCBA9876543210ULL};
  const hash_family h(d);
  constexpr u64 width = 16;
  std::array<u32, 3 * width> counters{};
  const u32 values[3] = {9, 4, 7};
  for (u32 r = 0; r < 3; ++r)
    counters[r * width + column_by_hand(d, r, width)] = values[r];
  CHECK(sk::count_min_query(counters.data(), 3, width, h) == 4);
}

TEST_CASE("conservative update raises only the counters below the new estimate") {
  const hash128 d{0x1111222233334444ULL, 0x5555666677778888ULL};
  const hash_family h(d);
  constexpr u64 width = 8;
  std::array<u32, 2 * width> counters{};
  const u64 c0 = column_by_hand(d, 0, width), c1 = width + column_by_hand(d, 1, width);
  counters[c0] = 5;
  counters[c1] = 2;
  // Estimate 2, plus 3: the new estimate is 5. Row 0 already holds 5 and stays; row 1 rises to 5.
  sk::count_min_add_conservative(counters.data(), 2, width, h, u32{3});
  CHECK(counters[c0] == 5);
  CHECK(counters[c1] == 5);
  CHECK(sk::count_min_query(counters.data(), 2, width, h) == 5);
  // Standard update would have added 3 to both.
  std::array<u32, 2 * width> standard{};
  standard[c0] = 5;
  standard[c1] = 2;
  sk::count_min_add(standard.data(), 2, width, h, u32{3});
  CHECK(standard[c0] == 8);
  CHECK(standard[c1] == 5);
}

TEST_CASE("count_sketch_add adds sign(r) * weight and row estimates undo the sign") {
  innet::xoshiro256ss rng(3);
  constexpr u64 width = 50;
  constexpr u32 depth = 5;
  std::vector<std::int64_t> counters(depth * width, 0), expected(depth * width, 0);
  int minus = 0;
  for (int n = 0; n < 300; ++n) {
    const hash128 d = random_digest(rng);
    const hash_family h(d);
    const auto weight = static_cast<std::int64_t>(rng() % 100) - 50;
    sk::count_sketch_add(counters.data(), depth, width, h, weight);
    for (u32 r = 0; r < depth; ++r) {
      // The sign by its definition: the top bit of fmix64(x_r), set meaning -1.
      const u64 x = d.low + u64{r} * (d.high | 1);
      const bool negative = (innet::detail::fmix64(x) >> 63) != 0;
      minus += negative ? 1 : 0;
      expected[r * width + column_by_hand(d, r, width)] += negative ? -weight : weight;
    }
  }
  CHECK(counters == expected);
  CHECK(minus > 600);  // both signs occur (1500 draws)
  CHECK(minus < 900);
  const hash128 d{42, 43};
  const hash_family h(d);
  std::vector<std::int32_t> one(depth * width, 0);
  sk::count_sketch_add(one.data(), depth, width, h, 17);
  for (u32 r = 0; r < depth; ++r)
    CHECK(sk::count_sketch_row_estimate(one.data(), depth, width, h, r) == 17);
}

TEST_CASE("counters wrap modulo 2^bits, signed ones included") {
  const hash_family h(hash128{5, 6});
  std::array<std::uint8_t, 1> u8s{255};
  sk::count_min_add(u8s.data(), 1, 1, h, std::uint8_t{2});
  CHECK(u8s[0] == 1);
  std::array<std::int8_t, 1> i8s{127};
  sk::count_sketch_add(i8s.data(), 1, 1, h, static_cast<std::int8_t>(h.sign(0)));
  CHECK(i8s[0] == -128);
  CHECK(sk::detail::wrapping_negate(std::numeric_limits<std::int64_t>::min()) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(sk::detail::wrapping_add(std::numeric_limits<std::int32_t>::max(), 1) ==
        std::numeric_limits<std::int32_t>::min());
  CHECK(sk::detail::wrapping_add(std::uint16_t{65535}, std::uint16_t{3}) == 2);
}

TEST_CASE("median_in_place takes the middle, or the lower midpoint of the two middles") {
  std::array<int, 3> odd{3, 1, 2};
  CHECK(sk::detail::median_in_place(odd.data(), 3) == 2);
  std::array<int, 4> even{4, 1, 3, 2};
  CHECK(sk::detail::median_in_place(even.data(), 4) == 2);  // floor(2.5)
  CHECK(even == std::array<int, 4>{1, 2, 3, 4});
  std::array<int, 2> negative{-2, -3};
  CHECK(sk::detail::median_in_place(negative.data(), 2) == -3);  // floor(-2.5)
  std::array<std::int64_t, 2> extremes{std::numeric_limits<std::int64_t>::max(),
                                       std::numeric_limits<std::int64_t>::min()};
  CHECK(sk::detail::median_in_place(extremes.data(), 2) == -1);  // floor(-0.5), no overflow
  std::array<int, 1> single{-7};
  CHECK(sk::detail::median_in_place(single.data(), 1) == -7);
}

TEST_CASE("the atomic kernels add exactly what the plain ones add") {
  innet::xoshiro256ss rng(4);
  constexpr u64 width = 333;
  std::vector<u64> plain(4 * width, 0), atomic(4 * width, 0);
  std::vector<std::int32_t> splain(4 * width, 0), satomic(4 * width, 0);
  for (int n = 0; n < 500; ++n) {
    const hash_family h(random_digest(rng));
    sk::count_min_add(plain.data(), 4, width, h, u64{3});
    sk::count_min_add_atomic(atomic.data(), 4, width, h, u64{3});
    sk::count_sketch_add(splain.data(), 4, width, h, 5);
    sk::count_sketch_add_atomic(satomic.data(), 4, width, h, 5);
  }
  CHECK(plain == atomic);
  CHECK(splain == satomic);
}

namespace {
// The kernel in constant evaluation: the column is known at compile time, as the P4 generator
// and static checks need.
constexpr u32 constexpr_query() {
  std::array<u32, 2 * 8> counters{};
  const hash_family h(hash128{0x8000000000000000ULL, 0});  // x_0 = 2^63, x_1 = 2^63 + 1
  sk::count_min_add(counters.data(), 2, 8, h, u32{4});
  sk::count_min_add(counters.data(), 2, 8, h, u32{1});
  return counters[4] * 100 + counters[8 + 4] * 10 + sk::count_min_query(counters.data(), 2, 8, h);
}
static_assert(constexpr_query() == 555);  // both rows land in column floor(2^63 * 8 / 2^64) = 4
}  // namespace
