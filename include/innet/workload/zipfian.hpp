// Key-popularity generators with the semantics of YCSB's (site.ycsb.generator) so that a
// workload built here stresses a system the way the YCSB core workloads do.
//
//   * `zipfian_generator`           – ZipfianGenerator: Gray et al., "Quickly Generating
//                                     Billion-Record Synthetic Databases" (SIGMOD 1994). Item
//                                     `base` is the most popular, `base + 1` the next, and so on.
//   * `scrambled_zipfian_generator` – ScrambledZipfianGenerator: the same skew, but the popular
//                                     items are scattered over the key space by hashing.
//   * `skewed_latest_generator`     – SkewedLatestGenerator: zipfian over "how long ago was this
//                                     key inserted", so the newest key is the most popular.
//   * `uniform_generator`           – UniformLongGenerator, without its modulo bias.
//
// Gray's method is O(1) per draw after an O(n) precomputation of zeta(n, theta) = sum_{i=1..n}
// i^-theta. It is exact for the two most popular items and approximates the tail by inverting a
// continuous power law, so P(rank k) for k >= 2 deviates from the true Zipf pmf by a few percent
// near the head; YCSB has the same property, and `zipf_pmf` gives the true values to compare.
//
// Randomness comes from the caller's generator through `uniform_double`, so a seeded
// innet::xoshiro256ss reproduces a stream on every platform. Java's Random cannot be matched, so
// streams are not YCSB's numbers, only YCSB's distributions. Deliberate departures from YCSB:
//   * eta is recomputed from the current item count when it grows (YCSB keeps using the count
//     given at construction, which skews the formula as a "latest" key space grows);
//   * a draw that rounds up to n (possible when eta * u - eta + 1 rounds to exactly 1.0) is
//     clamped to n - 1 instead of escaping the range;
//   * skewed_latest_generator draws over all inserted keys [0, latest]; YCSB's draws over
//     `latest` items, so that key 0 can never be chosen;
//   * for n above 2^20, zeta is the exact sum of the first 1023 terms plus an Euler-Maclaurin
//     tail (error far below double rounding) instead of an O(n) loop, which is what makes a
//     scrambled generator with a theta other than 0.99 usable over YCSB's 10^10 items.
//
// Errors: every generator is built by a static `create`, which returns InvalidArgument for a bad
// configuration (an empty range, theta outside [0, 1)); once built, drawing cannot fail.
// zipfian_generator::set_item_count returns a Status; skewed_latest_generator::set_latest, which
// runs once per insert, has a documented precondition instead.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/core/random.hpp"

