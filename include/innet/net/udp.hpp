// UDP header (RFC 768). Byte order: network (big-endian).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            Length             |           Checksum            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/header_view.hpp"
#include "innet/net/checksum.hpp"

namespace innet::net {

struct udp_format {
  static constexpr std::size_t size = 8;
  using source_port = be_field<0, 2>;
  using destination_port = be_field<2, 2>;
  using length = be_field<4, 2>;  // header + payload, in bytes
  using checksum = be_field<6, 2>;
};

using udp_view = header_view<udp_format>;
using udp_writer = header_writer<udp_format>;

// The UDP checksum over the IPv4 pseudo-header and `datagram` (header with its
// checksum field, plus payload). A computed 0 is sent as 0xFFFF (RFC 768), since
// 0 on the wire means "no checksum".
constexpr std::uint16_t udp_checksum_ipv4(std::uint32_t source, std::uint32_t destination,
                                          std::span<const std::byte> datagram) noexcept {
  const auto sum = internet_checksum{}
                       .add_u32(source)
                       .add_u32(destination)
                       .add_word(17)
                       .add_word(static_cast<std::uint16_t>(datagram.size()))
                       .add(datagram)
                       .finish();
  return sum == 0 ? 0xFFFF : sum;
}

}  // namespace innet::net
