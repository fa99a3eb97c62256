#include "innet/net/five_tuple.hpp"

#include <doctest/doctest.h>

#include <array>

TEST_CASE("to_bytes is the 13-byte network-order encoding") {
  // 10.0.0.1:1234 -> 192.168.1.2:80/TCP, encoded by hand.
  constexpr innet::net::five_tuple t{
      .src_ip = 0x0A000001, .dst_ip = 0xC0A80102, .src_port = 1234, .dst_port = 80, .protocol = 6};
  constexpr std::array<std::byte, 13> expected{
      std::byte{0x0a}, std::byte{0x00}, std::byte{0x00}, std::byte{0x01}, std::byte{0xc0},
      std::byte{0xa8}, std::byte{0x01}, std::byte{0x02}, std::byte{0x04}, std::byte{0xd2},
      std::byte{0x00}, std::byte{0x50}, std::byte{0x06}};
  static_assert(t.to_bytes() == expected);
}

TEST_CASE("tuples differing in any one field encode differently") {
  const innet::net::five_tuple base{
      .src_ip = 1, .dst_ip = 2, .src_port = 3, .dst_port = 4, .protocol = 17};
  auto a = base, b = base, c = base, d = base, e = base;
  a.src_ip ^= 0x80000000;
  b.dst_ip ^= 1;
  c.src_port ^= 0x100;
  d.dst_port ^= 1;
  e.protocol = 6;
  for (const auto& t : {a, b, c, d, e}) {
    CHECK(t != base);
    CHECK(t.to_bytes() != base.to_bytes());
  }
}
