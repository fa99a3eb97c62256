// CRCs in the Rocksoft/Williams parameter model: a bitwise reference and a byte-at-a-time table,
// both constexpr and freestanding (BPF, CUDA, constant evaluation).
//
// Users: the switch digest of the sketch area (sketch/switch_digest.hpp: the CRC-32 lanes a P4
// switch's hash units compute) and the RoCEv2 invariant CRC of the telemetry area
// (telemetry/wire/rocev2.hpp: CRC-32/ISO-HDLC, the Ethernet FCS polynomial). Host code that
// needs throughput on long inputs should use a SIMD CRC; these serve short keys and headers.
#pragma once

#include "innet/core/detail/freestanding.hpp"

namespace innet {

// A CRC in the Rocksoft/Williams model (the parameters of Greg Cook's CRC catalogue), for the
// reflected-in-and-out or neither cases (refin == refout). `check` is the CRC of the ASCII
// bytes "123456789", as catalogued.
struct crc_spec {
  unsigned width;  // 8..64
  u64 poly;        // normal (MSB-first) form, without the x^width term
  u64 init;
  bool reflected;
  u64 xorout;
  u64 check;
};

inline constexpr crc_spec crc32_iso_hdlc{32, 0x04C11DB7, 0xFFFFFFFF, true, 0xFFFFFFFF, 0xCBF43926};
inline constexpr crc_spec crc32_iscsi{32, 0x1EDC6F41, 0xFFFFFFFF, true, 0xFFFFFFFF, 0xE3069283};
inline constexpr crc_spec crc32_base91_d{32, 0xA833982B, 0xFFFFFFFF, true, 0xFFFFFFFF, 0x87315576};
inline constexpr crc_spec crc32_autosar{32, 0xF4ACFB13, 0xFFFFFFFF, true, 0xFFFFFFFF, 0x1697D06A};
inline constexpr crc_spec crc32_mpeg2{32, 0x04C11DB7, 0xFFFFFFFF, false, 0, 0x0376E6E7};
inline constexpr crc_spec crc32_aixm{32, 0x814141AB, 0, false, 0, 0x3010BF7F};
inline constexpr crc_spec crc16_arc{16, 0x8005, 0, true, 0, 0xBB3D};
inline constexpr crc_spec crc64_xz{64,      0x42F0E1EBA9EA3693, ~u64{0}, true,
                                   ~u64{0}, 0x995DC9BBDF1939FA};
inline constexpr crc_spec crc64_ecma_182{64, 0x42F0E1EBA9EA3693, 0, false, 0, 0x6C40DF5F0B497347};

namespace detail {

INNET_HD constexpr u64 width_mask(unsigned width) noexcept {
  return width >= 64 ? ~u64{0} : (u64{1} << width) - 1;
}

INNET_HD constexpr u64 reflect_bits(u64 value, unsigned width) noexcept {
  u64 out = 0;
  for (unsigned i = 0; i < width; ++i)
    out |= ((value >> i) & 1) << (width - 1 - i);
  return out;
}

// One byte through the shift register, bit by bit. `poly` is s.poly, bit-reversed when the CRC
// is reflected (computed once per message by crc()).
INNET_HD constexpr u64 crc_byte(const crc_spec& s, u64 poly, u64 reg, u8 byte) noexcept {
  if (s.reflected) {
    reg ^= byte;
    for (int bit = 0; bit < 8; ++bit)
      reg = (reg & 1) != 0 ? (reg >> 1) ^ poly : reg >> 1;
    return reg;
  }
  const u64 top = u64{1} << (s.width - 1);
  reg ^= u64{byte} << (s.width - 8);
  for (int bit = 0; bit < 8; ++bit)
    reg = (reg & top) != 0 ? (reg << 1) ^ poly : reg << 1;
  return reg & width_mask(s.width);
}

}  // namespace detail

// The CRC of bytes[0, size) under `s`; Bytes is any indexable sequence of u8 or std::byte.
template <class Bytes>
INNET_HD constexpr u64 crc(const crc_spec& s, const Bytes& bytes, usize size) noexcept {
  const u64 poly = s.reflected ? detail::reflect_bits(s.poly, s.width) : s.poly;
  u64 reg = s.reflected ? detail::reflect_bits(s.init, s.width) : s.init;
  for (usize i = 0; i < size; ++i)
    reg = detail::crc_byte(s, poly, reg, static_cast<u8>(bytes[i]));
  return (reg ^ s.xorout) & detail::width_mask(s.width);
}

// A byte-at-a-time table for `s`: entry b is the register after byte b from zero. Same result as
// crc(), eight times fewer steps (the collector hashes every flow it queries).
struct crc_table {
  u64 entries[256];
  u64 initial_register;  // init, bit-reversed for a reflected CRC
};

INNET_HD constexpr crc_table make_crc_table(const crc_spec& s) noexcept {
  crc_table t{};
  const u64 poly = s.reflected ? detail::reflect_bits(s.poly, s.width) : s.poly;
  for (unsigned b = 0; b < 256; ++b)
    t.entries[b] = detail::crc_byte(s, poly, 0, static_cast<u8>(b));
  t.initial_register = s.reflected ? detail::reflect_bits(s.init, s.width) : s.init;
  return t;
}

template <class Bytes>
INNET_HD constexpr u64 crc(const crc_spec& s, const crc_table& t, const Bytes& bytes,
                           usize size) noexcept {
  u64 reg = t.initial_register;
  for (usize i = 0; i < size; ++i) {
    const u8 byte = static_cast<u8>(bytes[i]);
    if (s.reflected) {
      reg = t.entries[(reg ^ byte) & 0xFF] ^ (reg >> 8);
    } else {
      reg = (t.entries[((reg >> (s.width - 8)) ^ byte) & 0xFF] ^ (reg << 8)) &
            detail::width_mask(s.width);
    }
  }
  return (reg ^ s.xorout) & detail::width_mask(s.width);
}

}  // namespace innet
