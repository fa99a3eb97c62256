// The serialized sketch format (sketch/sketch_format.hpp): a hand-assembled byte string, exact
// round trips, and rejection of every truncation, every single-byte corruption and each kind of
// malformed preamble with its own message.
#include "innet/sketch/sketch_format.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <xxhash.h>

#include "innet/core/hash.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"

namespace {
using innet::u32;
using innet::u64;
using innet::u8;
namespace sk = innet::sketch;

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

sk::count_min<u32> filled_count_min(u32 depth, u32 width, u64 seed,
                                    sk::update_rule rule = sk::update_rule::standard) {
  auto s = sk::count_min<u32>::create(depth, width, seed, rule).value();
  for (u64 k = 0; k < 500; ++k)
    s.update(innet::object_bytes(k), static_cast<u32>(k % 5 + 1));
  return s;
}

sk::count_sketch<std::int32_t> filled_count_sketch(u32 depth, u32 width, u64 seed) {
  auto s = sk::count_sketch<std::int32_t>::create(depth, width, seed).value();
  for (u64 k = 0; k < 500; ++k)
    s.update(innet::object_bytes(k), static_cast<std::int32_t>(k % 7) - 3);
  return s;
}

template <class Sketch>
std::string error_of(const std::vector<std::byte>& bytes) {
  const auto r = Sketch::deserialize(bytes);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}
}  // namespace

static_assert(sk::counter_code<std::uint8_t>() == 0x00);
static_assert(sk::counter_code<std::uint16_t>() == 0x01);
static_assert(sk::counter_code<std::uint32_t>() == 0x02);
static_assert(sk::counter_code<std::uint64_t>() == 0x03);
static_assert(sk::counter_code<std::int8_t>() == 0x10);
static_assert(sk::counter_code<std::int32_t>() == 0x12);
static_assert(sk::counter_code<std::int64_t>() == 0x13);

namespace {
constexpr bool preamble_round_trips() {
  std::array<std::byte, 32> buffer{};
  const sk::preamble p{.version = 1,
                       .family = sk::sketch_family::univmon,
                       .counter_code = 0x12,
                       .flags = 0,
                       .depth = 5,
                       .width = 2048,
                       .seed = 0xFEEDFACECAFEBEEFULL,
                       .total_weight = 12345};
  if (sk::write_preamble(buffer, p) != innet::errc::ok) return false;
  const auto back = sk::read_preamble(buffer);
  return back.ok() && *back == p && buffer[0] == std::byte{'I'} && buffer[3] == std::byte{'K'};
}
static_assert(preamble_round_trips());
}  // namespace

TEST_CASE("a serialized count_min is the documented byte string") {
  const std::array<std::uint16_t, 2> counters{0xABCD, 0x0102};
  const auto sketch =
      sk::count_min<std::uint16_t>::from_counters(1, 2, 0x0102030405060708ULL, counters, 0x1122,
                                                  sk::update_rule::conservative)
          .value();
  auto expected = bytes_of({0x49, 0x4E, 0x53, 0x4B,                    // "INSK"
                            0x01,                                      // version
                            0x01,                                      // family: count_min
                            0x01,                                      // counter: 2-byte unsigned
                            0x01,                                      // flags: conservative
                            0,    0,    0,    1,                       // depth
                            0,    0,    0,    2,                       // width
                            1,    2,    3,    4,    5, 6, 7,    8,     // seed
                            0,    0,    0,    0,    0, 0, 0x11, 0x22,  // total weight
                            0xAB, 0xCD, 0x01, 0x02});                  // counters, big-endian
  // The checksum by libxxhash directly: XXH3_64 (seed 0) of the 36 bytes above, big-endian.
  const u64 checksum = XXH3_64bits(expected.data(), expected.size());
  for (int shift = 56; shift >= 0; shift -= 8)
    expected.push_back(static_cast<std::byte>((checksum >> shift) & 0xFF));
  CHECK(sketch.serialize() == expected);
  const auto back = sk::count_min<std::uint16_t>::deserialize(expected);
  REQUIRE(back.ok());
  CHECK(*back == sketch);
  CHECK(back->rule() == sk::update_rule::conservative);
}

TEST_CASE("serialize and deserialize round-trip exactly") {
  for (const auto rule : {sk::update_rule::standard, sk::update_rule::conservative}) {
    const auto cm = filled_count_min(4, 1000, 5, rule);
    const auto bytes = cm.serialize();
    CHECK(bytes.size() == 40 + 4 * 1000 * 4);
    const auto back = sk::count_min<u32>::deserialize(bytes);
    REQUIRE(back.ok());
    CHECK(*back == cm);
    CHECK(back->serialize() == bytes);
  }
  const auto cs = filled_count_sketch(5, 333, 6);
  const auto back = sk::count_sketch<std::int32_t>::deserialize(cs.serialize());
  REQUIRE(back.ok());
  CHECK(*back == cs);
  // Extreme counter values in every width.
  auto tiny = sk::count_sketch<std::int8_t>::create(1, 1, 0).value();
  tiny.update(innet::object_bytes(1), -128);
  CHECK(sk::count_sketch<std::int8_t>::deserialize(tiny.serialize()).value() == tiny);
  const std::array<u64, 2> big{~u64{0}, u64{1} << 63};
  const auto wide = sk::count_min<u64>::from_counters(2, 1, 3, big, ~u64{0}).value();
  CHECK(sk::count_min<u64>::deserialize(wide.serialize()).value() == wide);
}

