// The frame ring: a bounded single-producer/single-consumer queue of variable-length
// frames in fixed-size slots, shared by ring_port (process memory) and shm_ring (a
// memfd mapped by two processes). Both use the same bytes, laid out below, so the
// in-process tests exercise the exact code the cross-process port runs.
//
// Layout of one ring. Integers are in host byte order (little-endian on x86-64): the
// block is shared only between processes on one machine, never sent on a wire.
//
//   offset
//        0 +--------------------------------------------------------------+
//          | header, 64 bytes, written once by the creator:               |
//          |    0  u32 magic        "INRG" in memory (0x47524E49)         |
//          |    4  u16 version      ring_version                          |
//          |    6  u16 reserved     0                                     |
//          |    8  u32 slot_count   power of two, frames the ring holds   |
//          |   12  u32 max_frame    largest frame, bytes                  |
//          |   16  u32 slot_size    max_frame rounded up to 64            |
//          |   20  u32 reserved     0                                     |
//          |   24  u64 slots_offset where slot 0 starts                   |
//          |   32  u64 region_size  bytes of the whole ring               |
//          |   40  24 bytes reserved, 0                                   |
//       64 | padding                                                      |
//      128 | produced  u64: frames ever published; producer writes only   |
//      136 | padding to 256                                               |
//      256 | consumed  u64: frames ever released; consumer writes only    |
//      264 | padding to 384                                               |
//      384 | length[slot_count]  u32 per slot, then padding to 128        |
//  slots_  | slot[slot_count]    slot_size bytes each, 64-byte aligned    |
//  offset  +--------------------------------------------------------------+
//
// Invariants: 0 <= produced - consumed <= slot_count; frame i lives in slot
// i & (slot_count - 1) with its length in length[i & (slot_count - 1)]. The counters
// are 64-bit and never wrap in practice (2^64 frames), so full and empty need no
// spare slot.
//
// Why the padding: each index sits alone in a 128-byte block because Intel's
// adjacent-line prefetcher pulls cache lines in 128-byte pairs; two indices 64 bytes
// apart would still bounce between the producer's and the consumer's cores (DPDK
// added RTE_CACHE_GUARD to rte_ring for the same reason). Lengths live in their own
// table rather than in front of each frame so that frame bytes start on a cache line
// and a 64-byte frame occupies one line, not two.
//
// Synchronisation is one release store and, only when the cached view of the peer's
// index says the ring looks full (or empty), one acquire load per burst; no
// read-modify-write instruction and no lock. Each side keeps a private copy of its
// own index and a cached copy of the peer's, refreshed only when needed, so the
// shared index lines move between cores about once per burst (the "local control
// variables" of MCRingBuffer, Lee et al. 2009; rigtorp::SPSCQueue does the same).
//
// The consumer lends frames in place: rx views point into the slots and the
// consumer releases them (advances `consumed`) only at its next call, which is what
// the packet-port contract promises. The producer copies, so senders may reuse
// their buffers at once.
//
// Nothing the peer writes is trusted to stay in bounds: the geometry is fixed when a
// side attaches, slot indices are masked, lengths above max_frame are dropped and
// counted, and a peer index implying more than slot_count frames is clamped. A
// corrupt peer can garble frames but cannot make this side read or write outside
// the ring.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/packet_port.hpp"

