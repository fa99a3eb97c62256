// Big-endian (network byte order) field access over byte spans.
//
// Every wire format in innet is read and written through these helpers, so the
// same code is constexpr (formats are checked with static_assert), bounds-checked
// at API edges, and compiles to a single load plus bswap on the hot path: the
// byte-by-byte compositions below are the idiom GCC and Clang fold into one move.
//
//   load_be<T>(p)            unchecked; p must have sizeof(T) readable bytes
//   load_be_bytes<N>(p)      unchecked N-byte (1..8) field, e.g. 24-bit PSN, 48-bit MAC
//   read_be<T>(bytes, off)   checked; errc::truncated instead of reading past the end
//   write_be(bytes, off, v)  checked store
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/result.hpp"

namespace innet {

template <std::size_t Bytes>
requires(Bytes >= 1 && Bytes <= 8) constexpr std::uint64_t
    load_be_bytes(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < Bytes; ++i)
    v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

template <std::size_t Bytes>
requires(Bytes >= 1 && Bytes <= 8) constexpr void store_be_bytes(std::byte* p,
                                                                 std::uint64_t v) noexcept {
  for (std::size_t i = Bytes; i-- > 0;) {
    p[i] = static_cast<std::byte>(v & 0xFF);
    v >>= 8;
  }
}

template <std::unsigned_integral T>
constexpr T load_be(const std::byte* p) noexcept {
  return static_cast<T>(load_be_bytes<sizeof(T)>(p));
}

template <std::unsigned_integral T>
constexpr void store_be(std::byte* p, T v) noexcept {
  store_be_bytes<sizeof(T)>(p, v);
}

template <std::unsigned_integral T>
constexpr result<T> read_be(std::span<const std::byte> bytes, std::size_t offset) noexcept {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return errc::truncated;
  return load_be<T>(bytes.data() + offset);
}

template <std::unsigned_integral T>
[[nodiscard]] constexpr errc write_be(std::span<std::byte> bytes, std::size_t offset,
                                      T value) noexcept {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return errc::truncated;
  store_be(bytes.data() + offset, value);
  return errc::ok;
}

}  // namespace innet
