// The packet in which a switch exports its sketch fragment's counters, a chunk at a time, and
// the constants the P4 program (p4/sketch_fragment.p4) shares with C++. All multi-byte fields
// are BIG-ENDIAN (network order, as a P4 deparser emits them).
//
// An export is the payload of a UDP datagram over IPv4 and Ethernet. The same header asks for
// it: a request, sent to UDP port `udp_port`, carries flag `request`, count 0 and the row and
// offset to start at; the switch fills in the rest and `count` counters from that position and
// sends the datagram back from port `udp_port` (p4/sketch_fragment.p4).
//
//    byte  0               4       5       6       7       8
//        +---------------+-------+-------+-------+-------+
//      0 | magic "INSX"  |version|family |counter| flags |  magic 0x494E5358, version 1
//        +---------------+-------+-------+-------+-------+
//      8 |       node (u32)      |      epoch (u32)      |
//        +-----------+-----------+-----------+-----------+
//     16 | sub_epoch |    row    |   depth   |   count   |  u16 each
//        +-----------+-----------+-----------+-----------+
//     24 |      width (u32)      |     offset (u32)      |  first counter's column
//        +-----------------------+-----------------------+
//     32 |                  seed (u64)                   |  the node's fragment seed
//        +-----------------------------------------------+
//     40 | count counters of row `row`, columns offset .. offset + count - 1, each of the
//        | counter code's width, big-endian; nothing after them
//        +-----------------------------------------------+
//
//   family, counter: as in sketch_format.hpp (1 count_min, 2 count_sketch; bits 0-3 log2 of the
//                    counter's byte width, bit 4 signed)
//   flags:  bit 0 last     the chunk that ends the fragment (last row, last column)
//           bit 1 reset    the switch zeroed the counters it read (the sub-epoch ended)
//           bit 2 request  a request: count is 0 and no counters follow
//           bit 3 walk     the switch recirculates the request to export every later chunk
//
// parse_export() checks, in this order, each failure with its own errc: length below the header
// (truncated), magic (malformed), version, family and counter code (unsupported), unknown flags
// (malformed), zero depth or width (malformed), row >= depth or offset + count > width
// (out_of_range), a request with counters (malformed), then the length: short is truncated,
// bytes after the counters are malformed.
//
// `fields` lists the header in order with each field's offset and width in bits; the P4 header
// type is generated from it (p4/generate_constants.cpp), so the two layouts cannot drift.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/result.hpp"
#include "innet/core/wire.hpp"
#include "innet/sketch/sketch_format.hpp"