namespace innet::host::detail {

inline constexpr std::uint32_t ring_magic = 0x47524E49;  // bytes "INRG" little-endian
inline constexpr std::uint16_t ring_version = 1;
inline constexpr std::size_t ring_frame_align = 64;   // a cache line
inline constexpr std::size_t ring_block_align = 128;  // an adjacent-line prefetch pair
inline constexpr std::uint32_t ring_max_slot_count = std::uint32_t{1} << 20;
inline constexpr std::uint32_t ring_max_frame_limit = std::uint32_t{1} << 20;

struct ring_header {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t reserved0;
  std::uint32_t slot_count;
  std::uint32_t max_frame;
  std::uint32_t slot_size;
  std::uint32_t reserved1;
  std::uint64_t slots_offset;
  std::uint64_t region_size;
  std::array<std::uint8_t, 24> reserved2;
};

inline constexpr std::size_t ring_produced_offset = 128;
inline constexpr std::size_t ring_consumed_offset = 256;
inline constexpr std::size_t ring_lengths_offset = 384;

static_assert(sizeof(ring_header) == 64);
static_assert(offsetof(ring_header, magic) == 0);
static_assert(offsetof(ring_header, version) == 4);
static_assert(offsetof(ring_header, slot_count) == 8);
static_assert(offsetof(ring_header, max_frame) == 12);
static_assert(offsetof(ring_header, slot_size) == 16);
static_assert(offsetof(ring_header, slots_offset) == 24);
static_assert(offsetof(ring_header, region_size) == 32);
static_assert(sizeof(ring_header) <= ring_produced_offset);
static_assert(ring_consumed_offset - ring_produced_offset == ring_block_align);
static_assert(ring_lengths_offset - ring_consumed_offset == ring_block_align);
// Lock-free atomics are address-free, which is what makes them work across two
// processes mapping the same pages at different addresses.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) / alignment * alignment;
}

// Where everything lives, derived from the two numbers a user chooses.
struct ring_geometry {
  std::uint32_t slot_count = 0;
  std::uint32_t max_frame = 0;
  std::uint32_t slot_size = 0;
  std::uint64_t slots_offset = 0;
  std::uint64_t region_size = 0;

  // `what` names the caller in error messages ("ring_port", "shm_ring::create").
  static absl::StatusOr<ring_geometry> make(std::uint32_t slot_count, std::uint32_t max_frame,
                                            absl::string_view what) {
    if (slot_count < 2 || slot_count > ring_max_slot_count ||
        (slot_count & (slot_count - 1)) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": slot_count ", slot_count, " must be a power of two between 2 and ",
                       ring_max_slot_count, " (slot indices are masked, not divided)"));
    }
    if (max_frame == 0 || max_frame > ring_max_frame_limit) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": max_frame ", max_frame,
                                                     " must be between 1 and ",
                                                     ring_max_frame_limit, " bytes"));
    }
    ring_geometry g;
    g.slot_count = slot_count;
    g.max_frame = max_frame;
    g.slot_size = static_cast<std::uint32_t>(round_up(max_frame, ring_frame_align));
    g.slots_offset =
        round_up(ring_lengths_offset + std::uint64_t{4} * slot_count, ring_block_align);
    g.region_size = g.slots_offset + std::uint64_t{g.slot_size} * slot_count;
    return g;
  }
};

// Writes the header and zeroes the indices and length table of a ring at `base`
// (aligned to ring_block_align, region_size bytes). The magic goes in last, with
// release order, so a reader that sees it also sees the rest of the header.
inline void format_ring(std::byte* base, const ring_geometry& g) noexcept {
  std::memset(base, 0, g.slots_offset);
  ring_header h{};
  h.version = ring_version;
  h.slot_count = g.slot_count;
  h.max_frame = g.max_frame;
  h.slot_size = g.slot_size;
  h.slots_offset = g.slots_offset;
  h.region_size = g.region_size;
  std::memcpy(base, &h, sizeof h);
  std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(base))
      .store(ring_magic, std::memory_order_release);
}

// A copy of the header; the magic is read with acquire order (see format_ring).
inline ring_header read_ring_header(std::byte* base) noexcept {
  ring_header h;
  std::memcpy(&h, base, sizeof h);
  h.magic = std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(base))
                .load(std::memory_order_acquire);
  return h;
}

