// The packet-port concept (core/packet_port.hpp) over one rx and one tx queue
// of a DPDK ethdev.
//
// rx_burst lends: each packet_view points into an mbuf that the queue keeps
// until the next rx_burst (or its destruction), which frees the whole loan with
// one rte_pktmbuf_free_bulk. No copy on receive; a consumer that keeps a frame
// copies it, as the concept says.
//
// The queue always asks the driver for max_burst frames, whatever the caller's
// span holds: vector rx paths (ixgbe, i40e, ...) round a request down to a
// multiple of 4, so asking for fewer than 4 would never receive anything. What
// the caller has no room for waits in the queue, in order, for the next calls:
//
//   held_:  | returned | lent to the caller | waiting        |
//           0          lent_begin_          next_            held_count_
//
// rx_burst frees [lent_begin_, next_), then lends the next frames after it, and
// refills held_ from the driver only when nothing is waiting.
//
// Multi-segment mbufs are refused, not linearised: a view is one contiguous
// span, and the port is configured without the scatter offload, so only a
// driver that chains anyway (or net_ring passing on a chain some sender built)
// delivers one. It is dropped and counted in counters().rx_dropped_segmented.
//
// tx_burst copies: each frame goes into a fresh single-segment mbuf from the
// queue's pool, then rte_eth_tx_burst; the mbufs the driver did not accept are
// freed and their frames stay the caller's. Frames the port can never carry
// (empty, or longer than max_frame()) are dropped and counted as sent, as a NIC
// counts oversized frames in oerrors, so a caller that retries its unsent tail
// always makes progress.
//
// One queue belongs to one thread at a time, like the ethdev queue under it.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "innet/core/packet_port.hpp"

namespace innet::dpdk {

struct queue_counters {
  std::uint64_t rx_dropped_segmented = 0;  // chained mbufs received and freed unseen
  std::uint64_t tx_dropped_invalid = 0;    // empty or oversized frames dropped by tx_burst
  std::uint64_t tx_no_mbuf = 0;            // bursts cut short because the pool ran low
};

class port_queue {
 public:
  // Frames per rte_eth_rx_burst / rte_eth_tx_burst call: rx asks for this many
  // and lends at most this many per call; tx sends larger spans in pieces.
  static constexpr std::size_t max_burst = 64;

  // Normally obtained from port::queue(). `tx_pool` supplies tx mbufs;
  // `max_frame` bounds what tx_burst accepts (see port::max_frame()).
  port_queue(std::uint16_t port_id, std::uint16_t queue_id, rte_mempool* tx_pool,
             std::size_t max_frame) noexcept
      : port_id_(port_id), queue_id_(queue_id), tx_pool_(tx_pool), max_frame_(max_frame) {}

  port_queue(port_queue&& other) noexcept
      : port_id_(other.port_id_),
        queue_id_(other.queue_id_),
        tx_pool_(other.tx_pool_),
        max_frame_(other.max_frame_),
        counters_(other.counters_),
        held_(other.held_),
        held_count_(std::exchange(other.held_count_, 0)),
        lent_begin_(std::exchange(other.lent_begin_, 0)),
        next_(std::exchange(other.next_, 0)) {}
  port_queue& operator=(port_queue&& other) noexcept {
    if (this != &other) {
      release_held();
      port_id_ = other.port_id_;
      queue_id_ = other.queue_id_;
      tx_pool_ = other.tx_pool_;
      max_frame_ = other.max_frame_;
      counters_ = other.counters_;
      held_ = other.held_;
      held_count_ = std::exchange(other.held_count_, 0);
      lent_begin_ = std::exchange(other.lent_begin_, 0);
      next_ = std::exchange(other.next_, 0);
    }
    return *this;
  }
  port_queue(const port_queue&) = delete;
  port_queue& operator=(const port_queue&) = delete;
  ~port_queue() { release_held(); }

  std::size_t rx_burst(std::span<packet_view> out) noexcept {
    release_lent();
    if (out.empty()) return 0;
    if (next_ == held_count_) refill();
    const std::size_t n = std::min(out.size(), std::size_t{held_count_} - next_);
    for (std::size_t i = 0; i < n; ++i) {
      const rte_mbuf* m = held_[next_ + i];
      out[i] = packet_view{{rte_pktmbuf_mtod(m, const std::byte*), m->data_len}, 0};
    }
    next_ = static_cast<std::uint16_t>(next_ + n);
    return n;
  }

  std::size_t tx_burst(std::span<const std::span<const std::byte>> in) noexcept {
    std::size_t done = 0;
    while (done < in.size()) {
      const std::span<const std::span<const std::byte>> chunk =
          in.subspan(done, std::min(in.size() - done, max_burst));
      const std::size_t taken = tx_chunk(chunk);
      done += taken;
      if (taken < chunk.size()) break;
    }
    return done;
  }

