#include "innet/net/checksum.hpp"

#include <doctest/doctest.h>

#include <array>

#include "innet/net/ipv4.hpp"

namespace {
template <class... T>
constexpr std::array<std::byte, sizeof...(T)> bytes_of(T... v) {
  return {static_cast<std::byte>(v)...};
}
}  // namespace

TEST_CASE("RFC 1071 section 3 example: the one's-complement sum of 0001 f203 f4f5 f6f7 is ddf2") {
  constexpr auto data = bytes_of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  static_assert(innet::net::internet_checksum{}.add(data).finish() ==
                static_cast<std::uint16_t>(~0xddf2));
  // Odd-length input is padded with a zero byte.
  constexpr auto odd = bytes_of(0x00, 0x01, 0xf2);
  CHECK(innet::net::internet_checksum{}.add(odd).finish() ==
        static_cast<std::uint16_t>(~(0x0001 + 0xf200)));
}

TEST_CASE(
    "a published IPv4 header: checksum b861 over 4500 0073 0000 4000 4011 .... c0a8 0001 c0a8 "
    "00c7") {
  // The example header from the Wikipedia article "Internet checksum".
  auto header = bytes_of(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
                         0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);
  CHECK(innet::net::ipv4_header_checksum(header) == 0);  // a valid header checks to zero
  header[10] = header[11] = std::byte{0};
  CHECK(innet::net::ipv4_header_checksum(header) == 0xb861);
}
