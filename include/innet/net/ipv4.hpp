// IPv4 header (RFC 791). Byte order: network (big-endian).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version|  IHL  |    DSCP   |ECN|          Total Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Identification        |Flags|     Fragment Offset     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                       Source Address                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Destination Address                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Options (IHL > 5)                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/header_view.hpp"
#include "innet/net/checksum.hpp"

namespace innet::net {

struct ipv4_format {
  static constexpr std::size_t size = 20;  // without options
  using version = be_field<0, 1, 4, 4>;
  using ihl = be_field<0, 1, 0, 4>;  // header length in 32-bit words
  using dscp = be_field<1, 1, 2, 6>;
  using ecn = be_field<1, 1, 0, 2>;
  using total_length = be_field<2, 2>;
  using identification = be_field<4, 2>;
  using dont_fragment = be_field<6, 2, 14, 1>;
  using more_fragments = be_field<6, 2, 13, 1>;
  using fragment_offset = be_field<6, 2, 0, 13>;
  using ttl = be_field<8, 1>;
  using protocol = be_field<9, 1>;
  using checksum = be_field<10, 2>;
  using source = be_field<12, 4>;
  using destination = be_field<16, 4>;
};

inline constexpr std::uint8_t ip_protocol_tcp = 6;
inline constexpr std::uint8_t ip_protocol_udp = 17;

using ipv4_view = header_view<ipv4_format>;
using ipv4_writer = header_writer<ipv4_format>;

// The header checksum over `header` (its checksum field included). Writing the
// result into a zeroed field makes the header valid; a valid header checks to 0.
constexpr std::uint16_t ipv4_header_checksum(std::span<const std::byte> header) noexcept {
  return internet_checksum{}.add(header).finish();
}

}  // namespace innet::net