namespace innet::workload {

namespace detail {

// Up to this many items zeta is summed term by term, exactly as YCSB does.
inline constexpr std::uint64_t zeta_direct_limit = std::uint64_t{1} << 20;

// initial + sum_{i=first+1..last} i^-theta, i.e. YCSB's zetastatic(st, n, theta, initialsum).
inline double zeta_partial(std::uint64_t first, std::uint64_t last, double theta, double initial) {
  double sum = initial;
  for (std::uint64_t i = first; i < last; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  }
  return sum;
}

// sum_{k=m..n} k^-theta by Euler-Maclaurin with Bernoulli terms up to B6. For m >= 1024 the
// remainder is below 1e-25, so the result is as good as double rounding allows, for any n.
inline double zeta_tail(std::uint64_t m, std::uint64_t n, double theta) {
  const double a = static_cast<double>(m);
  const double b = static_cast<double>(n);
  const double d = 1.0 - theta;
  // integral_a^b x^-theta dx = a^d * (e^(d ln(b/a)) - 1) / d, written with expm1 so that theta
  // near 1 does not cancel catastrophically; at theta == 1 it is ln(b/a).
  const double log_ratio = std::log(b / a);
  const double integral = std::pow(a, d) * (d == 0.0 ? log_ratio : std::expm1(d * log_ratio) / d);
  const auto f = [theta](double x) { return std::pow(x, -theta); };
  // Odd derivatives of x^-theta: f^(2j-1)(x) = -theta (theta+1) ... (theta+2j-2) x^(-theta-2j+1).
  const double c1 = -theta;
  const double c3 = c1 * (theta + 1.0) * (theta + 2.0);
  const double c5 = c3 * (theta + 3.0) * (theta + 4.0);
  const auto d1 = [&](double x) { return c1 * std::pow(x, -theta - 1.0); };
  const auto d3 = [&](double x) { return c3 * std::pow(x, -theta - 3.0); };
  const auto d5 = [&](double x) { return c5 * std::pow(x, -theta - 5.0); };
  return integral + (f(a) + f(b)) / 2.0 + (d1(b) - d1(a)) / 12.0 - (d3(b) - d3(a)) / 720.0 +
         (d5(b) - d5(a)) / 30240.0;
}

}  // namespace detail

// zeta(n, theta) = sum_{i=1..n} 1 / i^theta, the normalising constant of Zipf over n items.
inline double zeta(std::uint64_t n, double theta) {
  if (n <= detail::zeta_direct_limit) return detail::zeta_partial(0, n, theta, 0.0);
  constexpr std::uint64_t head = 1024;
  return detail::zeta_partial(0, head - 1, theta, 0.0) + detail::zeta_tail(head, n, theta);
}

// True Zipf probability of the item of 0-based popularity `rank` among n items. Computes
// zeta(n, theta) on every call; hoist it when evaluating many ranks of a large n.
inline double zipf_pmf(std::uint64_t n, double theta, std::uint64_t rank) {
  return (1.0 / std::pow(static_cast<double>(rank + 1), theta)) / zeta(n, theta);
}

// YCSB's Utils.fnvhash64: FNV-1a over the 8 octets of the value, least significant first, then
// Math.abs of the signed result. Java's Math.abs(Long.MIN_VALUE) stays negative (and YCSB would
// then produce a negative key); here that one value maps to 2^63 so keys stay in range.
constexpr std::uint64_t ycsb_fnvhash64(std::uint64_t value) noexcept {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xffU;
    value >>= 8;
    hash *= 1099511628211ULL;
  }
  return (hash >> 63) != 0 ? 0 - hash : hash;
}

// Items [base, base + item_count) with P(base + k) ~ 1 / (k + 1)^theta, by Gray's method.
class zipfian_generator {
 public:
  // YCSB's ZipfianGenerator.ZIPFIAN_CONSTANT.
  static constexpr double ycsb_zipfian_constant = 0.99;

  // InvalidArgument unless item_count > 0 and 0 <= theta < 1. O(item_count) for
  // item_count <= 2^20 (zeta is summed), O(1) above.
  static absl::StatusOr<zipfian_generator> create(std::uint64_t base, std::uint64_t item_count,
                                                  double theta = ycsb_zipfian_constant) {
    if (absl::Status s = check(item_count, theta); !s.ok()) return s;
    return zipfian_generator(base, item_count, theta, zeta(item_count, theta));
  }

  // With a precomputed zeta(item_count, theta), as YCSB does for its scrambled generator; also
  // InvalidArgument unless zetan is finite and >= 1.
  static absl::StatusOr<zipfian_generator> create(std::uint64_t base, std::uint64_t item_count,
                                                  double theta, double zetan) {
    if (absl::Status s = check(item_count, theta); !s.ok()) return s;
    if (!(zetan >= 1.0) || !std::isfinite(zetan)) {
      return absl::InvalidArgumentError("zipfian_generator: zetan must be finite and >= 1");
    }
    return zipfian_generator(base, item_count, theta, zetan);
  }

  template <random_u64_generator G>
  std::uint64_t next(G& rng) const {
    const double u = uniform_double(rng);
    const double uz = u * zetan_;
    if (uz < 1.0) return base_;
    if (uz < second_cutoff_) return base_ + 1;
    const double n = static_cast<double>(items_);
    const double x = n * std::pow(eta_ * u - eta_ + 1.0, alpha_);
    // `!(x < n)` also catches NaN, which n == 2 can produce through eta = 0 / 0.
    if (!(x < n)) return base_ + items_ - 1;
    return base_ + (x > 0.0 ? static_cast<std::uint64_t>(x) : 0);
  }

  // Changes the item count, like YCSB's nextLong(itemcount): growth adds the new zeta terms
  // incrementally (O(growth)); shrinking recomputes zeta from scratch. InvalidArgument, and no
  // change, if item_count is 0.
  absl::Status set_item_count(std::uint64_t item_count) {
    if (item_count == 0) return count_error();
    resize(item_count);
    return absl::OkStatus();
  }

