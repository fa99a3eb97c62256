// Checks innet/core/random.hpp against the published reference streams (bit-exactness is the
// whole point of the header) and checks that uniform_below is unbiased with a chi-square test
// that is shown to have the power to reject the usual biased reductions.
#include "innet/core/random.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>

namespace {

using innet::splitmix64;
using innet::xoshiro256ss;

static_assert(std::uniform_random_bit_generator<xoshiro256ss>);
static_assert(std::uniform_random_bit_generator<splitmix64>);
static_assert(innet::random_u64_generator<xoshiro256ss>);
static_assert(innet::random_u64_generator<std::mt19937_64>);
static_assert(!innet::random_u64_generator<std::mt19937>);  // 32-bit words

// The reference vector holds in constant evaluation too.
static_assert([] {
  auto g = xoshiro256ss::from_state({1, 2, 3, 4});
  return g() == 11520 && g() == 0 && g() == 1509978240;
}());

template <std::size_t Bins>
double chi_square(const std::array<std::uint64_t, Bins>& counts, double expected_per_bin) {
  double chi2 = 0.0;
  for (const auto c : counts) {
    const double d = static_cast<double>(c) - expected_per_bin;
    chi2 += d * d / expected_per_bin;
  }
  return chi2;
}

// Any generator function with a 64-bit result, wrapped as a random_u64_generator so that the
// same chi-square code can run biased reductions.
template <class F>
struct fn_generator {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  F f;
  result_type operator()() { return f(); }
};

// clang 14 lacks class template argument deduction for aggregates.
template <class F>
fn_generator<F> make_generator(F f) {
  return {f};
}

}  // namespace

TEST_CASE("splitmix64 matches the reference implementation") {
  // Seed 0: the first outputs of splitmix64.c, as several independent ports quote them.
  splitmix64 zero{0};
  CHECK(zero() == 0xE220A8397B1DCDAFULL);
  CHECK(zero() == 0x6E789E6AA1B965F4ULL);
  CHECK(zero() == 0x06C45D188009454FULL);
  CHECK(zero() == 0xF88BB8A8724C81ECULL);

  // rand_xoshiro's `reference` test for SplitMix64 ("produced with the reference
  // implementation", http://xoshiro.di.unimi.it/splitmix64.c).
  splitmix64 g{1477776061723855037ULL};
  for (const std::uint64_t want :
       {1985237415132408290ULL, 2979275885539914483ULL, 13511426838097143398ULL,
        8488337342461049707ULL, 15141737807933549159ULL}) {
    CHECK(g() == want);
  }
}

TEST_CASE("xoshiro256** matches the reference implementation") {
  // rand_xoshiro's `reference` test: state {1, 2, 3, 4}, values produced with
  // http://xoshiro.di.unimi.it/xoshiro256starstar.c.
  auto g = xoshiro256ss::from_state({1, 2, 3, 4});
  for (const std::uint64_t want :
       {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL, 1216172134540287360ULL,
        607988272756665600ULL, 16172922978634559625ULL, 8476171486693032832ULL,
        10595114339597558777ULL, 2904607092377533576ULL}) {
    CHECK(g() == want);
  }
}

TEST_CASE("seeding fills the state from splitmix64") {
  splitmix64 sm{42};
  const xoshiro256ss::state_type expected_state{sm(), sm(), sm(), sm()};
  xoshiro256ss g{42};
  CHECK(g.state() == expected_state);
  CHECK(g == xoshiro256ss::from_state(expected_state));

  // Seed 0 through the published algorithms, computed independently (Python transcription);
  // pins the seeding convention, which no reference vector covers.
  xoshiro256ss zero{0};
  CHECK(zero() == 0x99EC5F36CB75F2B4ULL);
  CHECK(zero() == 0xBF6E1F784956452AULL);
  CHECK(zero() == 0x1A5F849D4933E6E0ULL);
  CHECK(zero() == 0x6AA594F1262D2D2CULL);
}

