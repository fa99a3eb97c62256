// The DTA report: what a reporter switch sends to the translator, one report per UDP
// datagram (destination port dta_udp_port). Byte order: network (big-endian) for every field.
//
// Every report starts with the base header (8 bytes):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    opcode     |    seqnum     |I|R| reserved  |  redundancy   |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          data length          |       reserved (zero)         |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// then the primitive's fixed part (by opcode), then `data length` bytes of data, then nothing:
//
//   0x01 Key-Write      key (64 bits)                               data: the value, >= 1 byte
//   0x02 Append         list id (32) | reserved (32, zero)          data: one entry, >= 1 byte
//   0x03 Key-Increment  key (64 bits)                               data: the addend, exactly 8
//   0x04 Postcarding    key (64) | hop index (8) | hop count (8)    data: the hop's value, 1..8
//                       | reserved (16, zero)
//   0x05 Sketch-Merge   sketch id (32) | column (32) | row (16)     data: counters, a whole
//                       | counter width (8: 4 or 8) | reserved (8)  number of them, >= 1
//
// Where this comes from. The public DTA implementation (Langlet et al., the jonlanglet/DTA
// reporter and translator) carries reports over UDP port 40040 with a base header of opcode,
// an 8-bit sequence number and immediate/retransmittable flags, opcodes 0x01 Key-Write,
// 0x02 Append, 0x03 Key-Increment and 0x04 Postcarding, a redundancy level and 32-bit key for
// Key-Write/Key-Increment, a 64-bit Key-Increment counter, a list id for Append and a hop
// number for Postcarding. Its data sizes are compile-time constants of the P4 program. What
// we chose, and why:
//   * the redundancy N sits in the base header (one place for every primitive; the parser
//     requires N == 1 for Append and Sketch-Merge, which have no redundant copies);
//   * an explicit data length, so one parser serves every slot size the store is built with,
//     and the header pads to 8 bytes so that keys and counters are naturally aligned;
//   * 64-bit keys (a flow id or a hashed 5-tuple; DTA's 32-bit keys zero-extend);
//   * Postcarding carries the path length (hop count), which the translator's per-flow cache
//     needs to know when a flow's postcards are complete;
//   * Sketch-Merge (not in the public code) carries a run of counters of one sketch row,
//     starting at `column`, each `counter width` bytes, big-endian; opcode 0x05.
//
// The parser accepts exactly the canonical encoding (known opcode, reserved bits zero, data
// length within the primitive's bounds, no trailing bytes), so whatever it accepts
// re-encodes to the same bytes. Every failure is an errc: truncated when the span ends
// early, unsupported for an unknown opcode, malformed for anything else. Nothing is read
// beyond the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/header_view.hpp"
#include "innet/core/result.hpp"