namespace innet::sketch {

namespace export_format {

inline constexpr u32 magic = 0x494E5358;  // "INSX"
inline constexpr u8 version = 1;
inline constexpr usize header_size = 40;
inline constexpr u16 udp_port = 0x4953;  // 18771

inline constexpr u8 flag_last = 0x01;
inline constexpr u8 flag_reset = 0x02;
inline constexpr u8 flag_request = 0x04;
inline constexpr u8 flag_walk = 0x08;
inline constexpr u8 known_flags = flag_last | flag_reset | flag_request | flag_walk;

struct field {
  const char* name;
  usize offset;   // bytes from the start of the header
  unsigned bits;  // 8, 16, 32 or 64
};

inline constexpr field fields[] = {
    {"magic", 0, 32},   {"version", 4, 8}, {"family", 5, 8},  {"counter_code", 6, 8},
    {"flags", 7, 8},    {"node", 8, 32},   {"epoch", 12, 32}, {"sub_epoch", 16, 16},
    {"row", 18, 16},    {"depth", 20, 16}, {"count", 22, 16}, {"width", 24, 32},
    {"offset", 28, 32}, {"seed", 32, 64},
};

// Named offsets, for the parser.
inline constexpr usize magic_at = 0, version_at = 4, family_at = 5, counter_at = 6, flags_at = 7,
                       node_at = 8, epoch_at = 12, sub_epoch_at = 16, row_at = 18, depth_at = 20,
                       count_at = 22, width_at = 24, offset_at = 28, seed_at = 32;

// The table is contiguous, ends at header_size, and agrees with the named offsets.
constexpr bool fields_are_consistent() {
  usize next = 0;
  for (const field& f : fields) {
    if (f.offset != next || f.bits % 8 != 0) return false;
    next += f.bits / 8;
  }
  const usize named[] = {magic_at, version_at, family_at,    counter_at, flags_at,
                         node_at,  epoch_at,   sub_epoch_at, row_at,     depth_at,
                         count_at, width_at,   offset_at,    seed_at};
  if (sizeof named / sizeof named[0] != sizeof fields / sizeof fields[0]) return false;
  for (usize i = 0; i < sizeof named / sizeof named[0]; ++i) {
    if (named[i] != fields[i].offset) return false;
  }
  return next == header_size;
}
static_assert(fields_are_consistent());

}  // namespace export_format

// The switch-side fragment, as p4/sketch_fragment.p4 builds it: one register array per row,
// 32-bit wrapping counters, rows indexed from switch_digest (switch_digest.hpp). The generator
// writes these into p4/include/sketch_constants.p4.
namespace p4_fragment {

inline constexpr u32 depth = 4;
inline constexpr unsigned width_bits = 10;
inline constexpr u32 width = u32{1} << width_bits;
inline constexpr unsigned counter_bits = 32;
inline constexpr unsigned counter_bytes = counter_bits / 8;
// Register banks: counting goes to bank (sub_epoch & 1), exports read the other one, so a
// sub-epoch is read (and re-read after a lost reply) while the next one counts.
inline constexpr u32 bank_count = 2;
// Counters per export packet: one register read per row array per pass of the pipeline.
inline constexpr u32 counters_per_export = 32;
// The mirror (clone) session the control plane points at the collector's port.
inline constexpr u32 export_clone_session = 0x4953;
// Ethernet/IPv4 constants the parser matches.
inline constexpr u16 ethertype_ipv4 = 0x0800;
inline constexpr u8 protocol_tcp = 6;
inline constexpr u8 protocol_udp = 17;

static_assert(depth == 4, "p4/sketch_fragment.p4 unrolls the row arithmetic for four rows");
static_assert(width % counters_per_export == 0, "export chunks tile a row");
static_assert(depth <= 0xFFFF && counters_per_export <= 0xFFFF);

}  // namespace p4_fragment

struct export_header {
  u8 version = export_format::version;
  sketch_family family = sketch_family::count_min;
  u8 counter_code = sketch::counter_code<u32>();
  u8 flags = 0;
  u32 node = 0;
  u32 epoch = 0;
  u16 sub_epoch = 0;
  u16 row = 0;
  u16 depth = 0;
  u16 count = 0;
  u32 width = 0;
  u32 offset = 0;
  u64 seed = 0;

  friend constexpr bool operator==(const export_header&, const export_header&) = default;
};

// A parsed export: its header and its counters, which stay in the caller's buffer.
struct export_view {
  export_header header;
  std::span<const std::byte> counter_bytes;

