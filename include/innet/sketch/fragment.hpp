// A sketch fragment: one piece of a network-wide sketch, held by one node for one time window
// (DiSketch: Langlet, Chen, Mitzenmacher, Ben Basat, Liu and Antichi, "Sketch Disaggregation
// Across Time and Space", arXiv 2503.13515).
//
// Instead of every switch keeping one sketch for the whole measurement epoch, sized to whatever
// memory it has left, each node on a flow's path keeps a *fragment* sized to its residual
// memory, for a window of time it chooses, and exports it to a collector when the window ends
// (sketch/fragment_collector.hpp). The collector combines the fragments on a flow's path
// (sketch/fragment_planner.hpp decides their sizes and windows). A fragment is
//
//   (node, epoch, window [begin_ns, end_ns), seed, sampling slot, sketch)
//
// * Seed. Every node hashes with its own seed, fragment_seed(base_seed, node), so the rows of
//   the fragments on one path are independent and taking the min (Count-Min) or median (Count
//   Sketch) across hops helps. A node keeps its seed in every epoch, so its fragments of
//   different widths fold (width/2^k, sketch fold()) and sum.
// * Hop assignment. By default (fragment_planner's hop_assignment::one_hop) a flow is counted
//   by the fragments of ONE node of its path, picked by a hash of its key under a seed of its
//   own (assignment_seed); the header needs no field for it: the planner's per-epoch shares and
//   the flow's path decide, at the switch and at the collector alike.
// * Sub-epochs. A node with little memory for its traffic splits the epoch into k sub-epochs
//   and exports/resets its fragment at the end of each one, so each fragment summarises less
//   traffic (fragment_planner.hpp has the rule and why).
// * Sampling slot. In the planner's `sample` mode a fragment additionally tracks only the flows
//   whose slot, fragment_slot(h, slots), equals its own, and its estimates stand for the whole
//   epoch after multiplying by `slots` (each flow is tracked in one of the node's k sub-epochs,
//   chosen by hash). slots == 1 (the default, `partition` mode) tracks every flow.
//   The slot comes from hash row fragment_slot_row of the same hash_family the sketch uses, so
//   a packet still costs one hash per (packet, fragment seed).
//
// Wire format (what a switch exports), BIG-ENDIAN:
//
//    byte  0               4       5       6               8
//        +---------------+-------+-------+---------------+
//      0 | magic "INFR"  |version|  0    |  reserved 0   |   magic 0x494E4652, version 1
//        +---------------+-------+-------+---------------+
//      8 |      node (u32)       |      epoch (u32)      |
//        +-----------------------+-----------------------+
//     16 |               window begin_ns (u64)           |
//        +-----------------------------------------------+
//     24 |               window end_ns (u64)             |   begin_ns < end_ns
//        +-----------------------------------------------+
//     32 |               seed (u64)                      |   == the sketch preamble's seed
//        +-----------------------+-----------------------+
//     40 | slots (u16)| slot(u16)|  sketch_bytes (u32)   |   1 <= slots, slot < slots
//        +-----------------------+-----------------------+
//     48 |   xxh3_64 (seed 0) of bytes [0, 48) (u64)     |   header checksum
//        +-----------------------------------------------+
//     56 | the sketch's own serialize() bytes            |   sketch_format.hpp: its own
//        | (exactly sketch_bytes of them)                |   preamble and checksum
//        +-----------------------------------------------+
//
// Readers reject, each with its own message: input shorter than the header, bad magic, unknown
// version, nonzero reserved bytes, header checksum mismatch, empty window, bad slot, a sketch
// length that disagrees with the input's, any error of the sketch's own deserialize, and a
// sketch seed different from the header's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/hash.hpp"
#include "innet/core/hash_family.hpp"
#include "innet/core/wire.hpp"

