// Statistical checks of innet/workload/zipfian.hpp. Gray's method is exact for ranks 0 and 1 and
// approximates the rest of the Zipf pmf, so the generator is held to three standards:
//   (a) ranks 0 and 1 against the true pmf, tightly;
//   (b) every rank against the distribution its own formula implies, derived here by inverting
//       base + floor(n (eta u - eta + 1)^alpha) for the interval of u that yields each rank;
//   (c) the whole histogram against the true pmf with a total-variation bound that Gray's error
//       (TV ~ 0.016 at n = 1000, theta = 0.99) passes but a wrong skew or a uniform fails, which
//       the test demonstrates on real samples.
// Counts are compared within 5 binomial standard deviations (+1 count for discreteness). Seeds
// are fixed, so the outcome is deterministic.
#include "innet/workload/zipfian.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "innet/core/random.hpp"

namespace {

using innet::xoshiro256ss;
using innet::workload::scrambled_zipfian_generator;
using innet::workload::skewed_latest_generator;
using innet::workload::uniform_generator;
using innet::workload::zipfian_generator;

// The generator a valid configuration must yield.
template <class T>
T created(absl::StatusOr<T> generator) {
  INFO(generator.status().ToString());
  REQUIRE(generator.ok());
  return *std::move(generator);
}

// A rejected configuration: InvalidArgument, with a message that names the problem.
void check_rejected(const absl::Status& status, absl::string_view problem) {
  INFO(status.ToString());
  CAPTURE(problem);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), problem));
}

constexpr std::uint64_t n_items = 1000;
constexpr std::uint64_t n_samples = 2'000'000;

// Probability that `g` returns base + k, for every k, from its formula (not from sampling):
// P(u in [lo, hi)) = hi - lo for u uniform on [0, 1).
//   u < 1/zetan                      -> 0
//   u < (1 + 0.5^theta)/zetan        -> 1
//   otherwise floor(n (eta u - eta + 1)^alpha) = k  <=>  U(k) <= u < U(k + 1), where
//   U(k) = 1 + ((k/n)^(1 - theta) - 1) / eta  (alpha = 1/(1 - theta)); values >= n clamp to n-1.
std::vector<double> implied_pmf(const zipfian_generator& g) {
  const std::uint64_t n = g.item_count();
  const double theta = g.theta(), eta = g.eta(), zetan = g.zetan();
  const double u1 = 1.0 / zetan;
  const double u2 = (1.0 + std::pow(0.5, theta)) / zetan;
  const auto boundary = [&](std::uint64_t k) {
    return 1.0 +
           (std::pow(static_cast<double>(k) / static_cast<double>(n), 1.0 - theta) - 1.0) / eta;
  };
  std::vector<double> p(n, 0.0);
  p[0] = std::min(u1, 1.0);
  if (n > 1) p[1] = std::min(u2, 1.0) - std::min(u1, 1.0);
  for (std::uint64_t k = 0; k < n; ++k) {
    const double lo = std::max(boundary(k), u2);
    const double hi = k + 1 == n ? 1.0 : std::min(boundary(k + 1), 1.0);
    if (hi > lo) p[k] += hi - lo;
  }
  return p;
}

std::vector<double> true_pmf(std::uint64_t n, double theta) {
  std::vector<double> p(n);
  const double z = innet::workload::zeta(n, theta);
  for (std::uint64_t k = 0; k < n; ++k)
    p[k] = 1.0 / std::pow(static_cast<double>(k + 1), theta) / z;
  return p;
}

template <class Draw>
std::vector<std::uint64_t> histogram(std::uint64_t n, std::uint64_t samples, Draw draw) {
  std::vector<std::uint64_t> counts(n, 0);
  for (std::uint64_t i = 0; i < samples; ++i) {
    const std::uint64_t v = draw();
    REQUIRE(v < n);
    ++counts[v];
  }
  return counts;
}

bool within_5_sigma(std::uint64_t observed, std::uint64_t samples, double p) {
  const double expected = static_cast<double>(samples) * p;
  const double sigma = std::sqrt(static_cast<double>(samples) * p * (1.0 - p));
  return std::fabs(static_cast<double>(observed) - expected) <= 5.0 * sigma + 1.0;
}

double total_variation(const std::vector<std::uint64_t>& counts, const std::vector<double>& p) {
  double samples = 0.0;
  for (const auto c : counts)
    samples += static_cast<double>(c);
  double tv = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    tv += std::fabs(static_cast<double>(counts[k]) / samples - p[k]);
  }
  return tv / 2.0;
}