namespace innet::telemetry::wire {

inline constexpr std::uint16_t dta_udp_port = 40040;

enum class dta_opcode : std::uint8_t {
  key_write = 0x01,
  append = 0x02,
  key_increment = 0x03,
  postcarding = 0x04,
  sketch_merge = 0x05,
};

constexpr bool is_known(dta_opcode op) noexcept {
  return static_cast<std::uint8_t>(op) >= 0x01 && static_cast<std::uint8_t>(op) <= 0x05;
}

struct dta_base_format {
  static constexpr std::size_t size = 8;
  using opcode = be_field<0, 1>;
  using seqnum = be_field<1, 1>;
  using immediate = be_field<2, 1, 7, 1>;   // the collector's CPU wants to hear of this report
  using retransmit = be_field<2, 1, 6, 1>;  // the reporter keeps it for retransmission
  using flags_reserved = be_field<2, 1, 0, 6>;
  using redundancy = be_field<3, 1>;
  using data_length = be_field<4, 2>;
  using reserved = be_field<6, 2>;
};

// Key-Write and Key-Increment.
struct dta_key_format {
  static constexpr std::size_t size = 8;
  using key = be_field<0, 8>;
};

struct dta_append_format {
  static constexpr std::size_t size = 8;
  using list_id = be_field<0, 4>;
  using reserved = be_field<4, 4>;
};

struct dta_postcarding_format {
  static constexpr std::size_t size = 12;
  using key = be_field<0, 8>;
  using hop_index = be_field<8, 1>;  // 0 for the first hop
  using hop_count = be_field<9, 1>;  // hops on the flow's path; hop_index < hop_count
  using reserved = be_field<10, 2>;
};

struct dta_sketch_merge_format {
  static constexpr std::size_t size = 12;
  using sketch_id = be_field<0, 4>;
  using column = be_field<4, 4>;
  using row = be_field<8, 2>;
  using counter_width = be_field<10, 1>;  // bytes per counter: 4 or 8
  using reserved = be_field<11, 1>;
};

// The size of the primitive's fixed part, after the base header; 0 for an unknown opcode.
constexpr std::size_t dta_fixed_size(dta_opcode op) noexcept {
  switch (op) {
    case dta_opcode::key_write:
    case dta_opcode::key_increment:
      return dta_key_format::size;
    case dta_opcode::append:
      return dta_append_format::size;
    case dta_opcode::postcarding:
      return dta_postcarding_format::size;
    case dta_opcode::sketch_merge:
      return dta_sketch_merge_format::size;
  }
  return 0;
}

// Bounds on the data of one report: a report must fit one UDP datagram in a 9000-byte jumbo
// frame, and the translator turns it into one RDMA operation.
inline constexpr std::size_t dta_max_data = 8192;
// The longest base header plus fixed part (Postcarding, Sketch-Merge), for sizing buffers.
inline constexpr std::size_t dta_max_header = dta_base_format::size + 12;

// One report, decoded. Fields that the opcode does not carry are zero. `data` points into
// the parsed span (or, for writing, at the bytes to send).
struct dta_report {
  dta_opcode opcode = dta_opcode::key_write;
  std::uint8_t seqnum = 0;
  bool immediate = false;
  bool retransmit = false;
  std::uint8_t redundancy = 1;
  std::uint64_t key = 0;            // Key-Write, Key-Increment, Postcarding
  std::uint32_t list_id = 0;        // Append
  std::uint8_t hop_index = 0;       // Postcarding
  std::uint8_t hop_count = 0;       // Postcarding
  std::uint32_t sketch_id = 0;      // Sketch-Merge
  std::uint32_t column = 0;         // Sketch-Merge
  std::uint16_t row = 0;            // Sketch-Merge
  std::uint8_t counter_width = 0;   // Sketch-Merge
  std::span<const std::byte> data;  // see the file comment for each opcode's bounds