TEST_CASE("deserialize rejects every truncation") {
  const auto cm_bytes = filled_count_min(3, 16, 1).serialize();
  for (std::size_t n = 0; n < cm_bytes.size(); ++n) {
    CAPTURE(n);
    const auto r = sk::count_min<u32>::deserialize(std::span(cm_bytes).first(n));
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
  const auto cs_bytes = filled_count_sketch(3, 16, 1).serialize();
  for (std::size_t n = 0; n < cs_bytes.size(); ++n) {
    CAPTURE(n);
    CHECK(!sk::count_sketch<std::int32_t>::deserialize(std::span(cs_bytes).first(n)).ok());
  }
}

TEST_CASE("deserialize rejects every single-byte corruption") {
  const auto original = filled_count_min(3, 16, 1, sk::update_rule::conservative).serialize();
  for (std::size_t i = 0; i < original.size(); ++i) {
    for (const int mask : {0x01, 0x80, 0xFF}) {
      CAPTURE(i);
      CAPTURE(mask);
      auto corrupt = original;
      corrupt[i] ^= static_cast<std::byte>(mask);
      CHECK(!sk::count_min<u32>::deserialize(corrupt).ok());
    }
  }
  const auto cs = filled_count_sketch(2, 8, 3).serialize();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    auto corrupt = cs;
    corrupt[i] ^= std::byte{0x10};
    CHECK(!sk::count_sketch<std::int32_t>::deserialize(corrupt).ok());
  }
}

TEST_CASE("each malformed preamble has its own message") {
  const auto good = filled_count_min(2, 4, 1).serialize();
  REQUIRE(sk::count_min<u32>::deserialize(good).ok());
  // Edit a byte and re-seal, so that the check under test, not the checksum, rejects it.
  auto edited = [&](std::size_t at, int value) {
    auto b = good;
    b[at] = static_cast<std::byte>(value);
    sk::seal(b);
    return b;
  };
  using cm = sk::count_min<u32>;
  std::set<std::string> messages;
  auto expect = [&](const std::string& message, const std::string& fragment) {
    CAPTURE(message);
    CHECK(message.find(fragment) != std::string::npos);
    messages.insert(message);
  };
  expect(error_of<cm>(std::vector<std::byte>(good.begin(), good.begin() + 39)), "truncated input");
  expect(error_of<cm>(edited(0, 'X')), "bad magic");
  expect(error_of<cm>(edited(4, 2)), "unsupported version 2");
  expect(error_of<sk::count_sketch<std::int32_t>>(good), "wrong sketch family 1 (count_min)");
  expect(error_of<sk::count_min<u64>>(good), "counter type code 0x2 does not match");
  expect(error_of<cm>(edited(7, 0x80)), "unknown flags 0x80");
  expect(error_of<cm>(edited(11, 0)), "zero dimension (depth 0, width 4)");
  expect(error_of<cm>(edited(11, 65)), "depth 65 exceeds the maximum 64");
  expect(error_of<cm>(edited(15, 3)), "payload is 32 bytes, the preamble's dimensions need 24");
  expect(error_of<cm>(edited(15, 5)), "need 40 (truncated)");
  auto longer = good;
  longer.push_back(std::byte{0});
  sk::seal(longer);
  expect(error_of<cm>(longer), "(trailing bytes)");
  auto flipped = good;
  flipped[33] ^= std::byte{1};  // a counter
  expect(error_of<cm>(flipped), "checksum mismatch");
  CHECK(messages.size() == 12);
  // Count Sketch has no flags.
  auto conservative_cs = filled_count_sketch(2, 4, 1).serialize();
  conservative_cs[7] = std::byte{1};
  sk::seal(conservative_cs);
  CHECK(error_of<sk::count_sketch<std::int32_t>>(conservative_cs).find("flags") !=
        std::string::npos);
}

TEST_CASE("read_preamble reports short input and a wrong magic as errc") {
  const auto good = filled_count_min(1, 1, 1).serialize();
  CHECK(sk::read_preamble(std::span(good).first(31)).error() == innet::errc::truncated);
  auto bad = good;
  bad[1] = std::byte{0};
  CHECK(sk::read_preamble(bad).error() == innet::errc::malformed);
  const auto p = sk::read_preamble(good);
  REQUIRE(p.ok());
  CHECK(p->family == sk::sketch_family::count_min);
  CHECK(p->depth == 1);
  CHECK(p->width == 1);
  CHECK(p->total_weight == filled_count_min(1, 1, 1).total_weight());
  CHECK(sk::payload_of(good).size() == 4);
}