  std::uint16_t port_id() const noexcept { return port_id_; }
  std::uint16_t queue_id() const noexcept { return queue_id_; }
  std::size_t max_frame() const noexcept { return max_frame_; }
  const queue_counters& counters() const noexcept { return counters_; }

 private:
  bool carriable(std::span<const std::byte> frame) const noexcept {
    return !frame.empty() && frame.size() <= max_frame_;
  }

  // Sends up to max_burst frames; returns how many of them are done with
  // (accepted by the driver, or dropped as invalid).
  std::size_t tx_chunk(std::span<const std::span<const std::byte>> chunk) noexcept {
    std::array<rte_mbuf*, max_burst> mbufs;
    // Fewer mbufs than frames when the pool runs low: send what fits now.
    auto allocated = static_cast<unsigned>(chunk.size());
    while (allocated > 0 && ::rte_pktmbuf_alloc_bulk(tx_pool_, mbufs.data(), allocated) != 0)
      allocated /= 2;
    if (allocated < chunk.size()) ++counters_.tx_no_mbuf;
    if (allocated == 0) return 0;

    // source[k]: the index in `chunk` of the frame copied into mbufs[k].
    std::array<std::uint8_t, max_burst> source;
    unsigned built = 0;
    std::size_t scanned = 0;
    std::size_t invalid = 0;
    for (; scanned < chunk.size() && built < allocated; ++scanned) {
      const std::span<const std::byte> frame = chunk[scanned];
      if (!carriable(frame)) {
        ++invalid;
        continue;
      }
      rte_mbuf* m = mbufs[built];
      std::memcpy(rte_pktmbuf_mtod(m, void*), frame.data(), frame.size());
      m->data_len = static_cast<std::uint16_t>(frame.size());
      m->pkt_len = static_cast<std::uint32_t>(frame.size());
      source[built++] = static_cast<std::uint8_t>(scanned);
    }
    // Invalid frames at the end of the scan are done too: nothing follows them.
    for (; scanned < chunk.size() && !carriable(chunk[scanned]); ++scanned)
      ++invalid;

    const std::uint16_t sent = built == 0 ? 0
                                          : ::rte_eth_tx_burst(port_id_, queue_id_, mbufs.data(),
                                                               static_cast<std::uint16_t>(built));
    ::rte_pktmbuf_free_bulk(mbufs.data() + sent, allocated - sent);
    if (sent == built) {
      counters_.tx_dropped_invalid += invalid;
      return scanned;
    }
    // The driver stopped at frame source[sent]; only invalid frames before it
    // are done with, the rest stay the caller's with the unsent valid ones.
    const std::size_t taken = source[sent];
    for (std::size_t i = 0; i < taken; ++i) {
      if (!carriable(chunk[i])) ++counters_.tx_dropped_invalid;
    }
    return taken;
  }

  void release_lent() noexcept {
    if (next_ > lent_begin_)
      ::rte_pktmbuf_free_bulk(held_.data() + lent_begin_, next_ - lent_begin_);
    lent_begin_ = next_;
  }

  // Receives a full burst into held_, dropping chained mbufs.
  void refill() noexcept {
    const std::uint16_t received = ::rte_eth_rx_burst(port_id_, queue_id_, held_.data(),
                                                      static_cast<std::uint16_t>(max_burst));
    std::uint16_t kept = 0;
    for (std::uint16_t i = 0; i < received; ++i) {
      if (held_[i]->nb_segs != 1) {
        ::rte_pktmbuf_free(held_[i]);
        ++counters_.rx_dropped_segmented;
        continue;
      }
      held_[kept++] = held_[i];
    }
    held_count_ = kept;
    lent_begin_ = next_ = 0;
  }

  // Everything the queue holds: lent and waiting frames.
  void release_held() noexcept {
    if (held_count_ > lent_begin_)
      ::rte_pktmbuf_free_bulk(held_.data() + lent_begin_, held_count_ - lent_begin_);
    held_count_ = lent_begin_ = next_ = 0;
  }

  std::uint16_t port_id_;
  std::uint16_t queue_id_;
  rte_mempool* tx_pool_;
  std::size_t max_frame_;
  queue_counters counters_;
  std::array<rte_mbuf*, max_burst> held_{};
  std::uint16_t held_count_ = 0;
  std::uint16_t lent_begin_ = 0;
  std::uint16_t next_ = 0;
};

static_assert(packet_port<port_queue>);

}  // namespace innet::dpdk