  // Key-Increment's addend.
  constexpr std::uint64_t increment() const noexcept {
    return data.size() == 8 ? load_be<std::uint64_t>(data.data()) : 0;
  }
  // Sketch-Merge's counters. counter(i) is checked, since a report may be built by hand rather
  // than parsed: errc::out_of_range for i >= counter_count(), errc::malformed for a counter
  // width other than 4 or 8.
  constexpr std::size_t counter_count() const noexcept {
    return counter_width == 0 ? 0 : data.size() / counter_width;
  }
  constexpr result<std::uint64_t> counter(std::size_t i) const noexcept {
    if (counter_width != 4 && counter_width != 8) return errc::malformed;
    if (i >= counter_count()) return errc::out_of_range;
    return counter_width == 8 ? load_be<std::uint64_t>(data.data() + i * 8)
                              : std::uint64_t{load_be<std::uint32_t>(data.data() + i * 4)};
  }
};

namespace detail {

// errc::ok when `r`'s opcode-dependent fields and data length are what the format allows.
constexpr errc check_dta_report(const dta_report& r) noexcept {
  if (!is_known(r.opcode)) return errc::unsupported;
  const std::size_t n = r.data.size();
  if (n == 0 || n > dta_max_data || r.redundancy == 0) return errc::malformed;
  switch (r.opcode) {
    case dta_opcode::key_write:
      return errc::ok;
    case dta_opcode::key_increment:
      return n == 8 ? errc::ok : errc::malformed;
    case dta_opcode::append:
      return r.redundancy == 1 ? errc::ok : errc::malformed;
    case dta_opcode::postcarding:
      return n <= 8 && r.hop_index < r.hop_count ? errc::ok : errc::malformed;
    case dta_opcode::sketch_merge:
      if (r.redundancy != 1 || (r.counter_width != 4 && r.counter_width != 8)) {
        return errc::malformed;
      }
      return n % r.counter_width == 0 ? errc::ok : errc::malformed;
  }
  return errc::unsupported;
}

}  // namespace detail

// Bytes that write_dta_report() needs for `r`.
constexpr std::size_t dta_report_size(const dta_report& r) noexcept {
  return dta_base_format::size + dta_fixed_size(r.opcode) + r.data.size();
}

// Parses one report that fills `bytes` (a UDP payload) exactly.
constexpr result<dta_report> parse_dta_report(std::span<const std::byte> bytes) noexcept {
  auto base = header_view<dta_base_format>::parse(bytes);
  if (!base) return base.error();
  dta_report r;
  r.opcode = static_cast<dta_opcode>(base->get<dta_base_format::opcode>());
  if (!is_known(r.opcode)) return errc::unsupported;
  r.seqnum = base->get<dta_base_format::seqnum>();
  r.immediate = base->get<dta_base_format::immediate>() != 0;
  r.retransmit = base->get<dta_base_format::retransmit>() != 0;
  r.redundancy = base->get<dta_base_format::redundancy>();
  if (base->get<dta_base_format::flags_reserved>() != 0 ||
      base->get<dta_base_format::reserved>() != 0) {
    return errc::malformed;
  }

  const std::size_t fixed = dta_fixed_size(r.opcode);
  const auto rest = base->rest();
  if (rest.size() < fixed) return errc::truncated;
  const std::byte* p = rest.data();
  switch (r.opcode) {
    case dta_opcode::key_write:
    case dta_opcode::key_increment:
      r.key = dta_key_format::key::load(p);
      break;
    case dta_opcode::append:
      r.list_id = dta_append_format::list_id::load(p);
      if (dta_append_format::reserved::load(p) != 0) return errc::malformed;
      break;
    case dta_opcode::postcarding:
      r.key = dta_postcarding_format::key::load(p);
      r.hop_index = dta_postcarding_format::hop_index::load(p);
      r.hop_count = dta_postcarding_format::hop_count::load(p);
      if (dta_postcarding_format::reserved::load(p) != 0) return errc::malformed;
      break;
    case dta_opcode::sketch_merge:
      r.sketch_id = dta_sketch_merge_format::sketch_id::load(p);
      r.column = dta_sketch_merge_format::column::load(p);
      r.row = dta_sketch_merge_format::row::load(p);
      r.counter_width = dta_sketch_merge_format::counter_width::load(p);
      if (dta_sketch_merge_format::reserved::load(p) != 0) return errc::malformed;
      break;
  }

  const std::size_t length = base->get<dta_base_format::data_length>();
  const auto data = rest.subspan(fixed);
  if (data.size() < length) return errc::truncated;
  if (data.size() > length) return errc::malformed;  // trailing bytes
  r.data = data;
  if (const errc e = detail::check_dta_report(r); e != errc::ok) return e;
  return r;
}

// Writes `r` at the front of `out` and returns its length. errc::truncated if `out` is too
// small; the errors parse_dta_report() would return for a report that breaks the format.
constexpr result<std::size_t> write_dta_report(std::span<std::byte> out,
                                               const dta_report& r) noexcept {
  if (const errc e = detail::check_dta_report(r); e != errc::ok) return e;
  const std::size_t length = dta_report_size(r);
  if (out.size() < length) return errc::truncated;
  for (std::size_t i = 0; i < dta_base_format::size + dta_fixed_size(r.opcode); ++i)
    out[i] = std::byte{0};

  auto base = *header_writer<dta_base_format>::over(out);
  base.set<dta_base_format::opcode>(static_cast<std::uint8_t>(r.opcode))
      .set<dta_base_format::seqnum>(r.seqnum)
      .set<dta_base_format::immediate>(r.immediate ? 1 : 0)
      .set<dta_base_format::retransmit>(r.retransmit ? 1 : 0)
      .set<dta_base_format::redundancy>(r.redundancy)
      .set<dta_base_format::data_length>(static_cast<std::uint16_t>(r.data.size()));
  std::byte* p = out.data() + dta_base_format::size;
  switch (r.opcode) {
    case dta_opcode::key_write:
    case dta_opcode::key_increment:
      dta_key_format::key::store(p, r.key);
      break;
    case dta_opcode::append:
      dta_append_format::list_id::store(p, r.list_id);
      break;
    case dta_opcode::postcarding:
      dta_postcarding_format::key::store(p, r.key);
      dta_postcarding_format::hop_index::store(p, r.hop_index);
      dta_postcarding_format::hop_count::store(p, r.hop_count);
      break;
    case dta_opcode::sketch_merge:
      dta_sketch_merge_format::sketch_id::store(p, r.sketch_id);
      dta_sketch_merge_format::column::store(p, r.column);
      dta_sketch_merge_format::row::store(p, r.row);
      dta_sketch_merge_format::counter_width::store(p, r.counter_width);
      break;
  }
  p += dta_fixed_size(r.opcode);
  for (std::size_t i = 0; i < r.data.size(); ++i)
    p[i] = r.data[i];
  return length;
}

}  // namespace innet::telemetry::wire
