// INT telemetry reports: P4.org Telemetry Report Format v2.0, the UDP payload an INT sink or
// a postcard-mode switch sends to a collector. Byte order: network (big-endian); bit 0 of a
// field in the spec's diagrams is its most significant bit.
//
// Telemetry Report Group Header (8 bytes, once per datagram):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Ver  |   hw_id   |           Sequence Number                 |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                            Node ID                            |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// then one or more individual reports, back to back until the datagram ends. Each starts
// with the Individual Report Header (4 bytes):
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |RepType| InType| Report Length |   MD Length   |D|Q|F|I| Rsvd  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// followed by Report Length 4-byte words (this first word not counted). For RepType 1 (INT)
// those words are the main contents, then the inner contents:
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            RepMdBits          |      Domain Specific ID       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            DSMdBits           |          DSMdstatus           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  baseline metadata (RepMdBits), then domain-specific metadata  |  MD Length words
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  inner contents (InType: TLV, DS extension, truncated packet)  |  the rest
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RepMdBits bit b (b = 0 the MSB) selects 4 bytes of baseline metadata, 8 bytes for bits 4,
// 5 and 6 (timestamps, level-2 interface ids), in bit order. For RepType 0 (inner only) the
// words are all inner contents; other report types (IOAM, reserved) are passed through
// undecoded, their words in `inner`.
//
// Parsers check every length against the bytes present and against each other (MD Length
// within the report, the baseline metadata within MD Length), return errc::truncated when a
// span ends early, errc::unsupported for a group header whose version is not 2, and
// errc::malformed for inconsistent lengths. Reserved bits are ignored on reception, as the
// spec says. Nothing is read beyond the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/header_view.hpp"
#include "innet/core/result.hpp"

namespace innet::telemetry::wire {

inline constexpr std::uint8_t int_report_version = 2;

struct int_group_format {
  static constexpr std::size_t size = 8;
  using version = be_field<0, 4, 28, 4>;
  using hw_id = be_field<0, 4, 22, 6>;
  using seq_no = be_field<0, 4, 0, 22>;
  using node_id = be_field<4, 4>;
};

struct int_individual_format {
  static constexpr std::size_t size = 4;
  using rep_type = be_field<0, 1, 4, 4>;
  using in_type = be_field<0, 1, 0, 4>;
  using report_length = be_field<1, 1>;  // 4-byte words after this header
  using md_length = be_field<2, 1>;      // 4-byte words of metadata
  using dropped = be_field<3, 1, 7, 1>;
  using congested_queue = be_field<3, 1, 6, 1>;
  using tracked_flow = be_field<3, 1, 5, 1>;
  using intermediate = be_field<3, 1, 4, 1>;
  using reserved = be_field<3, 1, 0, 4>;
};

// The fixed part of RepType 1 main contents.
struct int_main_format {
  static constexpr std::size_t size = 8;
  using rep_md_bits = be_field<0, 2>;
  using domain_specific_id = be_field<2, 2>;
  using ds_md_bits = be_field<4, 2>;
  using ds_md_status = be_field<6, 2>;
};

enum class int_rep_type : std::uint8_t { inner_only = 0, inband = 1, ioam = 2 };

enum class int_in_type : std::uint8_t {
  none = 0,
  tlv = 1,
  domain_specific = 2,
  ethernet = 3,
  ipv4 = 4,
  ipv6 = 5,
};

// RepMdBits, by bit number counted from the MSB as the spec does: the mask of bit b is
// 0x8000 >> b.
namespace int_md {
inline constexpr unsigned level1_interfaces = 1;  // ingress (16) | egress (16) interface ids
inline constexpr unsigned hop_latency = 2;
inline constexpr unsigned queue_occupancy = 3;    // queue id (8) | occupancy (24)
inline constexpr unsigned ingress_timestamp = 4;  // 64 bits
inline constexpr unsigned egress_timestamp = 5;   // 64 bits
inline constexpr unsigned level2_interfaces = 6;  // ingress (32) | egress (32)
inline constexpr unsigned tx_utilization = 7;
inline constexpr unsigned buffer_occupancy = 8;  // buffer id (8) | occupancy (24)
inline constexpr unsigned drop_reason = 15;      // queue id (8) | reason (8) | padding (16)

constexpr std::uint16_t mask(unsigned bit) noexcept {
  return static_cast<std::uint16_t>(0x8000u >> bit);
}
constexpr std::size_t size_of(unsigned bit) noexcept {
  return bit >= 4 && bit <= 6 ? 8 : 4;
}
}  // namespace int_md

// Bytes of baseline metadata that `rep_md_bits` selects.
constexpr std::size_t int_baseline_size(std::uint16_t rep_md_bits) noexcept {
  std::size_t n = 0;
  for (unsigned b = 0; b < 16; ++b)
    if ((rep_md_bits & int_md::mask(b)) != 0) n += int_md::size_of(b);
  return n;
}

// Where bit `bit`'s value lies in the baseline metadata, or -1 when rep_md_bits lacks it.
constexpr std::ptrdiff_t int_baseline_offset(std::uint16_t rep_md_bits, unsigned bit) noexcept {
  if (bit >= 16 || (rep_md_bits & int_md::mask(bit)) == 0) return -1;
  std::size_t n = 0;
  for (unsigned b = 0; b < bit; ++b)
    if ((rep_md_bits & int_md::mask(b)) != 0) n += int_md::size_of(b);
  return static_cast<std::ptrdiff_t>(n);
}

struct int_group_header {
  std::uint8_t version = int_report_version;
  std::uint8_t hw_id = 0;    // 6 bits
  std::uint32_t seq_no = 0;  // 22 bits
  std::uint32_t node_id = 0;

