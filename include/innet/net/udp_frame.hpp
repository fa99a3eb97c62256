// Parse and build Ethernet II / IPv4 / UDP frames, the carrier of every innet
// protocol that leaves a host (DTA reports, RoCEv2, SCR sequencer headers).
//
// parse_udp_frame() validates the whole stack before returning any payload:
// ethertype, IPv4 version, IHL and total length against the bytes present,
// fragmentation (a fragment has no UDP header to trust, so it is refused as
// unsupported), protocol, UDP length against the IPv4 payload, and both
// checksums. Ethernet padding after the IPv4 datagram is ignored. Every failure
// is an errc; nothing is read beyond the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/result.hpp"
#include "innet/net/ethernet.hpp"
#include "innet/net/ipv4.hpp"
#include "innet/net/udp.hpp"

namespace innet::net {

struct udp_frame {
  ethernet_view ethernet;
  ipv4_view ip;  // bytes() spans the IPv4 datagram only (total_length), not padding
  udp_view udp;  // bytes() spans the UDP datagram only (its length field)
  std::span<const std::byte> payload;
};

constexpr result<udp_frame> parse_udp_frame(std::span<const std::byte> frame) noexcept {
  udp_frame out;
  auto eth = ethernet_view::parse(frame);
  if (!eth) return eth.error();
  if (eth->get<ethernet_format::ethertype>() != ethertype_ipv4) return errc::unsupported;
  out.ethernet = *eth;

  auto ip_bytes = eth->rest();
  auto ip = ipv4_view::parse(ip_bytes);
  if (!ip) return ip.error();
  if (ip->get<ipv4_format::version>() != 4) return errc::malformed;
  const std::size_t header_length = std::size_t{ip->get<ipv4_format::ihl>()} * 4;
  const std::size_t total_length = ip->get<ipv4_format::total_length>();
  if (header_length < ipv4_format::size || total_length < header_length) return errc::malformed;
  if (total_length > ip_bytes.size()) return errc::truncated;
  if (ipv4_header_checksum(ip_bytes.first(header_length)) != 0) return errc::checksum_mismatch;
  if (ip->get<ipv4_format::more_fragments>() != 0 || ip->get<ipv4_format::fragment_offset>() != 0)
    return errc::unsupported;
  if (ip->get<ipv4_format::protocol>() != ip_protocol_udp) return errc::unsupported;
  out.ip = *ipv4_view::parse(ip_bytes.first(total_length));

  auto udp_bytes = ip_bytes.subspan(header_length, total_length - header_length);
  auto udp = udp_view::parse(udp_bytes);
  if (!udp) return udp.error();
  const std::size_t udp_length = udp->get<udp_format::length>();
  if (udp_length < udp_format::size) return errc::malformed;
  if (udp_length > udp_bytes.size()) return errc::truncated;
  udp_bytes = udp_bytes.first(udp_length);
  if (udp->get<udp_format::checksum>() != 0 &&
      udp_checksum_ipv4(ip->get<ipv4_format::source>(), ip->get<ipv4_format::destination>(),
                        udp_bytes) != 0xFFFF) {
    // A datagram that includes a correct checksum sums to 0xFFFF before the final
    // complement, which udp_checksum_ipv4 reports as 0xFFFF.
    return errc::checksum_mismatch;
  }
  out.udp = *udp_view::parse(udp_bytes);
  out.payload = udp_bytes.subspan(udp_format::size);
  return out;
}

// Addresses and ports of a frame to build; host byte order.
struct udp_endpoints {
  std::uint64_t source_mac = 0;
  std::uint64_t destination_mac = 0;
  std::uint32_t source_ip = 0;
  std::uint32_t destination_ip = 0;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
};

inline constexpr std::size_t udp_frame_overhead =
    ethernet_format::size + ipv4_format::size + udp_format::size;

// Writes a frame carrying `payload` into `out` (no IPv4 options, TTL 64, DF set,
// UDP checksum filled in) and returns its length. errc::truncated if `out` is too
// small, errc::out_of_range if the payload does not fit one IPv4 datagram.
constexpr result<std::size_t> write_udp_frame(std::span<std::byte> out, const udp_endpoints& ep,
                                              std::span<const std::byte> payload,
                                              std::uint16_t identification = 0) noexcept {
  if (payload.size() > 0xFFFF - ipv4_format::size - udp_format::size) return errc::out_of_range;
  const std::size_t length = udp_frame_overhead + payload.size();
  if (out.size() < length) return errc::truncated;
  out = out.first(length);

  auto eth = *ethernet_writer::over(out);
  eth.set<ethernet_format::destination>(ep.destination_mac)
      .set<ethernet_format::source>(ep.source_mac)
      .set<ethernet_format::ethertype>(ethertype_ipv4);

  auto ip = *ipv4_writer::over(eth.rest());
  for (auto& b : ip.header())
    b = std::byte{0};
  const auto ip_total =
      static_cast<std::uint16_t>(ipv4_format::size + udp_format::size + payload.size());
  ip.set<ipv4_format::version>(4)
      .set<ipv4_format::ihl>(5)
      .set<ipv4_format::total_length>(ip_total)
      .set<ipv4_format::identification>(identification)
      .set<ipv4_format::dont_fragment>(1)
      .set<ipv4_format::ttl>(64)
      .set<ipv4_format::protocol>(ip_protocol_udp)
      .set<ipv4_format::source>(ep.source_ip)
      .set<ipv4_format::destination>(ep.destination_ip);
  ip.set<ipv4_format::checksum>(ipv4_header_checksum(ip.header()));

  auto udp = *udp_writer::over(ip.rest());
  udp.set<udp_format::source_port>(ep.source_port)
      .set<udp_format::destination_port>(ep.destination_port)
      .set<udp_format::length>(static_cast<std::uint16_t>(udp_format::size + payload.size()))
      .set<udp_format::checksum>(0);
  auto data = udp.rest();
  for (std::size_t i = 0; i < payload.size(); ++i)
    data[i] = payload[i];
  udp.set<udp_format::checksum>(udp_checksum_ipv4(ep.source_ip, ep.destination_ip, udp.bytes()));
  return length;
}

}  // namespace innet::net
