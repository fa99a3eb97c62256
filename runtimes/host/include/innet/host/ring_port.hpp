// In-process packet ports over lock-free frame rings: the host runtime's
// counterpart of DPDK's rte_ring and the net_ring PMD.
//
// make_ring_port_pair() builds two rings and returns two connected ends, as
// rte_eth_from_rings() does when both ports are given the same two rings crossed:
//
//          a.tx_burst ──► ring 0 ──► b.rx_burst
//          a.rx_burst ◄── ring 1 ◄── b.tx_burst
//
// Each ring is a bounded single-producer/single-consumer queue of frame slots
// (detail/frame_ring.hpp has the layout and the memory-ordering argument). SPSC is
// the model of a poll-mode port: one thread polls a queue, so there is never a
// second producer or consumer to arbitrate with, and a burst costs one release
// store instead of a locked instruction per frame.
//
// Threading: for each end, at most one thread at a time in tx_burst and at most one
// in rx_burst. The two may be different threads (the rx and tx state of an end sit
// in separate cache-line blocks); stats() may be called from any thread.
//
// tx_burst copies frames into slots and returns a short count when the ring is
// full (the rest counted in tx_rejected). A frame longer than max_frame() takes
// no slot: it is dropped, counted in tx_dropped and reported as sent, as the
// packet-port contract asks; empty frames are carried. rx_burst lends frames in
// place until the next rx_burst on the same end, so a slot is reusable by the
// producer only after the consumer comes back for more. Nothing blocks. A ring
// has no notion of receive time: timestamp_ns is 0.
//
//   auto pair = innet::host::make_ring_port_pair({.slot_count = 1024, .max_frame = 2048});
//   if (!pair.ok()) return pair.status();
//   auto& [a, b] = *pair;
//   a.tx_burst(frames);        // copies
//   b.rx_burst(views);         // lends until b's next rx_burst
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/packet_port.hpp"
#include "innet/host/detail/frame_ring.hpp"

namespace innet::host {

using ring_port_stats = detail::ring_port_stats;

struct ring_port_config {
  std::uint32_t slot_count = 1024;  // frames each direction holds; a power of two
  std::uint32_t max_frame = 2048;   // largest frame either end may send, bytes
};

struct ring_port_pair;

class ring_port {
 public:
  std::size_t rx_burst(std::span<packet_view> out) noexcept { return end_->rx.consume(out); }
  std::size_t tx_burst(std::span<const std::span<const std::byte>> frames) noexcept {
    return end_->tx.produce(frames);
  }

  std::uint32_t max_frame() const noexcept { return end_->tx.max_frame(); }
  std::uint32_t slot_count() const noexcept {
    return static_cast<std::uint32_t>(end_->tx.slot_count());
  }
  ring_port_stats stats() const noexcept { return end_->stats(); }

 private:
  friend absl::StatusOr<ring_port_pair> make_ring_port_pair(const ring_port_config& config);

  ring_port(std::shared_ptr<std::byte> rings, std::unique_ptr<detail::ring_endpoint> end) noexcept
      : rings_(std::move(rings)), end_(std::move(end)) {}

  std::shared_ptr<std::byte> rings_;  // both rings; the two ends share ownership
  std::unique_ptr<detail::ring_endpoint> end_;
};

static_assert(innet::packet_port<ring_port>);

struct ring_port_pair {
  ring_port a;
  ring_port b;
};

// Two connected ends; fails on a bad configuration or when memory runs out.
inline absl::StatusOr<ring_port_pair> make_ring_port_pair(const ring_port_config& config) {
  auto geometry = detail::ring_geometry::make(config.slot_count, config.max_frame, "ring_port");
  if (!geometry.ok()) return geometry.status();
  const detail::ring_geometry& g = *geometry;

  const std::size_t bytes = static_cast<std::size_t>(2 * g.region_size);
  constexpr std::align_val_t alignment{detail::ring_block_align};
  auto* raw = static_cast<std::byte*>(::operator new(bytes, alignment, std::nothrow));
  if (raw == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ring_port: cannot allocate ", bytes, " bytes for two rings of ", g.slot_count,
                     " slots of ", g.slot_size, " bytes; use fewer slots or a smaller max_frame"));
  }
  std::shared_ptr<std::byte> rings(
      raw, [](std::byte* p) { ::operator delete (p, std::align_val_t{detail::ring_block_align}); });
  std::byte* ring0 = raw;
  std::byte* ring1 = raw + g.region_size;
  detail::format_ring(ring0, g);
  detail::format_ring(ring1, g);

  return ring_port_pair{
      .a = ring_port(rings, std::make_unique<detail::ring_endpoint>(ring1, g, ring0, g)),
      .b = ring_port(rings, std::make_unique<detail::ring_endpoint>(ring0, g, ring1, g)),
  };
}

}  // namespace innet::host
