// core/hash.hpp: one name, two implementations (freestanding constexpr, libxxhash).
#include "innet/core/hash.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "innet/core/random.hpp"

namespace {
constexpr std::array<std::byte, 13> flow_key{
    std::byte{10},   std::byte{0},    std::byte{0}, std::byte{1},    std::byte{10},
    std::byte{0},    std::byte{0},    std::byte{2}, std::byte{0x12}, std::byte{0xB7},
    std::byte{0x13}, std::byte{0x88}, std::byte{17}};

// Evaluated by the compiler through the freestanding implementation.
constexpr std::uint64_t compile_time_64 = innet::xxh3_64(flow_key, 42);
constexpr innet::hash128 compile_time_128 = innet::xxh3_128(flow_key, 42);
}  // namespace

TEST_CASE("compile-time hashes equal libxxhash at run time") {
  CHECK(compile_time_64 == XXH3_64bits_withSeed(flow_key.data(), flow_key.size(), 42));
  const XXH128_hash_t h = XXH3_128bits_withSeed(flow_key.data(), flow_key.size(), 42);
  CHECK(compile_time_128.low == h.low64);
  CHECK(compile_time_128.high == h.high64);
}

TEST_CASE("span overloads agree with the freestanding implementation at run time") {
  innet::xoshiro256ss rng(7);
  std::vector<std::byte> data(1024);
  for (auto& b : data)
    b = static_cast<std::byte>(rng());
  // One length from each branch of XXH3: 0, 1-3, 4-8, 9-16, 17-128, 129-240, long.
  for (std::size_t len : {0, 2, 7, 13, 100, 200, 1000}) {
    const auto key = std::span<const std::byte>(data).first(len);
    const std::uint64_t seed = rng();
    const auto* raw = reinterpret_cast<const innet::u8*>(key.data());
    CHECK(innet::xxh3_64(key, seed) == innet::xxh3_64(raw, key.size(), seed));
    CHECK(innet::xxh3_128(key, seed) == innet::xxh3_128(raw, key.size(), seed));
  }
}

TEST_CASE("object_bytes hashes a padding-free value by its representation") {
  const std::uint64_t key = 0x0102030405060708ull;
  CHECK(innet::object_bytes(key).size() == 8);
  CHECK(innet::xxh3_64(innet::object_bytes(key)) == XXH3_64bits(&key, sizeof key));
}

TEST_CASE("make_hash_family derives its rows from the 128-bit hash of the key") {
  const auto family = innet::make_hash_family(flow_key, 42);
  const innet::hash_family expected(compile_time_128);
  for (std::uint32_t i = 0; i < 8; ++i)
    CHECK(family.index(i, 4096) == expected.index(i, 4096));
}