TEST_CASE("same seed gives the same stream, different seeds differ") {
  xoshiro256ss a{12345}, b{12345}, c{12346};
  bool all_equal_c = true;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a();
    CHECK(x == b());
    all_equal_c = all_equal_c && x == c();
  }
  CHECK_FALSE(all_equal_c);

  xoshiro256ss d{7};
  d.seed(12345);
  CHECK(d == xoshiro256ss{12345});

  // The helpers consume the stream identically too.
  xoshiro256ss e{99}, f{99};
  for (int i = 0; i < 100; ++i) {
    CHECK(innet::uniform_below(e, 1000) == innet::uniform_below(f, 1000));
    CHECK(innet::uniform_double(e) == innet::uniform_double(f));
  }
}

TEST_CASE("uniform_double covers 0 to 1, excluding 1, on the 2^-53 grid") {
  auto lowest = make_generator([] { return std::uint64_t{0}; });
  auto highest = make_generator([] { return ~std::uint64_t{0}; });
  auto one_ulp = make_generator([] { return std::uint64_t{1} << 11; });
  CHECK(innet::uniform_double(lowest) == 0.0);
  CHECK(innet::uniform_double(highest) == 1.0 - 0x1.0p-53);
  CHECK(innet::uniform_double(one_ulp) == 0x1.0p-53);

  xoshiro256ss g{1};
  double sum = 0.0;
  constexpr int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double u = innet::uniform_double(g);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // Mean of U[0,1) is 1/2 with standard error sqrt(1/12/n) ~ 0.0009.
  CHECK(sum / n == doctest::Approx(0.5).epsilon(0.005));
}

TEST_CASE("uniform_below stays in range") {
  xoshiro256ss g{5};
  for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 7ULL, 1000ULL, (1ULL << 63) + 1, ~0ULL}) {
    for (int i = 0; i < 1000; ++i)
      REQUIRE(innet::uniform_below(g, n) < n);
  }
  CHECK(innet::uniform_below(g, 0) == 0);
}

// Chi-square critical values at p = 1e-6: df 5 -> 35.89, df 8 -> 42.70. The seeds are fixed, so
// the outcome is deterministic; the threshold only says how surprising a failure would be.
TEST_CASE("uniform_below is unbiased for a small n (chi-square)") {
  constexpr std::uint64_t n = 6;
  constexpr int draws = 600000;
  constexpr double expected = draws / static_cast<double>(n);
  constexpr double critical = 35.89;

  xoshiro256ss g{2024};
  std::array<std::uint64_t, n> counts{};
  for (int i = 0; i < draws; ++i)
    ++counts[innet::uniform_below(g, n)];
  CHECK(chi_square(counts, expected) < critical);

  // Power check: the same reduction by modulo from an 8-bit source (256 = 42 * 6 + 4, so four
  // residues are 43/42 as likely as the others, a 0.8% bias) must be rejected.
  xoshiro256ss h{2024};
  std::array<std::uint64_t, n> biased{};
  for (int i = 0; i < draws; ++i)
    ++biased[(h() >> 56) % n];
  CHECK(chi_square(biased, expected) > critical);
}

TEST_CASE("uniform_below is unbiased where naive reductions are not (chi-square)") {
  // For n = 3 * 2^62, 2^64 mod n = 2^62: a quarter of all words fall in the partial bucket, so
  // skipping the rejection step shows up immediately. Bin by (value >> 62, value % 3): both are
  // uniform over {0, 1, 2} for an unbiased draw; `rng() % n` doubles the weight of values below
  // 2^62, and the multiply-high without rejection doubles the weight of multiples of 3.
  constexpr std::uint64_t n = 3ULL << 62;
  constexpr int draws = 900000;
  constexpr double expected = draws / 9.0;
  constexpr double critical = 42.70;
  const auto bin = [](std::uint64_t v) { return static_cast<std::size_t>((v >> 62) * 3 + v % 3); };

  const auto histogram = [&](auto draw) {
    std::array<std::uint64_t, 9> counts{};
    for (int i = 0; i < draws; ++i) {
      const std::uint64_t v = draw();
      REQUIRE(v < n);
      ++counts[bin(v)];
    }
    return counts;
  };

  xoshiro256ss g{77};
  CHECK(chi_square(histogram([&] { return innet::uniform_below(g, n); }), expected) < critical);

  xoshiro256ss h{77};
  CHECK(chi_square(histogram([&] { return h() % n; }), expected) > critical);

  xoshiro256ss k{77};
  CHECK(chi_square(histogram([&] { return innet::detail::mul_high64(k(), n); }), expected) >
        critical);
}
