// The packet-port concept: burst receive and transmit of raw frames.
//
// Modelled by the host runtime's in-process and shared-memory rings and UDP
// sockets, DPDK ethdev queues and AF_XDP sockets. Bursts, as in DPDK, because
// per-packet calls cost more than the work most structures do per packet.
//
// Contract of every model:
//   rx_burst(out)  fills up to size(out) packet views and returns how many. The
//                  bytes are lent by the port and stay valid until the next
//                  rx_burst on the same port; a consumer that keeps a packet
//                  copies it. Never blocks: 0 means nothing is ready.
//   tx_burst(in)   sends a prefix of `in` and returns its length; the port copies
//                  (or has finished with) those bytes before returning, so the
//                  caller may reuse its buffers at once. Packets not accepted
//                  (a full queue) are the caller's to retry or drop. A frame
//                  the port can never carry (longer than its max_frame(), or
//                  empty on an Ethernet port) is dropped, counted in the port's statistics
//                  and reported as sent, so a caller retrying its unsent tail
//                  always makes progress (NICs count such frames in oerrors).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace innet {

struct packet_view {
  std::span<const std::byte> bytes{};
  std::uint64_t timestamp_ns = 0;  // receive time where the port knows it, else 0
};

template <class P>
concept packet_port = requires(P& p, std::span<packet_view> out,
                               std::span<const std::span<const std::byte>> in) {
  { p.rx_burst(out) } -> std::same_as<std::size_t>;
  { p.tx_burst(in) } -> std::same_as<std::size_t>;
};

}  // namespace innet
