// The region descriptor: what a region server tells a client about the memory it
// exposes, carried in the private data of the RDMA-CM accept (REP) message, so the
// connection and the exchange are one round trip with no second channel.
//
// Layout, 32 bytes, every field big-endian (network byte order):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                  magic 0x494E5247 ("INRG")                    |  0
//   +-------------------------------+-------------------------------+
//   |          version (1)          |       reserved (zero)         |  4
//   +-------------------------------+-------------------------------+
//   |                                                               |  8
//   +        base: the region's virtual address at the server       +
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                                                               | 16
//   +                     size: bytes addressable                   +
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                  rkey of the region's registration            | 24
//   +---------------------------------------------------------------+
//   |                         reserved (zero)                       | 28
//   +---------------------------------------------------------------+ 32
//
// Receivers accept longer buffers (the IB CM pads private data to the message's
// fixed size) and ignore the reserved fields, so a later version may use them
// without breaking version-1 readers; a different version is errc::unsupported.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/result.hpp"
#include "innet/core/wire.hpp"

namespace innet::rdma {

struct region_descriptor {
  static constexpr std::uint32_t magic = 0x494E5247;  // "INRG"
  static constexpr std::uint16_t version = 1;
  static constexpr std::size_t wire_size = 32;

  std::uint64_t base = 0;
  std::uint64_t size = 0;
  std::uint32_t rkey = 0;

  friend constexpr bool operator==(const region_descriptor&,
                                   const region_descriptor&) noexcept = default;
};

constexpr std::array<std::byte, region_descriptor::wire_size> encode(
    const region_descriptor& d) noexcept {
  std::array<std::byte, region_descriptor::wire_size> out{};
  store_be<std::uint32_t>(out.data() + 0, region_descriptor::magic);
  store_be<std::uint16_t>(out.data() + 4, region_descriptor::version);
  store_be<std::uint64_t>(out.data() + 8, d.base);
  store_be<std::uint64_t>(out.data() + 16, d.size);
  store_be<std::uint32_t>(out.data() + 24, d.rkey);
  return out;
}

constexpr result<region_descriptor> decode_region_descriptor(
    std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < region_descriptor::wire_size) return errc::truncated;
  if (load_be<std::uint32_t>(bytes.data()) != region_descriptor::magic) return errc::malformed;
  if (load_be<std::uint16_t>(bytes.data() + 4) != region_descriptor::version)
    return errc::unsupported;
  region_descriptor d;
  d.base = load_be<std::uint64_t>(bytes.data() + 8);
  d.size = load_be<std::uint64_t>(bytes.data() + 16);
  d.rkey = load_be<std::uint32_t>(bytes.data() + 24);
  // A region that wraps the address space cannot be addressed with base + offset.
  if (d.size > ~std::uint64_t{0} - d.base) return errc::malformed;
  return d;
}

}  // namespace innet::rdma
