// A packet port between two processes over two shared-memory frame rings.
//
// One shm_ring per direction (shm_ring.hpp): a port consumes one and produces into
// the other, and the peer holds the opposite roles on the same two memfds.
//
//   process P                                   process Q
//   shm_port(rx = ring_qp, tx = ring_pq)        shm_port(rx = ring_pq, tx = ring_qp)
//        tx_burst ──► ring_pq (memfd) ──► rx_burst
//        rx_burst ◄── ring_qp (memfd) ◄── tx_burst
//
// Setting it up: P creates both rings, hands their fds to Q (fork, or SCM_RIGHTS),
// and Q attaches, which validates each region before trusting it:
//
//   auto pq = innet::host::shm_ring::create({.slot_count = 1024, .max_frame = 2048});
//   auto qp = innet::host::shm_ring::create({.slot_count = 1024, .max_frame = 2048});
//   ...                                   // P: shm_port(std::move(*qp), std::move(*pq))
//   auto rx = innet::host::shm_ring::attach(pq_fd);   // in Q
//   auto tx = innet::host::shm_ring::attach(qp_fd);
//   innet::host::shm_port port(std::move(*rx), std::move(*tx));
//
// The burst semantics, threading rules and statistics are ring_port's: tx_burst
// copies and stops short at a full ring, and drops (counts in tx_dropped and
// reports as sent) a frame longer than max_frame(); rx_burst lends frames in the
// shared slots until the next rx_burst; one thread at a time per direction.
// The rings are SPSC; shm_ring.hpp says why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "innet/core/packet_port.hpp"
#include "innet/host/detail/frame_ring.hpp"
#include "innet/host/shm_ring.hpp"

namespace innet::host {

using shm_port_stats = detail::ring_port_stats;

class shm_port {
 public:
  // Consumes `rx` and produces into `tx`. They may differ in slot count and
  // max_frame (each direction is sized by its creator).
  shm_port(shm_ring rx, shm_ring tx)
      : rx_ring_(std::move(rx)),
        tx_ring_(std::move(tx)),
        end_(std::make_unique<detail::ring_endpoint>(rx_ring_.base(), rx_ring_.geometry(),
                                                     tx_ring_.base(), tx_ring_.geometry())) {}

  std::size_t rx_burst(std::span<packet_view> out) noexcept { return end_->rx.consume(out); }
  std::size_t tx_burst(std::span<const std::span<const std::byte>> frames) noexcept {
    return end_->tx.produce(frames);
  }

  // The largest frame tx_burst accepts (the tx ring's).
  std::uint32_t max_frame() const noexcept { return tx_ring_.max_frame(); }
  const shm_ring& rx_ring() const noexcept { return rx_ring_; }
  const shm_ring& tx_ring() const noexcept { return tx_ring_; }
  shm_port_stats stats() const noexcept { return end_->stats(); }

 private:
  shm_ring rx_ring_;
  shm_ring tx_ring_;
  std::unique_ptr<detail::ring_endpoint> end_;
};

static_assert(innet::packet_port<shm_port>);

}  // namespace innet::host