// Gray's approximation error is TV 0.016 (theta 0.99) and 0.0034 (theta 0.5) at n = 1000, plus
// ~0.01 of sampling noise at 2M samples; a theta off by 0.1 is already TV ~0.08 away.
constexpr double tv_bound = 0.05;

std::vector<std::uint64_t> sample_zipfian(double theta, std::uint64_t seed) {
  const auto g = created(zipfian_generator::create(0, n_items, theta));
  xoshiro256ss rng{seed};
  return histogram(n_items, n_samples, [&] { return g.next(rng); });
}

void check_against_theta(const std::vector<std::uint64_t>& counts, double theta) {
  const auto g = created(zipfian_generator::create(0, n_items, theta));
  const auto truth = true_pmf(n_items, theta);
  const auto implied = implied_pmf(g);

  // (a) Ranks 0 and 1: Gray's method is exact there (the implied pmf equals the true one).
  for (std::size_t k : {0, 1}) {
    CHECK(implied[k] == doctest::Approx(truth[k]).epsilon(1e-12));
    CHECK(implied[k] ==
          doctest::Approx(innet::workload::zipf_pmf(n_items, theta, k)).epsilon(1e-12));
    CHECK(within_5_sigma(counts[k], n_samples, truth[k]));
  }

  // (b) Every rank against the generator's own formula.
  double implied_sum = 0.0;
  std::size_t failures = 0;
  for (std::size_t k = 0; k < n_items; ++k) {
    implied_sum += implied[k];
    if (!within_5_sigma(counts[k], n_samples, implied[k])) ++failures;
  }
  CHECK(implied_sum == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(failures == 0);

  // (c) The whole distribution against the true pmf.
  CHECK(total_variation(counts, truth) < tv_bound);
}

}  // namespace

