// DART Key-Write: a redundant, coordination-free key-value store in a remote memory region.
//
// Switches write telemetry for a key into N slots of a collector region with one-sided RDMA
// WRITEs and never read; the collector answers a query by reading the same N slots. Nothing is
// locked or allocated: later keys simply overwrite earlier ones, and redundancy plus a checksum
// make the latest value of a key recoverable with a probability computed below.
//
// Region layout (M slots of SlotBytes each, M a power of two, starting at `base`):
//
//   base + s * SlotBytes:
//   +----------------------------+--------------------------------------------+
//   | checksum (C bytes, LE)     | value (SlotBytes - C bytes, opaque)        |
//   +----------------------------+--------------------------------------------+
//   C = ceil(ChecksumBits / 8); the checksum's unused high bits are zero.
//
// The checksum is little-endian (host order of the region's atomics); the value bytes are the
// caller's, copied unchanged. An all-zero slot is "never written".
//
// Index function (one for writer and reader, `slots_of`):
//   h = XXH3-128(key, seed) split into a hash_family (core/hash_family.hpp);
//   slot_i = h.index_pow2(i, log2 M)                 for i in [0, N)
//   checksum = 1 + fmix64(h.value(N)) mod (2^ChecksumBits - 1)      (never 0)
// Row N of the family is not used for any index, so the checksum carries bits the slot choice
// did not consume. A public implementation reused one CRC state across the N index hashes, so
// the switch and the collector computed different indices; here both sides call the same pure
// function of (key, seed, M), and a test checks it against an independent computation.
// Checksum 0 is reserved for empty slots, so checksums take 2^b - 1 equally likely values
// (the modulo's bias is below 2^(b-64)).
//
// Query: read the N distinct candidate slots, keep those whose checksum matches, and return
// the value most of them agree on with its vote count. A tie between different values is
// reported as errc::checksum_mismatch (the candidates disagree); no match is errc::not_found.
//
// Success probability (key_write_success_probability), with k keys written after the key:
// - Each later key writes N slots chosen independently and uniformly, so a given slot of our
//   key survives (is not overwritten) with probability p = (1 - 1/M)^(N k) ~ e^(-N k / M).
// - Approximation 1: the N slots survive independently, so the survivors S ~ Binomial(N, p).
//   (The true joint survival is slightly negatively correlated; the effect is O(N/M).)
// - An overwritten slot holds some other key, whose checksum equals ours with probability
//   q = 1 / (2^b - 1) (a false match); its value is that other key's value.
// - Approximation 2: the wrong values of false matches are pairwise different (distinct keys),
//   so a wrong value gets at most one vote. The query then succeeds iff S >= 2, or S = 1 and no
//   overwritten slot false-matches (a 1-1 tie fails):
//     P = sum_{s>=2} C(N,s) p^s (1-p)^(N-s) + N p (1-p)^(N-1) (1-q)^(N-1).
// - Approximation 3: the key's own N slots are distinct. They coincide with probability about
//   N(N-1)/(2M), which the store handles by voting once per distinct slot.
// The expected number of false matches per query is N (1 - p) q
// (key_write_expected_false_matches), and key_write_mean_success_probability averages P over
// the keys of an epoch. tests/telemetry/key_write_test.cpp checks all three against a
// simulation of this store (including a high-success regime, 16 slots per key).
//
// Concurrency: a slot is not written atomically (an RDMA WRITE of 16 or 32 bytes may land in
// pieces), so a query racing a write can see a torn slot; the checksum rejects most, the vote
// outweighs the rest, and a collector that needs certainty queries a settled epoch.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/hash.hpp"
#include "innet/core/hash_family.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"
#include "innet/telemetry/detail/region_ops.hpp"