// Single-writer counters that any thread may read: a relaxed load and store, no
// locked instruction, since only the owning side ever writes them.
struct ring_counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n) noexcept {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// Shared by ring_port and shm_port.
struct ring_port_stats {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // slots with a length above max_frame (a corrupt peer)
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_rejected = 0;  // offered but not accepted: the ring was full
  std::uint64_t tx_dropped = 0;   // frames > max_frame, dropped and reported as sent
};

// Pointers into one ring plus what either side needs to address a slot.
class ring_view {
 public:
  ring_view(std::byte* base, const ring_geometry& g) noexcept
      : produced_(reinterpret_cast<std::uint64_t*>(base + ring_produced_offset)),
        consumed_(reinterpret_cast<std::uint64_t*>(base + ring_consumed_offset)),
        lengths_(reinterpret_cast<std::uint32_t*>(base + ring_lengths_offset)),
        slots_(base + g.slots_offset),
        mask_(g.slot_count - 1),
        slot_size_(g.slot_size),
        max_frame_(g.max_frame) {}

  std::atomic_ref<std::uint64_t> produced() const noexcept { return std::atomic_ref(*produced_); }
  std::atomic_ref<std::uint64_t> consumed() const noexcept { return std::atomic_ref(*consumed_); }
  std::atomic_ref<std::uint32_t> length(std::uint64_t index) const noexcept {
    return std::atomic_ref(lengths_[index & mask_]);
  }
  std::byte* slot(std::uint64_t index) const noexcept {
    return slots_ + (index & mask_) * std::uint64_t{slot_size_};
  }
  std::uint64_t slot_count() const noexcept { return mask_ + 1; }
  std::uint32_t max_frame() const noexcept { return max_frame_; }

  // Frames between the two indices, clamped to the ring so that a corrupt peer index
  // cannot make either side believe in more (or fewer than zero) free slots.
  std::uint64_t used(std::uint64_t produced, std::uint64_t consumed) const noexcept {
    return std::min<std::uint64_t>(produced - consumed, slot_count());
  }

 private:
  std::uint64_t* produced_;
  std::uint64_t* consumed_;
  std::uint32_t* lengths_;
  std::byte* slots_;
  std::uint64_t mask_;
  std::uint32_t slot_size_;
  std::uint32_t max_frame_;
};

// The producing side of one ring. Its own block, so that a thread transmitting on a
// port does not share a line with the thread receiving on it.
class alignas(ring_block_align) ring_producer {
 public:
  ring_producer(std::byte* base, const ring_geometry& g) noexcept
      : ring_(base, g),
        head_(ring_.produced().load(std::memory_order_acquire)),
        consumed_cache_(ring_.consumed().load(std::memory_order_acquire)) {}
  ring_producer(const ring_producer&) = delete;
  ring_producer& operator=(const ring_producer&) = delete;

  // Copies a prefix of `frames` into free slots and publishes it; stops at the
  // first frame that needs a slot when the ring is full. A frame longer than
  // max_frame can never be carried: it takes no slot, is counted in tx_dropped and
  // is part of the returned prefix, so a caller retrying its tail makes progress.
  std::size_t produce(std::span<const std::span<const std::byte>> frames) noexcept {
    if (frames.empty()) return 0;
    std::uint64_t free = ring_.slot_count() - ring_.used(head_, consumed_cache_);
    if (free < frames.size()) {
      consumed_cache_ = ring_.consumed().load(std::memory_order_acquire);
      free = ring_.slot_count() - ring_.used(head_, consumed_cache_);
    }
    std::size_t taken = 0;  // frames consumed from `frames`: written or dropped
    std::uint64_t written = 0;
    std::uint64_t dropped = 0;
    std::uint64_t bytes = 0;
    for (; taken < frames.size(); ++taken) {
      const std::span<const std::byte> frame = frames[taken];
      if (frame.size() > ring_.max_frame()) {
        ++dropped;
        continue;
      }
      if (written == free) break;
      if (!frame.empty()) std::memcpy(ring_.slot(head_ + written), frame.data(), frame.size());
      ring_.length(head_ + written)
          .store(static_cast<std::uint32_t>(frame.size()), std::memory_order_relaxed);
      bytes += frame.size();
      ++written;
    }
    if (written > 0) {
      head_ += written;
      ring_.produced().store(head_, std::memory_order_release);
      packets_.add(written);
      bytes_.add(bytes);
    }
    if (dropped > 0) dropped_.add(dropped);
    if (taken < frames.size()) rejected_.add(frames.size() - taken);
    return taken;
  }

