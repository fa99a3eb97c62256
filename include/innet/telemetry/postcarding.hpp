// DTA Postcarding: per-hop telemetry of a flow (e.g. the switch ids of its path), reported by
// every hop as a separate postcard, aggregated by the translator and written once per flow into
// a Key-Write store at the collector.
//
// Scheme (the postcarding primitive of DTA, with PINT's per-hop coding):
//  1. Hop i of flow f sends a postcard (f, i, v_i, path length H) to the translator.
//  2. The translator's postcard_cache (a direct-mapped table, one row per flow hash) collects
//     the H values; when the last arrives it emits ONE Key-Write of the whole path: N slot
//     WRITEs instead of H * N. A row taken over by another flow before completing is dropped
//     (counted), as a switch-side cache would.
//  3. The path is stored coded: word i = v_i XOR m_i(f), the hop count as H XOR m_len(f), where
//     the masks are rows of f's hash family the slot indices and checksum do not use. Coding
//     makes every word of a slot look uniformly random to any flow but its owner, so a word
//     decoded with the wrong flow (a checksum collision) gives a random value that the
//     collector's optional validator (e.g. "is a switch id of this topology") rejects, besides
//     the 32-bit checksum of key_write.
//  4. The collector reads the N slots of f, keeps those whose checksum matches, votes
//     (key_write::vote), and decodes.
//
// Slot layout (key_write<S, 32, N> with S = 8 + 4 * MaxHops rounded up to 8 bytes; LE words):
//
//   +-----------------+-----------------+-----------------+-----+---------------------+-----+
//   | checksum u32 LE | H ^ m_len u32 LE| v_0 ^ m_0 u32 LE| ... | v_{H-1}^m_{H-1} u32 | pad |
//   +-----------------+-----------------+-----------------+-----+---------------------+-----+
//   words past H hold their masks (v = 0), so unused positions decode to 0.
//
// Masks: h = make_hash_family(f, seed) (the store's), m_len = low 32 bits of fmix64(h.value(N+1)),
// m_i = low 32 bits of fmix64(h.value(N + 2 + i)); rows 0..N-1 are slot indices, row N the
// checksum. Success probability per flow is key_write_success_probability with b = 32.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/core/detail/mul128.hpp"
#include "innet/core/errc.hpp"
#include "innet/core/hash.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"
#include "innet/telemetry/detail/region_ops.hpp"
#include "innet/telemetry/key_write.hpp"

namespace innet::telemetry {

template <std::uint32_t MaxHops>
struct postcard_path {
  std::array<std::uint32_t, MaxHops> hop{};
  std::uint32_t length = 0;
  friend bool operator==(const postcard_path&, const postcard_path&) = default;
};

template <std::uint32_t MaxHops, std::uint32_t Redundancy>
class postcarding {
  static_assert(MaxHops >= 1 && MaxHops <= 64, "1 to 64 hops");

 public:
  static constexpr std::uint32_t slot_bytes = (8 + 4 * MaxHops + 7) / 8 * 8;
  using store_type = key_write<slot_bytes, 32, Redundancy>;
  using path_type = postcard_path<MaxHops>;
  using slot_write = typename store_type::slot_write;

  postcarding() = default;

  static absl::StatusOr<postcarding> create(std::uint64_t slots, std::uint64_t seed,
                                            std::uint64_t base = 0) {
    absl::StatusOr<store_type> s = store_type::create(slots, seed, base);
    if (!s.ok()) return s.status();
    return postcarding(*s);
  }

  const store_type& store() const noexcept { return store_; }

  // The coded slot value of `path` for flow `f`. Precondition: path.length <= MaxHops (a longer
  // length is encoded as is and the slot never decodes); writes() and put() check it.
  typename store_type::value_type encode(std::span<const std::byte> flow,
                                         const path_type& path) const noexcept {
    const hash_family h = make_hash_family(flow, store_.seed());
    typename store_type::value_type v{};
    detail::store_le(v.data(), path.length ^ mask(h, 0), 4);
    for (std::uint32_t i = 0; i < MaxHops; ++i) {
      const std::uint32_t value = i < path.length ? path.hop[i] : 0;
      detail::store_le(v.data() + 4 + 4 * i, value ^ mask(h, 1 + i), 4);
    }
    return v;
  }