namespace innet::telemetry {

// P(query of a key succeeds) after `keys_since` other keys were written, for M = `slots`,
// N = `redundancy`, b = `checksum_bits` (see the file comment for the model).
inline double key_write_success_probability(std::uint64_t slots, std::uint32_t redundancy,
                                            std::uint64_t keys_since, unsigned checksum_bits) {
  const double n = redundancy;
  const double p =
      std::pow(1.0 - 1.0 / static_cast<double>(slots), n * static_cast<double>(keys_since));
  const double q = 1.0 / (std::ldexp(1.0, static_cast<int>(checksum_bits)) - 1.0);
  // P(S = 0) and P(S = 1); S >= 2 always wins.
  const double none = std::pow(1 - p, n);
  const double one = n * p * std::pow(1 - p, n - 1);
  const double one_wins = one * std::pow(1 - q, n - 1);
  return 1.0 - none - one + one_wins;
}

// Expected number of candidate slots per query that hold another key with a matching checksum.
inline double key_write_expected_false_matches(std::uint64_t slots, std::uint32_t redundancy,
                                               std::uint64_t keys_since, unsigned checksum_bits) {
  const double n = redundancy;
  const double p =
      std::pow(1.0 - 1.0 / static_cast<double>(slots), n * static_cast<double>(keys_since));
  const double q = 1.0 / (std::ldexp(1.0, static_cast<int>(checksum_bits)) - 1.0);
  return n * (1 - p) * q;
}

// The mean of key_write_success_probability over the `keys` keys of an epoch written into an
// empty store (key j is followed by keys - 1 - j others): the query success rate of a collector
// that asks for every key at the epoch's end, as a function of memory per key = M * slot / keys.
inline double key_write_mean_success_probability(std::uint64_t slots, std::uint32_t redundancy,
                                                 std::uint64_t keys, unsigned checksum_bits) {
  if (keys == 0) return 1.0;
  double sum = 0;
  for (std::uint64_t k = 0; k < keys; ++k)
    sum += key_write_success_probability(slots, redundancy, k, checksum_bits);
  return sum / static_cast<double>(keys);
}

template <std::uint32_t SlotBytes, std::uint32_t ChecksumBits, std::uint32_t Redundancy>
class key_write {
  static_assert(ChecksumBits >= 1 && ChecksumBits <= 32, "checksums are 1 to 32 bits");
  static_assert(Redundancy >= 1 && Redundancy <= 16, "redundancy is 1 to 16 slots");

 public:
  static constexpr std::uint32_t slot_bytes = SlotBytes;
  static constexpr std::uint32_t checksum_bits = ChecksumBits;
  static constexpr std::uint32_t redundancy = Redundancy;
  static constexpr std::uint32_t checksum_bytes = (ChecksumBits + 7) / 8;
  static constexpr std::uint32_t value_bytes = SlotBytes - checksum_bytes;
  static_assert(SlotBytes > checksum_bytes, "a slot needs room for a value");

  using value_type = std::array<std::byte, value_bytes>;
  using slot_type = std::array<std::byte, SlotBytes>;

  // Where a key lives: its N slot indices (possibly repeated) and its checksum (never 0).
  struct placement {
    std::array<std::uint64_t, Redundancy> slot{};
    std::uint32_t checksum = 0;
  };

  // One RDMA WRITE: `bytes` at region offset `offset`.
  struct slot_write {
    std::uint64_t offset = 0;
    slot_type bytes{};
  };

  struct lookup {
    value_type value{};
    std::uint32_t agreement = 0;   // candidate slots holding `value` with our checksum
    std::uint32_t candidates = 0;  // distinct candidate slots whose checksum matched
  };

  key_write() = default;

  // M = `slots` (a power of two, at least 2) slots starting at region offset `base`.
  static absl::StatusOr<key_write> create(std::uint64_t slots, std::uint64_t seed,
                                          std::uint64_t base = 0) {
    if (slots < 2 || !std::has_single_bit(slots) || slots > (std::uint64_t{1} << 56)) {
      return absl::InvalidArgumentError(absl::StrCat("key_write::create: slot count ", slots,
                                                     " is not a power of two in [2, 2^56]"));
    }
    return key_write(slots, seed, base);
  }