namespace innet::sketch {

// The seed of `node`'s fragments: splitmix64's finalizer over base_seed and the node id, so
// nearby node ids get unrelated seeds and every (base_seed, node) pair a distinct one.
constexpr u64 fragment_seed(u64 base_seed, u32 node) noexcept {
  u64 z = base_seed + (u64{node} + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The hash_family row that picks a flow's sampling slot: far above any sketch's rows (depth <=
// 64 in sketch_format.hpp, and real fragments use a handful), so the slot is independent of the
// flow's buckets.
inline constexpr u32 fragment_slot_row = 127;

// The slot in [0, slots) of a flow (given by its hash under the fragment's seed).
constexpr u32 fragment_slot(const hash_family& h, u32 slots) noexcept {
  return slots <= 1 ? 0 : static_cast<u32>(h.index(fragment_slot_row, slots));
}

struct fragment_header {
  u32 node = 0;
  u32 epoch = 0;
  u64 begin_ns = 0;  // window [begin_ns, end_ns) in which the fragment counted packets
  u64 end_ns = 0;
  u64 seed = 0;
  u16 slots = 1;  // 1: every flow; k > 1: only flows with fragment_slot(h, k) == slot
  u16 slot = 0;

  // Whether this fragment counts the flow with hash family h (under this->seed).
  constexpr bool tracks(const hash_family& h) const noexcept {
    return fragment_slot(h, slots) == slot;
  }
  // The time its estimates stand for: the window itself, or with sampling the k equal windows
  // of the node's epoch (estimates are then scaled by k).
  constexpr u64 represented_begin() const noexcept {
    return begin_ns - u64{slot} * (end_ns - begin_ns);
  }
  constexpr u64 represented_end() const noexcept {
    return end_ns + u64{static_cast<u32>(slots - 1 - slot)} * (end_ns - begin_ns);
  }
  // Whether the represented time intersects [begin, end).
  constexpr bool overlaps(u64 begin, u64 end) const noexcept {
    return represented_begin() < end && begin < represented_end();
  }

  friend constexpr bool operator==(const fragment_header&, const fragment_header&) = default;
};

namespace fragment_format {
inline constexpr u32 magic = 0x494E4652;  // "INFR"
inline constexpr u8 version = 1;
inline constexpr usize header_size = 56;
inline constexpr usize checksum_at = 48;
}  // namespace fragment_format

// Checks a header's own invariants (window, slot); shared by create and deserialize.
inline absl::Status validate_fragment_header(const fragment_header& h) {
  if (h.begin_ns >= h.end_ns) {
    return absl::InvalidArgumentError(
        absl::StrCat("fragment: empty window [", h.begin_ns, ", ", h.end_ns, ")"));
  }
  if (h.slots == 0 || h.slot >= h.slots) {
    return absl::InvalidArgumentError(
        absl::StrCat("fragment: slot ", h.slot, " is not below slots ", h.slots));
  }
  // The represented window must not wrap around 64 bits.
  const u64 len = h.end_ns - h.begin_ns;
  const u64 before = u64{h.slot};
  const u64 after = u64{static_cast<u32>(h.slots - 1 - h.slot)};
  if ((before != 0 && len > h.begin_ns / before) ||
      (after != 0 && len > (~u64{0} - h.end_ns) / after)) {
    return absl::InvalidArgumentError("fragment: sampled window overflows 64-bit time");
  }
  return absl::OkStatus();
}

// Encodes the 56-byte header for a sketch blob of sketch_bytes bytes.
inline void write_fragment_header(std::span<std::byte, fragment_format::header_size> out,
                                  const fragment_header& h, u32 sketch_bytes) noexcept {
  std::byte* b = out.data();
  store_be<u32>(b + 0, fragment_format::magic);
  store_be<u8>(b + 4, fragment_format::version);
  store_be<u8>(b + 5, 0);
  store_be<u16>(b + 6, 0);
  store_be<u32>(b + 8, h.node);
  store_be<u32>(b + 12, h.epoch);
  store_be<u64>(b + 16, h.begin_ns);
  store_be<u64>(b + 24, h.end_ns);
  store_be<u64>(b + 32, h.seed);
  store_be<u16>(b + 40, h.slots);
  store_be<u16>(b + 42, h.slot);
  store_be<u32>(b + 44, sketch_bytes);
  store_be<u64>(b + fragment_format::checksum_at,
                xxh3_64(std::span<const std::byte>(b, fragment_format::checksum_at), 0));
}

// A parsed header and the sketch bytes that follow it.
struct parsed_fragment {
  fragment_header header;
  std::span<const std::byte> sketch_bytes;
};

// Validates the header and splits off the sketch blob (not yet parsed).
inline absl::StatusOr<parsed_fragment> parse_fragment(std::span<const std::byte> in) {
  using namespace fragment_format;
  if (in.size() < header_size) {
    return absl::InvalidArgumentError(absl::StrCat("fragment::deserialize: truncated input (",
                                                   in.size(), " bytes; the header alone is ",
                                                   header_size, ")"));
  }
  const std::byte* b = in.data();
  if (load_be<u32>(b) != magic) {
    return absl::InvalidArgumentError("fragment::deserialize: bad magic (not an innet fragment)");
  }
  if (load_be<u8>(b + 4) != version) {
    return absl::InvalidArgumentError(absl::StrCat("fragment::deserialize: unsupported version ",
                                                   load_be<u8>(b + 4), " (this reader knows ",
                                                   version, ")"));
  }
  if (load_be<u8>(b + 5) != 0 || load_be<u16>(b + 6) != 0) {
    return absl::InvalidArgumentError("fragment::deserialize: reserved header bytes are not zero");
  }
  const u64 stored = load_be<u64>(b + checksum_at);
  const u64 computed = xxh3_64(in.first(checksum_at), 0);
  if (stored != computed) {
    return absl::InvalidArgumentError(
        absl::StrCat("fragment::deserialize: header checksum mismatch (stored 0x",
                     absl::Hex(stored), ", computed 0x", absl::Hex(computed), ")"));
  }
  parsed_fragment out;
  out.header.node = load_be<u32>(b + 8);
  out.header.epoch = load_be<u32>(b + 12);
  out.header.begin_ns = load_be<u64>(b + 16);
  out.header.end_ns = load_be<u64>(b + 24);
  out.header.seed = load_be<u64>(b + 32);
  out.header.slots = load_be<u16>(b + 40);
  out.header.slot = load_be<u16>(b + 42);
  if (absl::Status s = validate_fragment_header(out.header); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("fragment::deserialize: ", s.message()));
  }
  const u32 sketch_bytes = load_be<u32>(b + 44);
  if (u64{sketch_bytes} != in.size() - header_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("fragment::deserialize: header announces ", sketch_bytes, " sketch bytes but ",
                     in.size() - header_size, " follow",
                     sketch_bytes > in.size() - header_size ? " (truncated)" : ""));
  }
  out.sketch_bytes = in.subspan(header_size);
  return out;
}

// A fragment holding a run-time sketch (count_min, count_sketch, univmon): anything with
// seed(), update(const hash_family&, w), serialize() and static deserialize(bytes).
template <class Sketch>
class fragment {
 public:
  using sketch_type = Sketch;

  // The largest sketch (memory_bytes()) a fragment holds: the header's sketch_bytes is a u32,
  // and 2 GiB leaves room below 4 GiB for the sketch's own preamble, checksum and (UnivMon)
  // candidate sections. No switch fragment comes near it.
  static constexpr usize max_sketch_bytes = usize{1} << 31;

  // InvalidArgument if the header is invalid or its seed is not the sketch's; ResourceExhausted
  // if the sketch is over max_sketch_bytes (its export would not fit the header's length field).
  static absl::StatusOr<fragment> create(const fragment_header& header, Sketch sketch) {
    if (absl::Status s = validate_fragment_header(header); !s.ok()) return s;
    if (sketch.memory_bytes() > max_sketch_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("fragment: sketch of ",
                                                       sketch.memory_bytes(), " bytes is over the ",
                                                       max_sketch_bytes, "-byte fragment cap"));
    }
    if (sketch.seed() != header.seed) {
      return absl::InvalidArgumentError(absl::StrCat("fragment: header seed 0x",
                                                     absl::Hex(header.seed), " != sketch seed 0x",
                                                     absl::Hex(sketch.seed())));
    }
    return fragment(header, std::move(sketch));
  }

  const fragment_header& header() const noexcept { return header_; }
  const Sketch& sketch() const noexcept { return sketch_; }

  // Counts a packet of the flow hashed to h (under header().seed) if this fragment tracks it;
  // returns whether it did.
  template <class Weight>
  bool update(const hash_family& h, Weight weight) {
    if (!header_.tracks(h)) return false;
    sketch_.update(h, weight);
    return true;
  }
  bool update(const hash_family& h) { return update(h, 1); }

  // The same by key bytes, for sketches that keep keys (univmon): hashes the key under the seed
  // only when sampling needs the slot. False also if the sketch refuses the key (univmon's
  // update returns an errc for keys longer than it can store).
  template <class Weight>
  bool update(std::span<const std::byte> key, Weight weight) {
    if (header_.slots > 1 && !header_.tracks(make_hash_family(key, header_.seed))) return false;
    if constexpr (std::is_void_v<decltype(sketch_.update(key, weight))>) {
      sketch_.update(key, weight);
      return true;
    } else {
      // A value-initialised errc is errc::ok.
      return sketch_.update(key, weight) == decltype(sketch_.update(key, weight)){};
    }
  }

  // Empty if the sketch's bytes do not fit the u32 length field (create's cap rules that out;
  // an empty export is rejected by every reader rather than silently truncated).
  std::vector<std::byte> serialize() const {
    const std::vector<std::byte> blob = sketch_.serialize();
    if (blob.size() > std::numeric_limits<u32>::max()) return {};
    std::vector<std::byte> out(fragment_format::header_size + blob.size());
    write_fragment_header(std::span<std::byte, fragment_format::header_size>(
                              out.data(), fragment_format::header_size),
                          header_, static_cast<u32>(blob.size()));
    std::copy(blob.begin(), blob.end(), out.begin() + fragment_format::header_size);
    return out;
  }

  static absl::StatusOr<fragment> deserialize(std::span<const std::byte> in) {
    absl::StatusOr<parsed_fragment> parsed = parse_fragment(in);
    if (!parsed.ok()) return parsed.status();
    absl::StatusOr<Sketch> sketch = Sketch::deserialize(parsed->sketch_bytes);
    if (!sketch.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fragment::deserialize: sketch: ", sketch.status().message()));
    }
    if (sketch->seed() != parsed->header.seed) {
      return absl::InvalidArgumentError(
          "fragment::deserialize: the sketch's seed differs from the header's");
    }
    return fragment(parsed->header, *std::move(sketch));
  }

 private:
  fragment(const fragment_header& header, Sketch sketch)
      : header_{header}, sketch_{std::move(sketch)} {}

  fragment_header header_;
  Sketch sketch_;
};

}  // namespace innet::sketch