TEST_CASE("zeta") {
  CHECK(innet::workload::zeta(1, 0.99) == 1.0);
  CHECK(innet::workload::zeta(2, 0.5) == doctest::Approx(1.0 + 1.0 / std::sqrt(2.0)));
  CHECK(innet::workload::zeta(12345, 0.0) == doctest::Approx(12345.0));
  // Reference values from mpmath (zeta(s) - zeta(s, n + 1)).
  CHECK(innet::workload::zeta(1000, 0.99) == doctest::Approx(7.72895321728473860).epsilon(1e-13));
  // Past 2^20 items the Euler-Maclaurin tail takes over.
  CHECK(innet::workload::zeta((1 << 20) + 1, 0.99) ==
        doctest::Approx(15.4463241652003706).epsilon(1e-13));
  CHECK(innet::workload::zeta(10'000'000'001ULL, 0.5) ==
        doctest::Approx(199998.539660491190).epsilon(1e-13));
  // YCSB's precomputed constant for 10^10 items (true value 26.46902820175148...).
  CHECK(innet::workload::zeta(10'000'000'000ULL, 0.99) ==
        doctest::Approx(scrambled_zipfian_generator::ycsb_zetan).epsilon(1e-11));
  // Both sides of the switch agree with a plain sum.
  const std::uint64_t just_past = innet::workload::detail::zeta_direct_limit + 1000;
  CHECK(innet::workload::zeta(just_past, 0.7) ==
        doctest::Approx(innet::workload::detail::zeta_partial(0, just_past, 0.7, 0.0))
            .epsilon(1e-13));
  CHECK(innet::workload::zeta(just_past, 1.0) ==
        doctest::Approx(innet::workload::detail::zeta_partial(0, just_past, 1.0, 0.0))
            .epsilon(1e-13));

  double pmf_sum = 0.0;
  for (std::uint64_t k = 0; k < 100; ++k)
    pmf_sum += innet::workload::zipf_pmf(100, 0.99, k);
  CHECK(pmf_sum == doctest::Approx(1.0).epsilon(1e-14));
}

TEST_CASE("ycsb_fnvhash64 matches YCSB") {
  // The first keys of every hashed YCSB load are "user" + fnvhash64(0, 1, 2).
  static_assert(innet::workload::ycsb_fnvhash64(0) == 6284781860667377211ULL);
  CHECK(innet::workload::ycsb_fnvhash64(1) == 8517097267634966620ULL);
  CHECK(innet::workload::ycsb_fnvhash64(2) == 1820151046732198393ULL);
}

TEST_CASE("zipfian_generator, theta 0.99 and 0.5, vs the analytical distribution") {
  const auto skewed = sample_zipfian(0.99, 1);
  const auto mild = sample_zipfian(0.5, 2);

  // One set of samples per theta serves both its own checks and the negative controls.
  check_against_theta(skewed, 0.99);
  check_against_theta(mild, 0.5);

  // The bound in (c) is loose enough for Gray's approximation but not for these.
  CHECK(total_variation(mild, true_pmf(n_items, 0.99)) > tv_bound);
  CHECK(total_variation(skewed, true_pmf(n_items, 0.5)) > tv_bound);
  xoshiro256ss rng{3};
  const auto uniform = created(uniform_generator::create(0, n_items));
  const auto flat = histogram(n_items, n_samples, [&] { return uniform.next(rng); });
  CHECK(total_variation(flat, true_pmf(n_items, 0.99)) > tv_bound);
  CHECK(total_variation(flat, true_pmf(n_items, 0.0)) < 0.02);
}

TEST_CASE("zipfian_generator honours base and keeps to its range") {
  const auto g = created(zipfian_generator::create(5000, 10, 0.99));
  xoshiro256ss rng{4};
  std::vector<std::uint64_t> counts(10, 0);
  for (int i = 0; i < 100000; ++i) {
    const auto v = g.next(rng);
    REQUIRE(v >= 5000);
    REQUIRE(v < 5010);
    ++counts[v - 5000];
  }
  CHECK(std::max_element(counts.begin(), counts.end()) == counts.begin());

  // Degenerate sizes stay in range (n = 2 makes eta 0/0).
  for (std::uint64_t n : {1, 2, 3}) {
    const auto tiny = created(zipfian_generator::create(0, n));
    for (int i = 0; i < 10000; ++i)
      REQUIRE(tiny.next(rng) < n);
  }
}

TEST_CASE("invalid generator configurations are rejected") {
  check_rejected(zipfian_generator::create(0, 0).status(), "item_count must be > 0");
  check_rejected(zipfian_generator::create(0, 10, 1.0).status(), "theta must be in");
  check_rejected(zipfian_generator::create(0, 10, -0.1).status(), "theta must be in");
  check_rejected(zipfian_generator::create(0, 10, std::nan("")).status(), "theta must be in");
  check_rejected(zipfian_generator::create(0, 10, 0.5, 0.5).status(), "zetan must be finite");
  check_rejected(
      zipfian_generator::create(0, 10, 0.5, std::numeric_limits<double>::infinity()).status(),
      "zetan must be finite");
  check_rejected(zipfian_generator::create(0, 0, 0.5, 2.0).status(), "item_count must be > 0");
  check_rejected(scrambled_zipfian_generator::create(0, 0).status(), "item_count must be > 0");
  check_rejected(scrambled_zipfian_generator::create(0, 10, 1.5).status(), "theta must be in");
  check_rejected(uniform_generator::create(7, 0).status(), "item_count must be > 0");
  check_rejected(skewed_latest_generator::create(~std::uint64_t{0}).status(),
                 "latest key too large");
  check_rejected(skewed_latest_generator::create(10, 1.0).status(), "theta must be in");
  CHECK(skewed_latest_generator::create(skewed_latest_generator::max_latest_key, 0.5).ok());

  // A rejected resize leaves the generator as it was.
  auto g = created(zipfian_generator::create(0, 100));
  check_rejected(g.set_item_count(0), "item_count must be > 0");
  CHECK(g.item_count() == 100);
  CHECK(g.zetan() == innet::workload::zeta(100, 0.99));
}

TEST_CASE("zipfian_generator grows zeta incrementally") {
  auto g = created(zipfian_generator::create(0, 1000, 0.99));
  CHECK(g.set_item_count(1100).ok());
  const auto fresh = created(zipfian_generator::create(0, 1100, 0.99));
  CHECK(g.item_count() == 1100);
  CHECK(g.zetan() == doctest::Approx(fresh.zetan()).epsilon(1e-14));
  CHECK(g.eta() == doctest::Approx(fresh.eta()).epsilon(1e-12));
  CHECK(g.set_item_count(900).ok());
  CHECK(g.zetan() == doctest::Approx(innet::workload::zeta(900, 0.99)).epsilon(1e-14));
}

TEST_CASE("same seed, same zipfian stream") {
  const auto g = created(zipfian_generator::create(0, 1000));
  xoshiro256ss a{11}, b{11};
  for (int i = 0; i < 1000; ++i)
    REQUIRE(g.next(a) == g.next(b));
}

TEST_CASE("scrambled_zipfian_generator") {
  constexpr std::uint64_t n = 1000;
  constexpr std::uint64_t samples = 1'000'000;
  const auto g = created(scrambled_zipfian_generator::create(0, n));
  CHECK(g.theta() == 0.99);
  xoshiro256ss rng{5};
  const auto counts = histogram(n, samples, [&] { return g.next(rng); });  // checks v < n

  // Expected frequency of each key: the ranks of YCSB's 10^10 + 1 item zipfian (with YCSB's
  // zeta constant) that hash onto it. The first 2^17 ranks are summed exactly, using the
  // formula-implied probabilities; the remaining mass (~0.6) is spread evenly, which is accurate
  // to a few counts here because it is split over ~10^7 ranks per key.
  const auto ranks =
      created(zipfian_generator::create(0, scrambled_zipfian_generator::ycsb_item_count + 1, 0.99,
                                        scrambled_zipfian_generator::ycsb_zetan));
  const double theta = 0.99, eta = ranks.eta(), zetan = ranks.zetan();
  const double rank_count = static_cast<double>(ranks.item_count());
  const auto boundary = [&](std::uint64_t k) {
    return 1.0 + (std::pow(static_cast<double>(k) / rank_count, 1.0 - theta) - 1.0) / eta;
  };
  std::vector<double> expected(n, 0.0);
  constexpr std::uint64_t head = 1 << 17;
  double head_mass = 0.0;
  for (std::uint64_t r = 0; r < head; ++r) {
    double p = 0.0;
    if (r == 0)
      p = 1.0 / zetan;
    else if (r == 1)
      p = std::pow(0.5, theta) / zetan;
    else
      p = boundary(r + 1) - boundary(r);
    expected[innet::workload::ycsb_fnvhash64(r) % n] += p;
    head_mass += p;
  }
  for (auto& p : expected)
    p += (1.0 - head_mass) / static_cast<double>(n);

  std::size_t failures = 0;
  for (std::uint64_t key = 0; key < n; ++key) {
    if (!within_5_sigma(counts[key], samples, expected[key])) ++failures;
  }
  CHECK(failures == 0);

  // The hottest keys are scattered, not the low ranks a plain zipfian would favour.
  std::vector<std::uint64_t> keys(n);
  for (std::uint64_t k = 0; k < n; ++k)
    keys[k] = k;
  std::sort(keys.begin(), keys.end(),
            [&](std::uint64_t a, std::uint64_t b) { return counts[a] > counts[b]; });
  const std::vector<std::uint64_t> top(keys.begin(), keys.begin() + 10);
  CHECK(std::count_if(top.begin(), top.end(), [](std::uint64_t k) { return k < 10; }) <= 1);
  CHECK(top.front() == innet::workload::ycsb_fnvhash64(0) % n);

  // The multiset of the top frequencies matches the zipfian head: rank r's probability plus an
  // even share of the tail. (Folding 10^10 ranks onto 1000 keys flattens the head: the top key
  // gets ~1/26.5 + 0.6/1000, not zipf_pmf(1000, 0.99, 0) = 0.129.)
  std::vector<double> sorted_expected = expected;
  std::sort(sorted_expected.begin(), sorted_expected.end(), std::greater<>{});
  for (std::size_t i = 0; i < 10; ++i) {
    CHECK(within_5_sigma(counts[keys[i]], samples, sorted_expected[i]));
  }
  CHECK(static_cast<double>(counts[keys[0]]) / samples <
        0.5 * innet::workload::zipf_pmf(n, 0.99, 0));
}

TEST_CASE("skewed_latest_generator favours the newest key") {
  auto g = created(skewed_latest_generator::create(999));  // keys 0..999 present
  xoshiro256ss rng{6};
  for (std::uint64_t key = 1000; key < 1100; ++key)
    g.set_latest(key);  // 100 inserts
  CHECK(g.latest() == 1099);

  constexpr std::uint64_t samples = 200'000;
  const auto counts = histogram(1100, samples, [&] { return g.next(rng); });
  CHECK(std::max_element(counts.begin(), counts.end()) - counts.begin() == 1099);
  // The age of a key is zipfian: the newest key is drawn with probability 1/zeta(1100).
  CHECK(within_5_sigma(counts[1099], samples, innet::workload::zipf_pmf(1100, 0.99, 0)));
  CHECK(within_5_sigma(counts[1098], samples, innet::workload::zipf_pmf(1100, 0.99, 1)));
  CHECK(counts[1099] > counts[1000]);
  CHECK(counts[1000] > counts[500]);

  // After one more insert the newest key takes over.
  g.set_latest(1100);
  std::uint64_t newest = 0;
  for (int i = 0; i < 10000; ++i)
    newest += g.next(rng) == 1100;
  CHECK(within_5_sigma(newest, 10000, innet::workload::zipf_pmf(1101, 0.99, 0)));
}
