// DTA reports: hand-computed encodings of every primitive, round trips inside a UDP frame,
// every truncation, and garbage (unknown opcodes, reserved bits, bounds, trailing bytes).
#include "innet/telemetry/wire/dta.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "innet/core/random.hpp"
#include "innet/net/udp_frame.hpp"

using namespace innet::telemetry::wire;
using innet::errc;

namespace {

std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::vector<std::byte> encode(const dta_report& r) {
  std::vector<std::byte> out(dta_report_size(r));
  const auto n = write_dta_report(out, r);
  REQUIRE(n.ok());
  CHECK(*n == out.size());
  return out;
}

void check_same(const dta_report& a, const dta_report& b) {
  CHECK(a.opcode == b.opcode);
  CHECK(a.seqnum == b.seqnum);
  CHECK(a.immediate == b.immediate);
  CHECK(a.retransmit == b.retransmit);
  CHECK(a.redundancy == b.redundancy);
  CHECK(a.key == b.key);
  CHECK(a.list_id == b.list_id);
  CHECK(a.hop_index == b.hop_index);
  CHECK(a.hop_count == b.hop_count);
  CHECK(a.sketch_id == b.sketch_id);
  CHECK(a.column == b.column);
  CHECK(a.row == b.row);
  CHECK(a.counter_width == b.counter_width);
  CHECK(std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end()));
}

// One hand-encoded report per primitive, with the report it must decode to.
struct vector_case {
  std::string_view hex;
  dta_report report;
};

const std::vector<std::byte> value4 = from_hex("deadbeef");
const std::vector<std::byte> addend = from_hex("0000000000000007");
const std::vector<std::byte> entry = from_hex("0102030405");
const std::vector<std::byte> hop_value = from_hex("cafe");
const std::vector<std::byte> counters = from_hex("000000010000000200000003");

std::vector<vector_case> vectors() {
  return {
      // opcode 01, seq 2a, I set, N 3, length 4, key, value
      {"012a8003"
       "00040000"
       "0102030405060708"
       "deadbeef",
       {.opcode = dta_opcode::key_write,
        .seqnum = 0x2A,
        .immediate = true,
        .redundancy = 3,
        .key = 0x0102030405060708,
        .data = value4}},
      // opcode 02, seq ff, R set, N 1, length 5, list id, reserved, entry
      {"02ff4001"
       "00050000"
       "0000beef"
       "00000000"
       "0102030405",
       {.opcode = dta_opcode::append,
        .seqnum = 0xFF,
        .retransmit = true,
        .list_id = 0xBEEF,
        .data = entry}},
      // opcode 03, N 2, length 8, key, addend 7
      {"03000002"
       "00080000"
       "ffffffffffffffff"
       "0000000000000007",
       {.opcode = dta_opcode::key_increment,
        .redundancy = 2,
        .key = ~std::uint64_t{0},
        .data = addend}},
      // opcode 04, I and R, N 1, length 2, key, hop 2 of 5, reserved, value
      {"0401c001"
       "00020000"
       "00000000c0a80001"
       "02050000"
       "cafe",
       {.opcode = dta_opcode::postcarding,
        .seqnum = 1,
        .immediate = true,
        .retransmit = true,
        .key = 0xC0A80001,
        .hop_index = 2,
        .hop_count = 5,
        .data = hop_value}},
      // opcode 05, N 1, length 12, sketch 9, column 0x100, row 3, width 4, three counters
      {"05000001"
       "000c0000"
       "00000009"
       "00000100"
       "00030400"
       "000000010000000200000003",
       {.opcode = dta_opcode::sketch_merge,
        .sketch_id = 9,
        .column = 0x100,
        .row = 3,
        .counter_width = 4,
        .data = counters}},
  };
}

}  // namespace

