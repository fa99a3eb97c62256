// INT Telemetry Report v2.0: a datagram hand-encoded from the spec's diagrams, round trips,
// truncation at every length, and inconsistent lengths.
#include "innet/telemetry/wire/int_report.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "innet/core/random.hpp"

using namespace innet::telemetry::wire;
using innet::errc;

namespace {

std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Group: Ver 2, hw_id 5, seq 0x12345, node 0xA0B0C0D0 -> 0010 000101 00 0001 0010 0011 0100 0101.
constexpr std::string_view group_hex =
    "21412345"
    "a0b0c0d0";
// INT report: RepType 1, InType 4 (IPv4), Report Length 12 words, MD Length 5 words, Q and F.
// RepMdBits: bits 1 (interfaces), 2 (hop latency), 4 (ingress timestamp): 0110 1000 0000 0000.
constexpr std::string_view int_report_hex =
    "140c0560"
    "68000001"                                   // RepMdBits 0x6800, domain 1
    "80000000"                                   // DSMdBits 0x8000, DSMdstatus 0
    "00070009"                                   // ingress interface 7, egress 9
    "000003e8"                                   // hop latency 1000
    "0000000100000002"                           // ingress timestamp
    "feedface"                                   // domain-specific metadata
    "4500001400000000401100000a0000010a000002";  // 20 bytes of truncated IPv4 header
// Inner-only report with D and I: RepType 0, InType 3, 2 words of inner contents.
constexpr std::string_view inner_only_hex =
    "0302"
    "0090"
    "0123456789abcdef";

std::vector<std::byte> datagram() {
  return from_hex(std::string(group_hex) + std::string(int_report_hex) +
                  std::string(inner_only_hex));
}

}  // namespace

TEST_CASE("INT report decodes field by field") {
  const auto bytes = datagram();
  const auto summary = parse_int_report(bytes);
  REQUIRE(summary.ok());
  CHECK(summary->group == int_group_header{2, 5, 0x12345, 0xA0B0C0D0});
  CHECK(summary->reports == 2);

  const auto first = parse_int_individual_report(std::span(bytes).subspan(8));
  REQUIRE(first.ok());
  const auto& r = first->report;
  CHECK(r.rep_type == 1);
  CHECK(r.in_type == 4);
  CHECK_FALSE(r.dropped);
  CHECK(r.congested_queue);
  CHECK(r.tracked_flow);
  CHECK_FALSE(r.intermediate);
  CHECK(r.rep_md_bits == 0x6800);
  CHECK(r.domain_specific_id == 1);
  CHECK(r.ds_md_bits == 0x8000);
  CHECK(r.ds_md_status == 0);
  CHECK(r.baseline.size() == 16);
  CHECK(r.domain_specific.size() == 4);
  CHECK(r.inner.size() == 20);
  CHECK(*r.metadata(int_md::level1_interfaces) == 0x00070009);
  CHECK(*r.metadata(int_md::hop_latency) == 1000);
  CHECK(*r.metadata(int_md::ingress_timestamp) == 0x0000000100000002);
  CHECK(r.metadata(int_md::queue_occupancy).error() == errc::not_found);

  const auto second = parse_int_individual_report(first->rest);
  REQUIRE(second.ok());
  CHECK(second->report.rep_type == 0);
  CHECK(second->report.in_type == 3);
  CHECK(second->report.dropped);
  CHECK(second->report.intermediate);
  CHECK(second->report.inner.size() == 8);
  CHECK(second->rest.empty());
}

TEST_CASE("INT report encodes byte by byte as decoded") {
  const auto bytes = datagram();
  std::vector<std::byte> out(bytes.size());
  REQUIRE(write_int_group_header(out, {2, 5, 0x12345, 0xA0B0C0D0}) == errc::ok);
  auto first = *parse_int_individual_report(std::span(bytes).subspan(8));
  auto second = *parse_int_individual_report(first.rest);
  const auto n1 = write_int_individual_report(std::span(out).subspan(8), first.report);
  REQUIRE(n1.ok());
  CHECK(*n1 == 52);
  const auto n2 = write_int_individual_report(std::span(out).subspan(8 + *n1), second.report);
  REQUIRE(n2.ok());
  CHECK(8 + *n1 + *n2 == bytes.size());
  CHECK(out == bytes);
}

TEST_CASE("INT baseline metadata sizes follow RepMdBits") {
  CHECK(int_baseline_size(0) == 0);
  CHECK(int_baseline_size(0xFFFF) == 16 * 4 + 3 * 4);  // bits 4, 5, 6 are 8 bytes
  CHECK(int_baseline_size(int_md::mask(int_md::egress_timestamp)) == 8);
  CHECK(int_baseline_size(int_md::mask(int_md::drop_reason)) == 4);
  const std::uint16_t bits = int_md::mask(int_md::hop_latency) |
                             int_md::mask(int_md::egress_timestamp) |
                             int_md::mask(int_md::buffer_occupancy);
  CHECK(int_baseline_offset(bits, int_md::hop_latency) == 0);
  CHECK(int_baseline_offset(bits, int_md::egress_timestamp) == 4);
  CHECK(int_baseline_offset(bits, int_md::buffer_occupancy) == 12);
  CHECK(int_baseline_offset(bits, int_md::tx_utilization) == -1);
  static_assert(int_group_format::seq_no::bits == 22);
  static_assert(int_individual_format::md_length::offset == 2);
}