  // The inverse of encode; errc::malformed when the decoded length is impossible.
  result<path_type> decode(std::span<const std::byte> flow,
                           const typename store_type::value_type& v) const noexcept {
    const hash_family h = make_hash_family(flow, store_.seed());
    path_type p;
    p.length = static_cast<std::uint32_t>(detail::load_le(v.data(), 4)) ^ mask(h, 0);
    if (p.length > MaxHops) return errc::malformed;
    for (std::uint32_t i = 0; i < p.length; ++i)
      p.hop[i] =
          static_cast<std::uint32_t>(detail::load_le(v.data() + 4 + 4 * i, 4)) ^ mask(h, 1 + i);
    return p;
  }

  // The slot writes that record `path`; errc::malformed when path.length > MaxHops, which
  // would occupy the flow's slots with a value that never decodes.
  result<std::array<slot_write, Redundancy>> writes(std::span<const std::byte> flow,
                                                    const path_type& path) const noexcept {
    if (path.length > MaxHops) return errc::malformed;
    return store_.writes(flow, encode(flow, path));
  }

  template <memory_region R>
  errc put(R& region, std::span<const std::byte> flow, const path_type& path) const {
    if (path.length > MaxHops) return errc::malformed;
    return store_.put(region, flow, encode(flow, path));
  }

  // The flow's path; errc::not_found / checksum_mismatch as key_write::get, errc::malformed
  // when the winning slot does not decode, or when `valid` rejects a hop value.
  template <memory_region R, class Valid>
  result<path_type> get(R& region, std::span<const std::byte> flow, Valid valid) const {
    const auto r = store_.get(region, flow);
    if (!r.ok()) return r.error();
    const auto p = decode(flow, r->value);
    if (!p.ok()) return p.error();
    for (std::uint32_t i = 0; i < p->length; ++i) {
      if (!valid(p->hop[i])) return errc::malformed;
    }
    return p;
  }
  template <memory_region R>
  result<path_type> get(R& region, std::span<const std::byte> flow) const {
    return get(region, flow, [](std::uint32_t) { return true; });
  }

 private:
  explicit postcarding(const store_type& s) : store_(s) {}

  static std::uint32_t mask(const hash_family& h, std::uint32_t j) noexcept {
    return static_cast<std::uint32_t>(innet::detail::fmix64(h.value(Redundancy + 1 + j)));
  }

  store_type store_;
};

// The translator's aggregation table: postcards in, one completed path per flow out.
// Direct-mapped on XXH3-64 of the flow key (`Key`: the flow's byte encoding, e.g. the 13 bytes
// of five_tuple::to_bytes()); a row keeps the key itself, so two flows never share a path.
template <std::uint32_t MaxHops, class Key = std::array<std::byte, 13>>
class postcard_cache {
  static_assert(std::has_unique_object_representations_v<Key>, "keys are plain byte encodings");

 public:
  using path_type = postcard_path<MaxHops>;

  struct completed {
    Key key{};
    path_type path{};
  };

  explicit postcard_cache(std::uint32_t rows, std::uint64_t seed = 0)
      : rows_(rows == 0 ? 1 : rows), seed_(seed) {}

  // Records hop `hop` (< path_length <= MaxHops) of flow `key`. Returns the path when this
  // postcard completes it (the row is then freed), errc::would_block while hops are missing,
  // errc::malformed for an impossible hop. A different flow in the row is evicted (its partial
  // path is lost and counted in evictions()).
  result<completed> add(const Key& key, std::uint32_t hop, std::uint32_t path_length,
                        std::uint32_t value) {
    if (path_length == 0 || path_length > MaxHops || hop >= path_length) return errc::malformed;
    const std::uint64_t h = xxh3_64(object_bytes(key), seed_);
    row& r = rows_[static_cast<std::size_t>(innet::detail::mul_high64(h, rows_.size()))];
    if (r.seen != 0 && (!(r.key == key) || r.path.length != path_length)) {
      ++evictions_;
      r = row{};
    }
    r.key = key;
    r.path.length = path_length;
    r.path.hop[hop] = value;
    r.seen |= std::uint64_t{1} << hop;
    if (r.seen != (path_length == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << path_length) - 1))
      return errc::would_block;
    completed c{r.key, r.path};
    r = row{};
    return c;
  }

  std::uint64_t evictions() const noexcept { return evictions_; }

 private:
  struct row {
    Key key{};
    std::uint64_t seen = 0;  // bit i: hop i's postcard arrived
    path_type path{};
  };
  std::vector<row> rows_;
  std::uint64_t seed_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace innet::telemetry
