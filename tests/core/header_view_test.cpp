#include "innet/core/header_view.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <vector>

namespace {
// A made-up 6-byte header with a sub-byte field, to test the mechanism itself.
struct toy_format {
  static constexpr std::size_t size = 6;
  using kind = innet::be_field<0, 1, 4, 4>;
  using flags = innet::be_field<0, 1, 0, 4>;
  using length = innet::be_field<1, 2>;
  using tag = innet::be_field<3, 3>;
};
struct bad_field {  // lies past toy_format::size: get<bad_field>() must not compile
  static constexpr std::size_t offset = 5;
  static constexpr std::size_t size = 2;
};
static_assert(innet::field_of<toy_format::tag, toy_format>);
static_assert(!innet::field_of<bad_field, toy_format>);

using toy_view = innet::header_view<toy_format>;
using toy_writer = innet::header_writer<toy_format>;
}  // namespace

TEST_CASE("parse checks the length once; fields decode big-endian bit ranges") {
  const std::array<std::byte, 8> bytes{std::byte{0xA5}, std::byte{0x01}, std::byte{0x02},
                                       std::byte{0xAA}, std::byte{0xBB}, std::byte{0xCC},
                                       std::byte{0x11}, std::byte{0x22}};
  const auto v = toy_view::parse(bytes);
  REQUIRE(v.ok());
  CHECK(v->get<toy_format::kind>() == 0xA);
  CHECK(v->get<toy_format::flags>() == 0x5);
  CHECK(v->get<toy_format::length>() == 0x0102);
  CHECK(v->get<toy_format::tag>() == 0xAABBCC);
  CHECK(v->header().size() == 6);
  CHECK(v->rest().size() == 2);
  CHECK(v->rest()[0] == std::byte{0x11});

  for (std::size_t n = 0; n < toy_format::size; ++n) {
    CHECK(toy_view::parse(std::span(bytes).first(n)).error() == innet::errc::truncated);
  }
}

TEST_CASE("writers set bit fields without disturbing their neighbours") {
  std::vector<std::byte> buffer(6, std::byte{0xFF});
  auto w = toy_writer::over(buffer);
  REQUIRE(w.ok());
  w->set<toy_format::kind>(0x3);
  CHECK(buffer[0] == std::byte{0x3F});  // the low nibble (flags) kept its 0xF
  w->set<toy_format::flags>(0x1).set<toy_format::length>(0xBEEF).set<toy_format::tag>(0x123456);
  CHECK(buffer[0] == std::byte{0x31});
  CHECK(w->get<toy_format::length>() == 0xBEEF);
  // Values wider than the field are cut to the field, never spilling into the next.
  w->set<toy_format::kind>(0xFF);
  CHECK(w->get<toy_format::kind>() == 0xF);
  CHECK(w->get<toy_format::flags>() == 0x1);
  CHECK(toy_writer::over(std::span(buffer).first(5)).error() == innet::errc::truncated);
}

TEST_CASE("views work in constant evaluation") {
  constexpr std::array<std::byte, 6> bytes{std::byte{0x12}, std::byte{0}, std::byte{40},
                                           std::byte{0},    std::byte{0}, std::byte{1}};
  static_assert(toy_view::parse(bytes)->get<toy_format::length>() == 40);
  static_assert(!toy_view::parse(std::span(bytes).first(2)).ok());
}