  friend constexpr bool operator==(const int_group_header&, const int_group_header&) = default;
};

struct int_individual_report {
  std::uint8_t rep_type = static_cast<std::uint8_t>(int_rep_type::inband);  // 4 bits
  std::uint8_t in_type = static_cast<std::uint8_t>(int_in_type::none);      // 4 bits
  bool dropped = false;
  bool congested_queue = false;
  bool tracked_flow = false;
  bool intermediate = false;
  // RepType 1 only.
  std::uint16_t rep_md_bits = 0;
  std::uint16_t domain_specific_id = 0;
  std::uint16_t ds_md_bits = 0;
  std::uint16_t ds_md_status = 0;
  std::span<const std::byte> baseline;         // int_baseline_size(rep_md_bits) bytes
  std::span<const std::byte> domain_specific;  // the rest of the MD Length words
  // Everything after the metadata (the whole report body for other report types).
  std::span<const std::byte> inner;

  // Baseline metadata `bit` as an integer (4 or 8 bytes), or not_found.
  constexpr result<std::uint64_t> metadata(unsigned bit) const noexcept {
    const auto offset = int_baseline_offset(rep_md_bits, bit);
    if (offset < 0) return errc::not_found;
    const auto at = static_cast<std::size_t>(offset);
    if (int_md::size_of(bit) == 8) return read_be<std::uint64_t>(baseline, at);
    const auto v = read_be<std::uint32_t>(baseline, at);
    if (!v) return v.error();
    return std::uint64_t{*v};
  }
};

constexpr result<int_group_header> parse_int_group_header(
    std::span<const std::byte> bytes) noexcept {
  auto v = header_view<int_group_format>::parse(bytes);
  if (!v) return v.error();
  int_group_header h;
  h.version = v->get<int_group_format::version>();
  if (h.version != int_report_version) return errc::unsupported;
  h.hw_id = v->get<int_group_format::hw_id>();
  h.seq_no = v->get<int_group_format::seq_no>();
  h.node_id = v->get<int_group_format::node_id>();
  return h;
}

// One individual report at the front of `bytes`, and what follows it.
struct int_report_step {
  int_individual_report report;
  std::span<const std::byte> rest;
};

constexpr result<int_report_step> parse_int_individual_report(
    std::span<const std::byte> bytes) noexcept {
  auto v = header_view<int_individual_format>::parse(bytes);
  if (!v) return v.error();
  int_individual_report r;
  r.rep_type = v->get<int_individual_format::rep_type>();
  r.in_type = v->get<int_individual_format::in_type>();
  r.dropped = v->get<int_individual_format::dropped>() != 0;
  r.congested_queue = v->get<int_individual_format::congested_queue>() != 0;
  r.tracked_flow = v->get<int_individual_format::tracked_flow>() != 0;
  r.intermediate = v->get<int_individual_format::intermediate>() != 0;
  const std::size_t body_size = std::size_t{v->get<int_individual_format::report_length>()} * 4;
  const std::size_t md_size = std::size_t{v->get<int_individual_format::md_length>()} * 4;
  const auto after = v->rest();
  if (after.size() < body_size) return errc::truncated;
  const auto body = after.first(body_size);

  if (r.rep_type == static_cast<std::uint8_t>(int_rep_type::inband)) {
    if (body_size < int_main_format::size + md_size) return errc::malformed;
    auto main = *header_view<int_main_format>::parse(body);
    r.rep_md_bits = main.get<int_main_format::rep_md_bits>();
    r.domain_specific_id = main.get<int_main_format::domain_specific_id>();
    r.ds_md_bits = main.get<int_main_format::ds_md_bits>();
    r.ds_md_status = main.get<int_main_format::ds_md_status>();
    const std::size_t baseline_size = int_baseline_size(r.rep_md_bits);
    if (baseline_size > md_size) return errc::malformed;
    const auto md = main.rest().first(md_size);
    r.baseline = md.first(baseline_size);
    r.domain_specific = md.subspan(baseline_size);
    r.inner = main.rest().subspan(md_size);
  } else {
    r.inner = body;
  }
  return int_report_step{r, after.subspan(body_size)};
}

// Checks a whole report datagram (group header and every individual report) and returns the
// group header and the number of individual reports; walk them with
// parse_int_individual_report() starting at bytes.subspan(int_group_format::size).
struct int_report_summary {
  int_group_header group;
  std::size_t reports = 0;
};

constexpr result<int_report_summary> parse_int_report(std::span<const std::byte> bytes) noexcept {
  auto group = parse_int_group_header(bytes);
  if (!group) return group.error();
  int_report_summary s{*group, 0};
  auto rest = bytes.subspan(int_group_format::size);
  if (rest.empty()) return errc::truncated;  // a group holds at least one report
  while (!rest.empty()) {
    auto step = parse_int_individual_report(rest);
    if (!step) return step.error();
    ++s.reports;
    rest = step->rest;
  }
  return s;
}

constexpr errc write_int_group_header(std::span<std::byte> out,
                                      const int_group_header& h) noexcept {
  auto w = header_writer<int_group_format>::over(out);
  if (!w) return w.error();
  if (h.version > 0xF || h.hw_id > 0x3F || h.seq_no > 0x3FFFFF) return errc::out_of_range;
  for (auto& b : w->header())
    b = std::byte{0};
  w->set<int_group_format::version>(h.version)
      .set<int_group_format::hw_id>(h.hw_id)
      .set<int_group_format::seq_no>(h.seq_no)
      .set<int_group_format::node_id>(h.node_id);
  return errc::ok;
}

// Bytes write_int_individual_report() writes for `r`.
constexpr std::size_t int_individual_report_size(const int_individual_report& r) noexcept {
  const bool is_int = r.rep_type == static_cast<std::uint8_t>(int_rep_type::inband);
  return int_individual_format::size +
         (is_int ? int_main_format::size + r.baseline.size() + r.domain_specific.size() : 0) +
         r.inner.size();
}

// Writes `r` at the front of `out` and returns its length; Report Length and MD Length are
// derived from the spans. errc::malformed when a span is not a whole number of 4-byte words
// or `baseline` does not match rep_md_bits; errc::out_of_range when a length overflows its
// 8-bit field or a 4-bit field does not fit; errc::truncated when `out` is too small.
constexpr result<std::size_t> write_int_individual_report(std::span<std::byte> out,
                                                          const int_individual_report& r) noexcept {
  const bool is_int = r.rep_type == static_cast<std::uint8_t>(int_rep_type::inband);
  if (r.rep_type > 0xF || r.in_type > 0xF) return errc::out_of_range;
  if (r.inner.size() % 4 != 0) return errc::malformed;
  std::size_t md_size = 0;
  if (is_int) {
    if (r.baseline.size() != int_baseline_size(r.rep_md_bits) ||
        r.domain_specific.size() % 4 != 0) {
      return errc::malformed;
    }
    md_size = r.baseline.size() + r.domain_specific.size();
  } else if (!r.baseline.empty() || !r.domain_specific.empty()) {
    return errc::malformed;  // only RepType 1 carries metadata
  }
  const std::size_t length = int_individual_report_size(r);
  const std::size_t body_words = (length - int_individual_format::size) / 4;
  if (body_words > 0xFF || md_size / 4 > 0xFF) return errc::out_of_range;
  if (out.size() < length) return errc::truncated;

  auto w = *header_writer<int_individual_format>::over(out);
  for (auto& b : w.header())
    b = std::byte{0};
  w.set<int_individual_format::rep_type>(r.rep_type)
      .set<int_individual_format::in_type>(r.in_type)
      .set<int_individual_format::report_length>(static_cast<std::uint8_t>(body_words))
      .set<int_individual_format::md_length>(static_cast<std::uint8_t>(md_size / 4))
      .set<int_individual_format::dropped>(r.dropped ? 1 : 0)
      .set<int_individual_format::congested_queue>(r.congested_queue ? 1 : 0)
      .set<int_individual_format::tracked_flow>(r.tracked_flow ? 1 : 0)
      .set<int_individual_format::intermediate>(r.intermediate ? 1 : 0);
  std::size_t at = int_individual_format::size;
  auto copy = [&](std::span<const std::byte> from) {
    for (std::size_t i = 0; i < from.size(); ++i)
      out[at + i] = from[i];
    at += from.size();
  };
  if (is_int) {
    auto main = *header_writer<int_main_format>::over(out.subspan(at));
    main.set<int_main_format::rep_md_bits>(r.rep_md_bits)
        .set<int_main_format::domain_specific_id>(r.domain_specific_id)
        .set<int_main_format::ds_md_bits>(r.ds_md_bits)
        .set<int_main_format::ds_md_status>(r.ds_md_status);
    at += int_main_format::size;
    copy(r.baseline);
    copy(r.domain_specific);
  }
  copy(r.inner);
  return length;
}

}  // namespace innet::telemetry::wire
