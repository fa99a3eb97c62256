// The Internet checksum (RFC 1071): 16-bit one's-complement sum of big-endian words.
//
// Kept as a running sum so that the UDP checksum can cover the IPv4 pseudo-header
// and the datagram without copying them into one buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace innet::net {

class internet_checksum {
 public:
  // Adds `bytes` as if they followed everything added so far at an even offset.
  // Callers add odd-length spans only last (RFC 1071 pads the final byte with zero).
  constexpr internet_checksum& add(std::span<const std::byte> bytes) noexcept {
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
      sum_ += (std::to_integer<std::uint32_t>(bytes[i]) << 8) |
              std::to_integer<std::uint32_t>(bytes[i + 1]);
    }
    if (i < bytes.size()) sum_ += std::to_integer<std::uint32_t>(bytes[i]) << 8;
    return *this;
  }
  constexpr internet_checksum& add_word(std::uint16_t word) noexcept {
    sum_ += word;
    return *this;
  }
  constexpr internet_checksum& add_u32(std::uint32_t v) noexcept {
    return add_word(static_cast<std::uint16_t>(v >> 16)).add_word(static_cast<std::uint16_t>(v));
  }

  // The checksum field value: the complement of the folded sum.
  constexpr std::uint16_t finish() const noexcept {
    std::uint64_t s = sum_;
    while (s >> 16)
      s = (s & 0xFFFF) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xFFFF);
  }

 private:
  std::uint64_t sum_ = 0;
};

}  // namespace innet::net