TEST_CASE("INT every truncation is rejected") {
  const auto bytes = datagram();
  const std::size_t boundary = 8 + 52;  // end of the first individual report
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<std::byte> prefix(bytes.begin(),
                                        bytes.begin() + static_cast<std::ptrdiff_t>(n));
    const auto r = parse_int_report(prefix);
    CAPTURE(n);
    if (n == boundary) {
      // A datagram may end after any whole report: one report, not an error.
      REQUIRE(r.ok());
      CHECK(r->reports == 1);
      continue;
    }
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == errc::truncated);
  }
}

TEST_CASE("INT inconsistent lengths and versions are rejected") {
  auto edited = [](std::size_t at, std::uint8_t value) {
    auto bytes = datagram();
    bytes[at] = std::byte{value};
    return parse_int_report(bytes).error();
  };
  CHECK(edited(0, 0x11) == errc::unsupported);    // version 1
  CHECK(edited(0, 0x31) == errc::unsupported);    // version 3
  CHECK(edited(8 + 2, 11) == errc::malformed);    // MD Length beyond the report (8 + 44 > 48)
  CHECK(edited(8 + 2, 3) == errc::malformed);     // MD Length below the 16 baseline bytes
  CHECK(edited(8 + 4, 0xFF) == errc::malformed);  // RepMdBits asking for 76 bytes
  // Report Length reaching beyond the datagram.
  CHECK(edited(8 + 1, 0x20) == errc::truncated);
  // Reserved bits are ignored on reception, as the spec says.
  CHECK(edited(8 + 3, 0x6F) == errc::ok);

  // Writer checks: spans must be whole words and match RepMdBits; 4-bit fields must fit.
  std::vector<std::byte> out(512);
  const auto three = from_hex("010203");
  const auto four = from_hex("01020304");
  int_individual_report r;
  r.inner = three;
  CHECK(write_int_individual_report(out, r).error() == errc::malformed);
  r.inner = {};
  r.rep_md_bits = int_md::mask(int_md::hop_latency);
  CHECK(write_int_individual_report(out, r).error() == errc::malformed);
  r.baseline = four;
  CHECK(write_int_individual_report(out, r).ok());
  r.rep_type = 16;
  CHECK(write_int_individual_report(out, r).error() == errc::out_of_range);
  r.rep_type = 0;
  CHECK(write_int_individual_report(out, r).error() == errc::malformed);  // metadata on inner-only
  std::vector<std::byte> big(256 * 4);
  int_individual_report huge;
  huge.rep_type = 0;
  huge.inner = big;
  std::vector<std::byte> big_out(2048);
  CHECK(write_int_individual_report(big_out, huge).error() == errc::out_of_range);
  CHECK(write_int_group_header(out, {2, 64, 0, 0}) == errc::out_of_range);
  CHECK(write_int_group_header(out, {2, 0, 0x400000, 0}) == errc::out_of_range);
  std::vector<std::byte> small(7);
  CHECK(write_int_group_header(small, {}) == errc::truncated);
}

TEST_CASE("INT random datagrams never crash and accepted ones rebuild") {
  innet::xoshiro256ss rng(5);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> bytes(8 + rng() % 64);
    for (auto& b : bytes)
      b = static_cast<std::byte>(rng());
    bytes[0] = (bytes[0] & std::byte{0x0F}) | std::byte{0x20};
    if (bytes.size() >= 12 && round % 2 == 0) {
      // A report length that fits, so that the deeper checks run.
      bytes[9] = static_cast<std::byte>((bytes.size() - 12) / 4);
      bytes.resize(12 + std::to_integer<std::size_t>(bytes[9]) * 4);
      bytes[10] = static_cast<std::byte>(rng() % 4);
    }
    const auto s = parse_int_report(bytes);
    if (!s.ok()) continue;
    ++accepted;
    // Rebuild every individual report from its decoded fields: same fields again.
    auto rest = std::span<const std::byte>(bytes).subspan(8);
    while (!rest.empty()) {
      const auto step = parse_int_individual_report(rest);
      REQUIRE(step.ok());
      std::vector<std::byte> out(int_individual_report_size(step->report));
      REQUIRE(write_int_individual_report(out, step->report).ok());
      const auto again = parse_int_individual_report(out);
      REQUIRE(again.ok());
      CHECK(again->report.rep_md_bits == step->report.rep_md_bits);
      CHECK(again->report.ds_md_status == step->report.ds_md_status);
      CHECK(again->report.inner.size() == step->report.inner.size());
      CHECK(again->rest.empty());
      rest = step->rest;
    }
  }
  CHECK(accepted > 0);
}
