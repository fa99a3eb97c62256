// DTA Key-Increment: per-key counters in a remote region, updated with RDMA FETCH_ADD.
//
// Each key owns one counter in each of N rows; an increment adds to all N with FETCH_ADD
// (atomic at the responder, so any number of translators can update concurrently without
// losing an update), and a query returns the minimum of the N (Count-Min semantics: other keys
// sharing a counter only add, so the minimum is never below the key's true total).
//
// Region layout (N rows of W counters, row-major, from `base`, which must be 8-byte aligned):
//
//   base + 8 * (r * W + c):  u64 counter, little-endian (the region's atomic word order)
//
//   row 0: | c0 | c1 | ... | c(W-1) |
//   row 1: | c0 | c1 | ... | c(W-1) |
//   ...
//
// The layout and the index function are those of sketch::count_min with u64 counters and
// standard update: column of key x in row r = make_hash_family(x, seed).index(r, W). So the
// region's words are exactly the counters a count_min<u64>(N, W, seed) would hold for the same
// stream, and count_min's error bound applies: estimate <= true + e/W * total with probability
// >= 1 - e^-N. Counters wrap modulo 2^64.
#pragma once

#include <algorithm>
#include <array>
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

template <std::uint32_t Redundancy>
class key_increment {
  static_assert(Redundancy >= 1 && Redundancy <= 16, "redundancy is 1 to 16 counters");

 public:
  static constexpr std::uint32_t redundancy = Redundancy;

  key_increment() = default;

  // `width` counters per row; `base` 8-byte aligned (FETCH_ADD needs aligned words).
  static absl::StatusOr<key_increment> create(std::uint32_t width, std::uint64_t seed,
                                              std::uint64_t base = 0) {
    if (width == 0) return absl::InvalidArgumentError("key_increment::create: width 0");
    if (base % 8 != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("key_increment::create: base ", base, " is not 8-byte aligned"));
    }
    return key_increment(width, seed, base);
  }

  std::uint32_t width() const noexcept { return width_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t base() const noexcept { return base_; }
  std::uint64_t region_bytes() const noexcept { return std::uint64_t{Redundancy} * width_ * 8; }

  // The one index function: the region offsets of the key's N counters.
  std::array<std::uint64_t, Redundancy> offsets_of(std::span<const std::byte> key) const noexcept {
    return offsets_of(make_hash_family(key, seed_));
  }
  std::array<std::uint64_t, Redundancy> offsets_of(const hash_family& h) const noexcept {
    std::array<std::uint64_t, Redundancy> o{};
    for (std::uint32_t r = 0; r < Redundancy; ++r)
      o[r] = base_ + 8 * (std::uint64_t{r} * width_ + h.index(r, width_));
    return o;
  }

  // N FETCH_ADDs of `add` (posted together on a batched region). Not idempotent: on an error
  // some of the N counters (even one whose FETCH_ADD reported failure) may have been added to,
  // so retrying the increment double-counts them. query() stays an upper bound either way.
  template <memory_region R>
  errc increment(R& region, std::span<const std::byte> key, std::uint64_t add = 1) const {
    const auto o = offsets_of(key);
    std::array<memory_op, Redundancy> ops{};
    for (std::uint32_t r = 0; r < Redundancy; ++r)
      ops[r] = memory_op{.opcode = memory_opcode::fetch_add, .offset = o[r], .operand = add};
    return detail::execute_all(region, std::span<const memory_op>(ops));
  }

  // The minimum of the key's N counters: never below the key's true total.
  template <memory_region R>
  result<std::uint64_t> query(R& region, std::span<const std::byte> key) const {
    const auto o = offsets_of(key);
    std::array<std::array<std::byte, 8>, Redundancy> words{};
    std::array<memory_op, Redundancy> ops{};
    for (std::uint32_t r = 0; r < Redundancy; ++r)
      ops[r] = memory_op{.opcode = memory_opcode::read, .offset = o[r], .local = words[r]};
    if (const errc e = detail::execute_all(region, std::span<const memory_op>(ops)); e != errc::ok)
      return e;
    std::uint64_t m = ~std::uint64_t{0};
    for (const auto& w : words)
      m = std::min(m, detail::load_le(w.data(), 8));
    return m;
  }

 private:
  key_increment(std::uint32_t width, std::uint64_t seed, std::uint64_t base)
      : width_(width), seed_(seed), base_(base) {}

  std::uint32_t width_ = 1;
  std::uint64_t seed_ = 0;
  std::uint64_t base_ = 0;
};

}  // namespace innet::telemetry