TEST_CASE("DTA reports encode byte by byte as the layout says") {
  for (const auto& v : vectors()) {
    CAPTURE(v.hex);
    CHECK(encode(v.report) == from_hex(v.hex));
    const auto bytes = from_hex(v.hex);
    const auto parsed = parse_dta_report(bytes);
    REQUIRE(parsed.ok());
    check_same(*parsed, v.report);
  }
  // The parsed report points into its input: keep the bytes alive while reading it.
  const auto inc_bytes = from_hex(vectors()[2].hex);
  const auto inc = parse_dta_report(inc_bytes);
  CHECK(inc->increment() == 7);
  const auto sk_bytes = from_hex(vectors()[4].hex);
  const auto sk = parse_dta_report(sk_bytes);
  REQUIRE(sk->counter_count() == 3);
  CHECK(sk->counter(0).value() == 1);
  CHECK(sk->counter(2).value() == 3);
  // Checked access: past the end, and a hand-built report with a width the format forbids.
  CHECK(sk->counter(3).error() == errc::out_of_range);
  CHECK(sk->counter(~std::size_t{0}).error() == errc::out_of_range);
  dta_report odd = *sk;
  odd.counter_width = 2;
  CHECK(odd.counter(0).error() == errc::malformed);
  odd.counter_width = 0;
  CHECK(odd.counter(0).error() == errc::malformed);
}

TEST_CASE("DTA reports round-trip through a UDP frame") {
  for (const auto& v : vectors()) {
    const auto payload = encode(v.report);
    std::vector<std::byte> frame(innet::net::udp_frame_overhead + payload.size());
    const innet::net::udp_endpoints ep{.source_ip = 0x0A000065,
                                       .destination_ip = 0x0A000033,
                                       .source_port = 40041,
                                       .destination_port = dta_udp_port};
    REQUIRE(innet::net::write_udp_frame(frame, ep, payload).ok());
    const auto udp = innet::net::parse_udp_frame(frame);
    REQUIRE(udp.ok());
    CHECK(udp->udp.get<innet::net::udp_format::destination_port>() == 40040);
    const auto parsed = parse_dta_report(udp->payload);
    REQUIRE(parsed.ok());
    check_same(*parsed, v.report);
  }
}

TEST_CASE("DTA every truncation is rejected") {
  for (const auto& v : vectors()) {
    const auto bytes = from_hex(v.hex);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const std::vector<std::byte> prefix(bytes.begin(),
                                          bytes.begin() + static_cast<std::ptrdiff_t>(n));
      const auto r = parse_dta_report(prefix);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == errc::truncated);
    }
  }
}

