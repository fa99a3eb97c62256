#include "innet/core/wire.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace {
constexpr std::array<std::byte, 9> bytes{std::byte{0x01}, std::byte{0x23}, std::byte{0x45},
                                         std::byte{0x67}, std::byte{0x89}, std::byte{0xAB},
                                         std::byte{0xCD}, std::byte{0xEF}, std::byte{0xFF}};
}

TEST_CASE("big-endian loads read the most significant byte first") {
  static_assert(innet::load_be<std::uint16_t>(bytes.data()) == 0x0123);
  static_assert(innet::load_be<std::uint32_t>(bytes.data()) == 0x01234567);
  static_assert(innet::load_be<std::uint64_t>(bytes.data()) == 0x0123456789ABCDEFull);
  static_assert(innet::load_be_bytes<3>(bytes.data() + 1) == 0x234567);  // a 24-bit PSN
  static_assert(innet::load_be_bytes<6>(bytes.data()) == 0x0123456789ABull);
  // The same at run time, where the compiler turns it into a load and a bswap.
  const std::byte* p = bytes.data();
  CHECK(innet::load_be<std::uint32_t>(p + 1) == 0x23456789u);
}

TEST_CASE("stores write network byte order and round-trip") {
  std::array<std::byte, 8> out{};
  innet::store_be<std::uint32_t>(out.data(), 0xDEADBEEF);
  CHECK(out[0] == std::byte{0xDE});
  CHECK(out[3] == std::byte{0xEF});
  innet::store_be_bytes<3>(out.data() + 4, 0xABCDEF12);  // only the low 24 bits are stored
  CHECK(innet::load_be_bytes<3>(out.data() + 4) == 0xCDEF12);
  CHECK(innet::load_be<std::uint32_t>(out.data()) == 0xDEADBEEF);
}

TEST_CASE("checked reads and writes refuse to cross the end") {
  for (std::size_t offset = 0; offset <= bytes.size() + 2; ++offset) {
    const auto r = innet::read_be<std::uint32_t>(bytes, offset);
    if (offset + 4 <= bytes.size()) {
      REQUIRE(r.ok());
      CHECK(*r == innet::load_be<std::uint32_t>(bytes.data() + offset));
    } else {
      CHECK(r.error() == innet::errc::truncated);
    }
  }
  std::array<std::byte, 4> small{};
  CHECK(innet::write_be<std::uint32_t>(small, 0, 1) == innet::errc::ok);
  CHECK(innet::write_be<std::uint32_t>(small, 1, 1) == innet::errc::truncated);
  CHECK(innet::write_be<std::uint16_t>(small, SIZE_MAX, 1) == innet::errc::truncated);
  CHECK(innet::read_be<std::uint16_t>({}, 0).error() == innet::errc::truncated);
}