  std::uint64_t base() const noexcept { return base_; }
  std::uint64_t item_count() const noexcept { return items_; }
  double theta() const noexcept { return theta_; }
  double alpha() const noexcept { return alpha_; }
  double zetan() const noexcept { return zetan_; }
  double eta() const noexcept { return eta_; }

 private:
  // The generators below build their inner zipfian from values they have already checked.
  friend class scrambled_zipfian_generator;
  friend class skewed_latest_generator;

  // Unchecked: item_count > 0, 0 <= theta < 1 and zetan = zeta(item_count, theta) >= 1.
  zipfian_generator(std::uint64_t base, std::uint64_t item_count, double theta, double zetan)
      : base_{base},
        items_{item_count},
        theta_{theta},
        alpha_{1.0 / (1.0 - theta)},
        zeta2_{detail::zeta_partial(0, 2, theta, 0.0)},
        second_cutoff_{1.0 + std::pow(0.5, theta)},
        zetan_{zetan},
        eta_{compute_eta()} {}

  static absl::Status count_error() {
    return absl::InvalidArgumentError("zipfian_generator: item_count must be > 0");
  }
  // Gray's inversion needs alpha = 1 / (1 - theta) finite and positive.
  static bool valid_theta(double theta) noexcept { return theta >= 0.0 && theta < 1.0; }
  static absl::Status check(std::uint64_t item_count, double theta) {
    if (item_count == 0) return count_error();
    if (!valid_theta(theta)) {
      return absl::InvalidArgumentError("zipfian_generator: theta must be in [0, 1)");
    }
    return absl::OkStatus();
  }

  // Unchecked: item_count > 0.
  void resize(std::uint64_t item_count) {
    if (item_count > items_ && item_count - items_ <= detail::zeta_direct_limit) {
      zetan_ = detail::zeta_partial(items_, item_count, theta_, zetan_);
    } else if (item_count != items_) {
      zetan_ = zeta(item_count, theta_);
    }
    items_ = item_count;
    eta_ = compute_eta();
  }

  double compute_eta() const {
    return (1.0 - std::pow(2.0 / static_cast<double>(items_), 1.0 - theta_)) /
           (1.0 - zeta2_ / zetan_);
  }

  std::uint64_t base_;
  std::uint64_t items_;
  double theta_;
  double alpha_;
  double zeta2_;
  double second_cutoff_;
  double zetan_;
  double eta_;
};

// Items [base, base + item_count): a zipfian rank over YCSB's fixed 10^10-item space, hashed with
// ycsb_fnvhash64 and reduced mod item_count. The hot keys land at pseudo-random positions, and
// because the rank space does not depend on item_count, a key keeps its popularity when the
// range is resized. Note that the 10^10 ranks fold onto item_count keys, so the head is much
// flatter than zipfian_generator's over item_count items (the top key gets about 1/26.5 of the
// draws at theta = 0.99, not 1/zeta(item_count)).
class scrambled_zipfian_generator {
 public:
  // ScrambledZipfianGenerator.ITEM_COUNT (YCSB 0.1 - 0.17) and the zeta YCSB precomputed for it
  // at theta = 0.99. YCSB builds its inner ZipfianGenerator(0, ITEM_COUNT), i.e. over
  // ITEM_COUNT + 1 items, and so do we.
  static constexpr std::uint64_t ycsb_item_count = 10'000'000'000ULL;
  static constexpr double ycsb_zetan = 26.46902820178302;

  // InvalidArgument unless item_count > 0 and 0 <= theta < 1. O(1).
  static absl::StatusOr<scrambled_zipfian_generator> create(
      std::uint64_t base, std::uint64_t item_count,
      double theta = zipfian_generator::ycsb_zipfian_constant) {
    if (item_count == 0) {
      return absl::InvalidArgumentError("scrambled_zipfian_generator: item_count must be > 0");
    }
    if (!zipfian_generator::valid_theta(theta)) {
      return absl::InvalidArgumentError("scrambled_zipfian_generator: theta must be in [0, 1)");
    }
    return scrambled_zipfian_generator(base, item_count, theta);
  }

