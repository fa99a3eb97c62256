// Reproducible pseudo-random numbers for simulations and synthetic workloads.
//
// The standard library fixes the output of its engines (std::mt19937_64 is fully specified) but
// not of its distributions: std::uniform_int_distribution, std::uniform_real_distribution and
// std::shuffle are free to consume engine output differently in libstdc++, libc++ and MSVC. A
// workload that must be identical on every toolchain therefore cannot use them. This header
// provides
//
//   * `splitmix64`    – Vigna's SplitMix64, used to expand one 64-bit seed into a full state;
//   * `xoshiro256ss`  – Blackman & Vigna's xoshiro256** 1.0, a fast, small-state generator with
//                       good statistical quality; it models std::uniform_random_bit_generator;
//   * `uniform_double(rng)`   – a double in [0, 1) built from the top 53 bits of one draw;
//   * `uniform_below(rng, n)` – an unbiased integer in [0, n) by Lemire's multiply-and-reject
//                               method ("Fast Random Integer Generation in an Interval", 2019).
//
// The helpers accept any generator that yields full 64-bit words (see `random_u64_generator`),
// so std::mt19937_64 works as well. Their results are pure functions of the generator output, so
// the same seed gives the same numbers with every compiler and standard library.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <limits>
#include <random>

#include "innet/core/detail/mul128.hpp"

namespace innet {

// A uniform random bit generator whose every draw is a full, uniformly distributed 64-bit word.
// The helpers below rely on that to stay independent of how a generator would be adapted.
template <class G>
concept random_u64_generator = std::uniform_random_bit_generator<G> &&
                               std::unsigned_integral<typename G::result_type> &&(G::min() == 0) &&
                               (G::max() == std::numeric_limits<std::uint64_t>::max());

// SplitMix64 (Vigna, http://prng.di.unimi.it/splitmix64.c). Every seed, including 0, gives a good
// stream, which is why xoshiro's authors recommend it for seeding.
class splitmix64 {
 public:
  using result_type = std::uint64_t;

  constexpr explicit splitmix64(std::uint64_t seed) noexcept : state_{seed} {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  friend constexpr bool operator==(const splitmix64&, const splitmix64&) = default;

 private:
  std::uint64_t state_;
};

// xoshiro256** 1.0 (Blackman & Vigna, http://prng.di.unimi.it/xoshiro256starstar.c).
class xoshiro256ss {
 public:
  using result_type = std::uint64_t;
  using state_type = std::array<std::uint64_t, 4>;

  // Seeds the four state words with consecutive splitmix64 outputs, as the authors recommend.
  // SplitMix64 is a bijection of its counter, so the forbidden all-zero state cannot arise.
  constexpr explicit xoshiro256ss(std::uint64_t seed = 0) noexcept { this->seed(seed); }

  // Exact state, for reproducing published test vectors or resuming a saved stream.
  // Precondition: not all words are zero (that state is a fixed point that only yields zeros).
  static constexpr xoshiro256ss from_state(const state_type& state) noexcept {
    xoshiro256ss g;
    g.s_ = state;
    return g;
  }

  constexpr void seed(std::uint64_t seed) noexcept {
    splitmix64 sm{seed};
    for (auto& word : s_)
      word = sm();
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  constexpr const state_type& state() const noexcept { return s_; }

  friend constexpr bool operator==(const xoshiro256ss&, const xoshiro256ss&) = default;

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }

  state_type s_{};
};

// A double in [0, 1) on the grid k * 2^-53: the 53 most significant bits of one draw (the low bits
// of some generators are weaker, and 53 is all a double's significand can hold without rounding).
template <random_u64_generator G>
constexpr double uniform_double(G& rng) noexcept {
  return static_cast<double>(static_cast<std::uint64_t>(rng()) >> 11) * 0x1.0p-53;
}

// An integer uniformly distributed in [0, n), exactly unbiased (Lemire 2019): the high word of
// rng() * n is the candidate, and the rare draws whose low word falls in the 2^64 mod n short
// "partial bucket" are rejected. Usually one draw and no division. n == 0 yields 0.
template <random_u64_generator G>
constexpr std::uint64_t uniform_below(G& rng, std::uint64_t n) noexcept {
  auto product = detail::mul64to128(static_cast<std::uint64_t>(rng()), n);
  if (product.low < n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (product.low < threshold) {
      product = detail::mul64to128(static_cast<std::uint64_t>(rng()), n);
    }
  }
  return product.high;
}

}  // namespace innet
