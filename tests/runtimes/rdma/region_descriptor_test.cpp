#include "innet/rdma/region_descriptor.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

using innet::errc;
using innet::rdma::decode_region_descriptor;
using innet::rdma::region_descriptor;

namespace {

constexpr region_descriptor sample{.base = 0x00007F1234567000, .size = 65536, .rkey = 0xA1B2C3D4};

// The layout diagram in region_descriptor.hpp, written out byte by byte.
constexpr std::array<std::uint8_t, 32> sample_wire{
    'I',  'N',  'R',  'G',                           // magic
    0x00, 0x01, 0x00, 0x00,                          // version 1, reserved
    0x00, 0x00, 0x7F, 0x12, 0x34, 0x56, 0x70, 0x00,  // base
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // size
    0xA1, 0xB2, 0xC3, 0xD4,                          // rkey
    0x00, 0x00, 0x00, 0x00,                          // reserved
};

std::vector<std::byte> bytes(std::span<const std::uint8_t> in) {
  std::vector<std::byte> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i)
    out[i] = std::byte{in[i]};
  return out;
}

}  // namespace

static_assert(decode_region_descriptor(innet::rdma::encode(sample)).value() == sample);

TEST_CASE("the region descriptor encodes to the documented big-endian layout") {
  const auto wire = innet::rdma::encode(sample);
  CHECK(std::vector<std::byte>(wire.begin(), wire.end()) == bytes(sample_wire));
}

TEST_CASE("the region descriptor decodes the documented layout") {
  const auto r = decode_region_descriptor(bytes(sample_wire));
  REQUIRE(r.ok());
  CHECK(r->base == sample.base);
  CHECK(r->size == sample.size);
  CHECK(r->rkey == sample.rkey);
}

TEST_CASE("the region descriptor accepts zero padding and ignores reserved fields") {
  auto wire = bytes(sample_wire);
  wire[6] = std::byte{0xFF};
  wire[31] = std::byte{0x5A};
  wire.resize(196);  // the IB CM pads REP private data to its full size
  const auto r = decode_region_descriptor(wire);
  REQUIRE(r.ok());
  CHECK(*r == sample);
}

TEST_CASE("the region descriptor rejects what is not one") {
  const auto wire = bytes(sample_wire);
  for (std::size_t n = 0; n < wire.size(); ++n)
    CHECK(decode_region_descriptor(std::span(wire).first(n)).error() == errc::truncated);

  auto bad_magic = wire;
  bad_magic[0] = std::byte{'X'};
  CHECK(decode_region_descriptor(bad_magic).error() == errc::malformed);

  auto next_version = wire;
  next_version[5] = std::byte{2};
  CHECK(decode_region_descriptor(next_version).error() == errc::unsupported);

  // base + size past 2^64 cannot be addressed.
  auto wrapping = innet::rdma::encode({.base = ~std::uint64_t{0} - 10, .size = 11, .rkey = 1});
  CHECK(decode_region_descriptor(wrapping).error() == errc::malformed);
  auto at_the_top = innet::rdma::encode({.base = ~std::uint64_t{0} - 10, .size = 10, .rkey = 1});
  CHECK(decode_region_descriptor(at_the_top).ok());
}
