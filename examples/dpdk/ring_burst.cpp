// A first DPDK program with innet: boot the EAL without hugepages, join two
// net_ring ports back to back, send a burst of UDP frames from one to the other,
// and parse what arrives.
//
//   sudo build/default/examples/dpdk/dpdk_ring_burst
//
// Every step that can fail returns an absl::Status saying what to change; the
// packet path itself (tx_burst, rx_burst) returns counts, as DPDK's does.
#include <array>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "innet/dpdk/eal.hpp"
#include "innet/dpdk/mempool.hpp"
#include "innet/dpdk/ring_link.hpp"
#include "innet/net/udp_frame.hpp"

namespace {

constexpr std::size_t burst = 8;

std::string dotted(std::uint32_t ip) {
  return absl::StrCat(ip >> 24, ".", (ip >> 16) & 0xFF, ".", (ip >> 8) & 0xFF, ".", ip & 0xFF);
}

absl::Status run() {
  // Ports, pools and rings belong to the EAL: they live in this scope, which
  // ends before eal_cleanup().
  absl::StatusOr<innet::dpdk::mempool> pool = innet::dpdk::mempool::create({.mbufs = 1023});
  if (!pool.ok()) return pool.status();
  absl::StatusOr<innet::dpdk::ring_link> link = innet::dpdk::ring_link::create(*pool);
  if (!link.ok()) return link.status();
  std::printf("ports: %s (id %u) <-> %s (id %u), max frame %zu bytes\n", link->a().name().c_str(),
              link->a().id(), link->b().name().c_str(), link->b().id(), link->a().max_frame());

  absl::StatusOr<innet::dpdk::port_queue> a = link->a().queue();
  if (!a.ok()) return a.status();
  absl::StatusOr<innet::dpdk::port_queue> b = link->b().queue();
  if (!b.ok()) return b.status();

  // Build the burst with innet's UDP frame writer.
  const innet::net::udp_endpoints endpoints{.source_mac = 0x02'00'00'00'00'01,
                                            .destination_mac = 0x02'00'00'00'00'02,
                                            .source_ip = 0x0A'00'00'01,
                                            .destination_ip = 0x0A'00'00'02,
                                            .source_port = 4000,
                                            .destination_port = 5000};
  std::vector<std::array<std::byte, 128>> buffers(burst);
  std::vector<std::span<const std::byte>> frames;
  for (std::size_t i = 0; i < burst; ++i) {
    const std::string text = absl::StrCat("hello from frame ", i);
    const auto length = innet::net::write_udp_frame(
        buffers[i], endpoints, std::as_bytes(std::span(text)), static_cast<std::uint16_t>(i));
    if (!length.ok()) return absl::InternalError("a 128-byte buffer holds every frame here");
    frames.emplace_back(buffers[i].data(), *length);
  }

  const std::size_t sent = a->tx_burst(frames);
  std::printf("tx_burst on %s: %zu of %zu frames accepted\n", link->a().name().c_str(), sent,
              frames.size());

  // A ring delivers at once; a NIC would need polling until the frames arrive.
  std::array<innet::packet_view, burst> views;
  const std::size_t received = b->rx_burst(views);
  std::printf("rx_burst on %s: %zu frames\n", link->b().name().c_str(), received);
  for (std::size_t i = 0; i < received; ++i) {
    const auto frame = innet::net::parse_udp_frame(views[i].bytes);
    if (!frame.ok()) {
      std::printf("  frame %zu: %zu bytes, not UDP/IPv4: %s\n", i, views[i].bytes.size(),
                  innet::to_string(frame.error()));
      continue;
    }
    namespace f = innet::net;
    std::printf("  frame %zu: %zu bytes, %s:%u -> %s:%u, \"%.*s\"\n", i, views[i].bytes.size(),
                dotted(frame->ip.get<f::ipv4_format::source>()).c_str(),
                unsigned{frame->udp.get<f::udp_format::source_port>()},
                dotted(frame->ip.get<f::ipv4_format::destination>()).c_str(),
                unsigned{frame->udp.get<f::udp_format::destination_port>()},
                static_cast<int>(frame->payload.size()),
                reinterpret_cast<const char*>(frame->payload.data()));
  }

  const auto stats = link->b().stats();
  if (stats.ok()) {
    std::printf("port statistics of %s: %llu frames received\n", link->b().name().c_str(),
                static_cast<unsigned long long>(stats->rx_packets));
  }
  if (sent != burst || received != burst) {
    return absl::InternalError(absl::StrCat("sent ", sent, " and received ", received, " of ",
                                            burst, " frames over an idle ring"));
  }
  return absl::OkStatus();
}

}  // namespace

int main() {
  // Defaults: no hugepages, no PCI, 256 MB; one lcore is enough here.
  const innet::dpdk::eal_params params{.program_name = "dpdk_ring_burst", .lcores = "0"};
  if (const absl::Status s = innet::dpdk::eal_init(params); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const absl::Status status = run();
  if (const absl::Status s = innet::dpdk::eal_cleanup(); !s.ok())
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("done\n");
  return 0;
}