TEST_CASE("DTA garbage is rejected with the right error") {
  auto edited = [](std::size_t which, std::size_t at, std::uint8_t value) {
    auto bytes = from_hex(vectors()[which].hex);
    bytes[at] = std::byte{value};
    return parse_dta_report(bytes).error();
  };
  CHECK(edited(0, 0, 0x00) == errc::unsupported);  // opcodes 0 and 6..255 are not DTA
  CHECK(edited(0, 0, 0x06) == errc::unsupported);
  CHECK(edited(0, 0, 0xFF) == errc::unsupported);
  CHECK(edited(0, 2, 0x81) == errc::malformed);   // reserved flag bits
  CHECK(edited(0, 3, 0x00) == errc::malformed);   // redundancy 0
  CHECK(edited(0, 7, 0x01) == errc::malformed);   // reserved base bytes
  CHECK(edited(1, 3, 0x02) == errc::malformed);   // Append has no redundant copies
  CHECK(edited(1, 15, 0x01) == errc::malformed);  // Append's reserved word
  CHECK(edited(3, 17, 0x02) == errc::malformed);  // Postcarding hop index 2 of 2
  CHECK(edited(3, 19, 0x01) == errc::malformed);  // Postcarding's reserved bytes
  CHECK(edited(4, 18, 0x03) == errc::malformed);  // counter width 3
  CHECK(edited(4, 18, 0x08) == errc::malformed);  // 12 bytes are not whole 8-byte counters
  CHECK(edited(4, 19, 0x01) == errc::malformed);  // Sketch-Merge's reserved byte
  CHECK(edited(4, 3, 0x02) == errc::malformed);   // Sketch-Merge has no redundant copies

  // Key-Increment's addend is exactly 8 bytes; data length 0 is never a report.
  auto short_addend = from_hex(
      "03000001"
      "00040000"
      "0000000000000001"
      "00000001");
  CHECK(parse_dta_report(short_addend).error() == errc::malformed);
  auto empty = from_hex(
      "01000001"
      "00000000"
      "0000000000000001");
  CHECK(parse_dta_report(empty).error() == errc::malformed);
  // Postcarding values are at most 8 bytes.
  auto long_value = from_hex(
      "04000001"
      "00090000"
      "0000000000000001"
      "00010000"
      "000000000000000000");
  CHECK(parse_dta_report(long_value).error() == errc::malformed);
  // Trailing bytes after the data.
  auto trailing = from_hex(vectors()[0].hex);
  trailing.push_back(std::byte{0});
  CHECK(parse_dta_report(trailing).error() == errc::malformed);

  // Random bytes: whatever is accepted is canonical (re-encodes to the same bytes).
  innet::xoshiro256ss rng(11);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> bytes(8 + rng() % 40);
    for (auto& b : bytes)
      b = static_cast<std::byte>(rng());
    // Steer a third of the inputs towards plausible headers so that deeper checks run.
    if (round % 3 == 0) {
      bytes[0] = static_cast<std::byte>(1 + rng() % 5);
      bytes[2] = bytes[2] & std::byte{0xC0};
      bytes[3] = std::byte{1};
      const std::size_t fixed = dta_fixed_size(static_cast<dta_opcode>(bytes[0]));
      const std::size_t length = bytes.size() > 8 + fixed ? bytes.size() - 8 - fixed : 0;
      innet::store_be<std::uint16_t>(bytes.data() + 4, static_cast<std::uint16_t>(length));
      bytes[6] = bytes[7] = std::byte{0};
    }
    const auto r = parse_dta_report(bytes);
    if (!r.ok()) continue;
    ++accepted;
    CHECK(encode(*r) == bytes);
  }
  CHECK(accepted > 0);
}

TEST_CASE("DTA writer refuses what the parser would refuse") {
  std::vector<std::byte> out(64);
  auto r = vectors()[0].report;
  r.redundancy = 0;
  CHECK(write_dta_report(out, r).error() == errc::malformed);
  r = vectors()[2].report;
  r.data = value4;  // a 4-byte addend
  CHECK(write_dta_report(out, r).error() == errc::malformed);
  r = vectors()[0].report;
  r.opcode = static_cast<dta_opcode>(9);
  CHECK(write_dta_report(out, r).error() == errc::unsupported);
  r = vectors()[0].report;
  std::vector<std::byte> small(dta_report_size(r) - 1);
  CHECK(write_dta_report(small, r).error() == errc::truncated);
  std::vector<std::byte> huge(dta_max_data + 1);
  r.data = huge;
  std::vector<std::byte> big(dta_report_size(r));
  CHECK(write_dta_report(big, r).error() == errc::malformed);
}

TEST_CASE("DTA layouts are constexpr") {
  static_assert(dta_base_format::size == 8);
  static_assert(dta_base_format::redundancy::offset == 3);
  static_assert(dta_fixed_size(dta_opcode::postcarding) == 12);
  static constexpr auto encoded = [] {
    std::array<std::byte, 20> out{};
    const std::array<std::byte, 4> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    const dta_report r{.opcode = dta_opcode::key_write, .redundancy = 2, .key = 5, .data = data};
    (void)write_dta_report(out, r);
    return out;
  }();
  static_assert(parse_dta_report(encoded).ok());
  static_assert(parse_dta_report(encoded)->key == 5);
  CHECK(parse_dta_report(encoded)->redundancy == 2);
}
