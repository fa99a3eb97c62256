// The IPv4 transport five-tuple that identifies a flow.
//
// Fields are kept in host byte order so that code can compare, sort and print them directly;
// byte order only matters at the boundary with packets, hash functions and sketches, which want a
// canonical byte string. `to_bytes()` gives that string in network byte order (big-endian), so
// the bytes hashed for a flow are the same on every host and match the order in which the fields
// appear on the wire.
//
// to_bytes() layout, 13 bytes, every multi-byte field big-endian (most significant byte first):
//
//    byte:  0       1       2       3       4       5       6       7
//        +-------+-------+-------+-------+-------+-------+-------+-------+
//        |        src_ip (32 bits)       |        dst_ip (32 bits)       |
//        +-------+-------+-------+-------+-------+-------+-------+-------+
//    byte:  8       9      10      11      12
//        +-------+-------+-------+-------+-------+
//        | src_port (16) | dst_port (16) | proto |
//        +-------+-------+-------+-------+-------+
//
// e.g. 10.0.0.1:1234 -> 192.168.1.2:80/TCP is 0a 00 00 01 c0 a8 01 02 04 d2 00 50 06.
// There is no padding, so equal tuples always give equal bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "innet/core/wire.hpp"

namespace innet::net {

struct five_tuple {
  std::uint32_t src_ip = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t protocol = 0;  // IANA protocol number, e.g. 6 = TCP, 17 = UDP

  friend constexpr bool operator==(const five_tuple&, const five_tuple&) = default;

  constexpr std::array<std::byte, 13> to_bytes() const noexcept {
    std::array<std::byte, 13> bytes{};
    store_be<std::uint32_t>(bytes.data() + 0, src_ip);
    store_be<std::uint32_t>(bytes.data() + 4, dst_ip);
    store_be<std::uint16_t>(bytes.data() + 8, src_port);
    store_be<std::uint16_t>(bytes.data() + 10, dst_port);
    bytes[12] = static_cast<std::byte>(protocol);
    return bytes;
  }
};

}  // namespace innet::net