  std::uint32_t max_frame() const noexcept { return ring_.max_frame(); }
  std::uint64_t slot_count() const noexcept { return ring_.slot_count(); }
  void add_stats(ring_port_stats& s) const noexcept {
    s.tx_packets = packets_.get();
    s.tx_bytes = bytes_.get();
    s.tx_rejected = rejected_.get();
    s.tx_dropped = dropped_.get();
  }

 private:
  ring_view ring_;
  std::uint64_t head_;            // == produced; only this side writes it
  std::uint64_t consumed_cache_;  // the consumer's index when last looked at
  ring_counter packets_, bytes_, rejected_, dropped_;
};

// The consuming side of one ring; lends frames until its next call.
class alignas(ring_block_align) ring_consumer {
 public:
  ring_consumer(std::byte* base, const ring_geometry& g) noexcept
      : ring_(base, g),
        tail_(ring_.consumed().load(std::memory_order_acquire)),
        produced_cache_(ring_.produced().load(std::memory_order_acquire)) {}
  ring_consumer(const ring_consumer&) = delete;
  ring_consumer& operator=(const ring_consumer&) = delete;

  // Releases the frames lent by the previous call, then lends up to size(out) more.
  std::size_t consume(std::span<packet_view> out) noexcept {
    release();
    if (out.empty()) return 0;
    std::uint64_t ready = ring_.used(produced_cache_, tail_);
    if (ready < out.size()) {
      produced_cache_ = ring_.produced().load(std::memory_order_acquire);
      ready = ring_.used(produced_cache_, tail_);
    }
    const std::size_t taken = static_cast<std::size_t>(std::min<std::uint64_t>(ready, out.size()));
    std::size_t delivered = 0;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < taken; ++i) {
      // One load: the length checked is the length used, whatever the peer does next.
      const std::uint32_t length = ring_.length(tail_ + i).load(std::memory_order_relaxed);
      if (length > ring_.max_frame()) {
        dropped_.add(1);
        continue;
      }
      out[delivered++] = packet_view{.bytes = {ring_.slot(tail_ + i), length}};
      bytes += length;
    }
    lent_ = taken;
    packets_.add(delivered);
    bytes_.add(bytes);
    return delivered;
  }

  // Hands the lent slots back to the producer; consume() does this first.
  void release() noexcept {
    if (lent_ == 0) return;
    tail_ += lent_;
    lent_ = 0;
    ring_.consumed().store(tail_, std::memory_order_release);
  }

  std::uint32_t max_frame() const noexcept { return ring_.max_frame(); }
  void add_stats(ring_port_stats& s) const noexcept {
    s.rx_packets = packets_.get();
    s.rx_bytes = bytes_.get();
    s.rx_dropped = dropped_.get();
  }

 private:
  ring_view ring_;
  std::uint64_t tail_;            // == consumed; only this side writes it
  std::uint64_t produced_cache_;  // the producer's index when last looked at
  std::uint64_t lent_ = 0;        // slots lent out by the last consume()
  ring_counter packets_, bytes_, dropped_;
};

// One end of a port: consumes one ring and produces into another.
struct ring_endpoint {
  ring_endpoint(std::byte* rx_base, const ring_geometry& rx_geometry, std::byte* tx_base,
                const ring_geometry& tx_geometry) noexcept
      : rx(rx_base, rx_geometry), tx(tx_base, tx_geometry) {}

  ring_port_stats stats() const noexcept {
    ring_port_stats s;
    rx.add_stats(s);
    tx.add_stats(s);
    return s;
  }

  ring_consumer rx;
  ring_producer tx;
};

}  // namespace innet::host::detail
