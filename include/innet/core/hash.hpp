// Hashing for host code: XXH3 64/128 with seeds, one name for compile time and run time.
//
// At run time these call libxxhash (inlined via XXH_INLINE_ALL, so short keys cost
// a few cycles and long inputs use its SIMD kernels). During constant evaluation
// they fall back to innet's freestanding XXH3 (core/xxh3.hpp), which is the code
// BPF programs and CUDA kernels run. The two are bit-identical (tested against
// each other for every length branch), so an index computed at compile time, on
// the host, in the kernel and on a GPU is the same index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#include "innet/core/hash_family.hpp"
#include "innet/core/xxh3.hpp"

namespace innet {

namespace detail {
// Constant evaluation cannot reinterpret std::byte as u8, so it hashes a copy; the
// transient allocation exists only inside the compiler.
template <class Hash>
constexpr auto hash_constant_bytes(std::span<const std::byte> bytes, Hash hash) noexcept {
  u8* copy = new u8[bytes.size() + 1];
  for (std::size_t i = 0; i < bytes.size(); ++i)
    copy[i] = static_cast<u8>(bytes[i]);
  const auto h = hash(copy, bytes.size());
  delete[] copy;
  return h;
}
}  // namespace detail

constexpr std::uint64_t xxh3_64(std::span<const std::byte> bytes, std::uint64_t seed = 0) noexcept {
  if (std::is_constant_evaluated()) {
    return detail::hash_constant_bytes(
        bytes, [seed](const u8* p, usize n) { return xxh3_64(p, n, seed); });
  }
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

constexpr hash128 xxh3_128(std::span<const std::byte> bytes, std::uint64_t seed = 0) noexcept {
  if (std::is_constant_evaluated()) {
    return detail::hash_constant_bytes(
        bytes, [seed](const u8* p, usize n) { return xxh3_128(p, n, seed); });
  }
  const XXH128_hash_t h = XXH3_128bits_withSeed(bytes.data(), bytes.size(), seed);
  return {h.low64, h.high64};
}

// The k-hash family of `key` under `seed` (see core/hash_family.hpp).
constexpr hash_family make_hash_family(std::span<const std::byte> key,
                                       std::uint64_t seed = 0) noexcept {
  return hash_family(xxh3_128(key, seed));
}

// The bytes of a value whose representation is its identity (no padding, no
// pointers): integers, arrays of them, packed keys. Types with padding (such as
// five_tuple) provide their own byte encoding instead.
template <class T>
requires std::has_unique_object_representations_v<T> std::span<const std::byte> object_bytes(
    const T& value)
noexcept {
  return std::as_bytes(std::span<const T, 1>(&value, 1));
}

}  // namespace innet