  std::uint64_t slots() const noexcept { return slots_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t base() const noexcept { return base_; }
  // Bytes of region the store occupies from base().
  std::uint64_t region_bytes() const noexcept { return slots_ * SlotBytes; }

  // The one index function: writer and reader both go through it.
  placement slots_of(std::span<const std::byte> key) const noexcept {
    return slots_of(make_hash_family(key, seed_));
  }
  placement slots_of(const hash_family& h) const noexcept {
    placement p;
    for (std::uint32_t i = 0; i < Redundancy; ++i)
      p.slot[i] = h.index_pow2(i, bits_);
    const std::uint64_t mixed = innet::detail::fmix64(h.value(Redundancy));
    // Uniform over [1, 2^b - 1]: mapping 0 to 1 instead would make 1 twice as likely and
    // raise the false-match rate to (2^b + 2) / 4^b (measured: 7% instead of 6.7% at b = 4).
    p.checksum = static_cast<std::uint32_t>(1 + mixed % checksum_mask());
    return p;
  }

  std::uint64_t offset_of(std::uint64_t slot) const noexcept { return base_ + slot * SlotBytes; }

  static slot_type encode(std::uint32_t checksum, const value_type& value) noexcept {
    slot_type s{};
    detail::store_le(s.data(), checksum, checksum_bytes);
    std::copy(value.begin(), value.end(), s.begin() + checksum_bytes);
    return s;
  }
  static std::uint32_t checksum_of(const slot_type& s) noexcept {
    return static_cast<std::uint32_t>(detail::load_le(s.data(), checksum_bytes));
  }
  static value_type value_of(const slot_type& s) noexcept {
    value_type v{};
    std::copy(s.begin() + checksum_bytes, s.end(), v.begin());
    return v;
  }

  // The N writes a translator turns into RDMA WRITEs.
  std::array<slot_write, Redundancy> writes(std::span<const std::byte> key,
                                            const value_type& value) const noexcept {
    const placement p = slots_of(key);
    std::array<slot_write, Redundancy> w{};
    const slot_type bytes = encode(p.checksum, value);
    for (std::uint32_t i = 0; i < Redundancy; ++i)
      w[i] = slot_write{offset_of(p.slot[i]), bytes};
    return w;
  }

  template <memory_region R>
  errc put(R& region, std::span<const std::byte> key, const value_type& value) const {
    std::array<slot_write, Redundancy> w = writes(key, value);
    std::array<memory_op, Redundancy> ops{};
    for (std::uint32_t i = 0; i < Redundancy; ++i)
      ops[i] =
          memory_op{.opcode = memory_opcode::write, .offset = w[i].offset, .local = w[i].bytes};
    return detail::execute_all(region, std::span<const memory_op>(ops));
  }

  // The latest value of `key`, if the candidates still hold it. Reads the distinct candidate
  // slots (posted together on a batched region).
  template <memory_region R>
  result<lookup> get(R& region, std::span<const std::byte> key) const {
    const placement p = slots_of(key);
    std::array<std::uint64_t, Redundancy> distinct{};
    std::uint32_t n = 0;
    for (std::uint64_t s : p.slot) {
      if (std::find(distinct.begin(), distinct.begin() + n, s) == distinct.begin() + n)
        distinct[n++] = s;
    }
    std::array<slot_type, Redundancy> read{};
    std::array<memory_op, Redundancy> ops{};
    for (std::uint32_t i = 0; i < n; ++i)
      ops[i] = memory_op{
          .opcode = memory_opcode::read, .offset = offset_of(distinct[i]), .local = read[i]};
    if (const errc e = detail::execute_all(region, std::span<const memory_op>(ops.data(), n));
        e != errc::ok)
      return e;
    return vote(std::span<const slot_type>(read.data(), n), p.checksum);
  }

  // The majority rule on already-read candidate slots (exposed for collectors that read the
  // slots themselves, e.g. in one large RDMA READ). More than Redundancy candidates is a
  // caller error (errc::out_of_range): a key has at most that many slots.
  static result<lookup> vote(std::span<const slot_type> candidates,
                             std::uint32_t checksum) noexcept {
    if (candidates.size() > Redundancy) return errc::out_of_range;
    std::array<std::uint32_t, Redundancy> votes{};
    std::array<std::uint32_t, Redundancy> first_of{};  // index of the first slot with this value
    std::uint32_t kinds = 0;
    std::uint32_t matched = 0;
    for (std::uint32_t i = 0; i < candidates.size(); ++i) {
      if (checksum_of(candidates[i]) != checksum) continue;
      ++matched;
      std::uint32_t j = 0;
      while (j < kinds && !same_value(candidates[first_of[j]], candidates[i]))
        ++j;
      if (j == kinds) first_of[kinds++] = i;
      ++votes[j];
    }
    if (matched == 0) return errc::not_found;
    std::uint32_t best = 0;
    bool tie = false;
    for (std::uint32_t j = 1; j < kinds; ++j) {
      if (votes[j] > votes[best]) {
        best = j;
        tie = false;
      } else if (votes[j] == votes[best]) {
        tie = true;
      }
    }
    if (tie) return errc::checksum_mismatch;
    return lookup{value_of(candidates[first_of[best]]), votes[best], matched};
  }

 private:
  key_write(std::uint64_t slots, std::uint64_t seed, std::uint64_t base)
      : slots_(slots),
        seed_(seed),
        base_(base),
        bits_(static_cast<unsigned>(std::countr_zero(slots))) {}

  static constexpr std::uint64_t checksum_mask() noexcept {
    return (std::uint64_t{1} << ChecksumBits) - 1;
  }
  static bool same_value(const slot_type& a, const slot_type& b) noexcept {
    return std::equal(a.begin() + checksum_bytes, a.end(), b.begin() + checksum_bytes);
  }

  std::uint64_t slots_ = 2;
  std::uint64_t seed_ = 0;
  std::uint64_t base_ = 0;
  unsigned bits_ = 1;
};

}  // namespace innet::telemetry