  constexpr usize counter_size() const noexcept { return usize{1} << (header.counter_code & 0x0F); }
  // Counter i (0 <= i < header.count) as its raw bit pattern, zero-extended.
  constexpr u64 counter(usize i) const noexcept {
    const std::byte* p = counter_bytes.data() + i * counter_size();
    switch (counter_size()) {
      case 1:
        return load_be<u8>(p);
      case 2:
        return load_be<u16>(p);
      case 4:
        return load_be<u32>(p);
      default:
        return load_be<u64>(p);
    }
  }
};

namespace detail {
constexpr bool known_counter_code(u8 code) noexcept {
  return (code & ~u8{0x13}) == 0;  // log2 width 0..3, optional sign bit
}

// The checks of parse_export() after the magic, in its order, on a header already decoded;
// write_export() runs the same ones before writing anything.
constexpr errc check_export_header(const export_header& h) noexcept {
  namespace f = export_format;
  if (h.version != f::version) return errc::unsupported;
  if (h.family != sketch_family::count_min && h.family != sketch_family::count_sketch) {
    return errc::unsupported;
  }
  if (!known_counter_code(h.counter_code)) return errc::unsupported;
  if ((h.flags & ~f::known_flags) != 0) return errc::malformed;
  if (h.depth == 0 || h.width == 0) return errc::malformed;
  if (h.row >= h.depth || u64{h.offset} + h.count > h.width) return errc::out_of_range;
  if ((h.flags & f::flag_request) != 0 && h.count != 0) return errc::malformed;
  return errc::ok;
}
}  // namespace detail

constexpr result<export_view> parse_export(std::span<const std::byte> in) noexcept {
  namespace f = export_format;
  if (in.size() < f::header_size) return errc::truncated;
  const std::byte* p = in.data();
  if (load_be<u32>(p + f::magic_at) != f::magic) return errc::malformed;
  export_header h;
  h.version = load_be<u8>(p + f::version_at);
  h.family = static_cast<sketch_family>(load_be<u8>(p + f::family_at));
  h.counter_code = load_be<u8>(p + f::counter_at);
  h.flags = load_be<u8>(p + f::flags_at);
  h.node = load_be<u32>(p + f::node_at);
  h.epoch = load_be<u32>(p + f::epoch_at);
  h.sub_epoch = load_be<u16>(p + f::sub_epoch_at);
  h.row = load_be<u16>(p + f::row_at);
  h.depth = load_be<u16>(p + f::depth_at);
  h.count = load_be<u16>(p + f::count_at);
  h.width = load_be<u32>(p + f::width_at);
  h.offset = load_be<u32>(p + f::offset_at);
  h.seed = load_be<u64>(p + f::seed_at);
  if (const errc e = detail::check_export_header(h); e != errc::ok) return e;
  const usize payload = usize{h.count} << (h.counter_code & 0x0F);
  if (in.size() - f::header_size < payload) return errc::truncated;
  if (in.size() - f::header_size > payload) return errc::malformed;
  return export_view{h, in.subspan(f::header_size, payload)};
}

// Bytes an export of `h` occupies.
constexpr usize export_size(const export_header& h) noexcept {
  return export_format::header_size + (usize{h.count} << (h.counter_code & 0x0F));
}

// Writes the header and `counters` (h.count of them, each truncated to the counter code's
// width) into `out`; returns the bytes written. Checks everything before writing, so `out` is
// untouched on failure: a header parse_export() would refuse fails with the error parse_export()
// would give, counters.size() != h.count is errc::malformed, and an `out` too small for
// export_size(h) is errc::truncated.
constexpr result<usize> write_export(std::span<std::byte> out, const export_header& h,
                                     std::span<const u64> counters) noexcept {
  namespace f = export_format;
  if (const errc e = detail::check_export_header(h); e != errc::ok) return e;
  if (counters.size() != h.count) return errc::malformed;
  const usize size = export_size(h);
  if (out.size() < size) return errc::truncated;
  std::byte* p = out.data();
  store_be<u32>(p + f::magic_at, f::magic);
  store_be<u8>(p + f::version_at, h.version);
  store_be<u8>(p + f::family_at, static_cast<u8>(h.family));
  store_be<u8>(p + f::counter_at, h.counter_code);
  store_be<u8>(p + f::flags_at, h.flags);
  store_be<u32>(p + f::node_at, h.node);
  store_be<u32>(p + f::epoch_at, h.epoch);
  store_be<u16>(p + f::sub_epoch_at, h.sub_epoch);
  store_be<u16>(p + f::row_at, h.row);
  store_be<u16>(p + f::depth_at, h.depth);
  store_be<u16>(p + f::count_at, h.count);
  store_be<u32>(p + f::width_at, h.width);
  store_be<u32>(p + f::offset_at, h.offset);
  store_be<u64>(p + f::seed_at, h.seed);
  const usize counter_size = usize{1} << (h.counter_code & 0x0F);
  for (usize i = 0; i < counters.size(); ++i) {
    std::byte* c = p + f::header_size + i * counter_size;
    switch (counter_size) {
      case 1:
        store_be<u8>(c, static_cast<u8>(counters[i]));
        break;
      case 2:
        store_be<u16>(c, static_cast<u16>(counters[i]));
        break;
      case 4:
        store_be<u32>(c, static_cast<u32>(counters[i]));
        break;
      default:
        store_be<u64>(c, counters[i]);
        break;
    }
  }
  return size;
}

}  // namespace innet::sketch
