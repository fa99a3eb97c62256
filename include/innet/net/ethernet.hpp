// Ethernet II header (no 802.1Q tag). Byte order: network (big-endian).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  destination MAC (6 bytes)                    |
//   +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                               |                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//   |                    source MAC (6 bytes)                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           ethertype           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstddef>
#include <cstdint>

#include "innet/core/header_view.hpp"

namespace innet::net {

struct ethernet_format {
  static constexpr std::size_t size = 14;
  using destination = be_field<0, 6>;  // MAC as a 48-bit integer, first octet most significant
  using source = be_field<6, 6>;
  using ethertype = be_field<12, 2>;
};

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;

using ethernet_view = header_view<ethernet_format>;
using ethernet_writer = header_writer<ethernet_format>;

}  // namespace innet::net