  template <random_u64_generator G>
  std::uint64_t next(G& rng) const {
    return base_ + ycsb_fnvhash64(ranks_.next(rng)) % items_;
  }

  std::uint64_t base() const noexcept { return base_; }
  std::uint64_t item_count() const noexcept { return items_; }
  double theta() const noexcept { return ranks_.theta(); }

 private:
  friend class ycsb_generator;

  // Unchecked: item_count > 0 and 0 <= theta < 1.
  scrambled_zipfian_generator(std::uint64_t base, std::uint64_t item_count, double theta)
      : base_{base}, items_{item_count}, ranks_{make_ranks(theta)} {}

  static zipfian_generator make_ranks(double theta) {
    constexpr std::uint64_t ranks = ycsb_item_count + 1;
    const double zetan =
        theta == zipfian_generator::ycsb_zipfian_constant ? ycsb_zetan : zeta(ranks, theta);
    return zipfian_generator(0, ranks, theta, zetan);
  }

  std::uint64_t base_;
  std::uint64_t items_;
  zipfian_generator ranks_;
};

// Items [base, base + item_count), each equally likely.
class uniform_generator {
 public:
  // InvalidArgument unless item_count > 0.
  static absl::StatusOr<uniform_generator> create(std::uint64_t base, std::uint64_t item_count) {
    if (item_count == 0) {
      return absl::InvalidArgumentError("uniform_generator: item_count must be > 0");
    }
    return uniform_generator(base, item_count);
  }

  template <random_u64_generator G>
  std::uint64_t next(G& rng) const noexcept {
    return base_ + uniform_below(rng, items_);
  }

  std::uint64_t base() const noexcept { return base_; }
  std::uint64_t item_count() const noexcept { return items_; }

 private:
  friend class ycsb_generator;

  // Unchecked: item_count > 0.
  uniform_generator(std::uint64_t base, std::uint64_t item_count)
      : base_{base}, items_{item_count} {}

  std::uint64_t base_;
  std::uint64_t items_;
};

// Keys [0, latest]: latest - zipfian rank, so the most recently inserted key is the most popular
// and popularity decays with age. Call set_latest() after every insert; growth by one key costs
// one zeta term.
class skewed_latest_generator {
 public:
  // Largest latest key: the age distribution covers latest + 1 keys, which must fit in 64 bits.
  static constexpr std::uint64_t max_latest_key = std::numeric_limits<std::uint64_t>::max() - 1;

  // InvalidArgument unless latest_key <= max_latest_key and 0 <= theta < 1.
  static absl::StatusOr<skewed_latest_generator> create(
      std::uint64_t latest_key, double theta = zipfian_generator::ycsb_zipfian_constant) {
    if (latest_key > max_latest_key) {
      return absl::InvalidArgumentError("skewed_latest_generator: latest key too large");
    }
    if (!zipfian_generator::valid_theta(theta)) {
      return absl::InvalidArgumentError("skewed_latest_generator: theta must be in [0, 1)");
    }
    return skewed_latest_generator(latest_key, theta);
  }

  // Called once per insert, so a precondition rather than a Status: latest_key <=
  // max_latest_key, which 2^64 - 1 inserts would be needed to break. Debug builds assert it;
  // release builds clamp to max_latest_key, so draws stay within [0, latest()].
  void set_latest(std::uint64_t latest_key) noexcept {
    assert(latest_key <= max_latest_key);
    latest_ = latest_key < max_latest_key ? latest_key : max_latest_key;
    age_.resize(latest_ + 1);
  }

  template <random_u64_generator G>
  std::uint64_t next(G& rng) const {
    return latest_ - age_.next(rng);
  }

  std::uint64_t latest() const noexcept { return latest_; }
  double theta() const noexcept { return age_.theta(); }

 private:
  friend class ycsb_generator;

  // Unchecked: latest_key <= max_latest_key and 0 <= theta < 1. The age distribution covers
  // every key from 0 to latest inclusive.
  skewed_latest_generator(std::uint64_t latest_key, double theta)
      : latest_{latest_key}, age_{0, latest_key + 1, theta, zeta(latest_key + 1, theta)} {}

  std::uint64_t latest_;
  zipfian_generator age_;
};

}  // namespace innet::workload
