// The serialized form of every innet sketch (Count-Min, Count Sketch, UnivMon) and of the
// fragments switches and XDP programs export. All multi-byte fields are BIG-ENDIAN.
//
//    byte  0               4       5       6       7       8
//        +---------------+-------+-------+-------+-------+
//      0 | magic "INSK"  |version|family |counter| flags |   magic 0x494E534B, version 1
//        +---------------+-------+-------+-------+-------+
//      8 |     depth (u32)       |     width (u32)       |
//        +-----------------------+-----------------------+
//     16 |                  seed (u64)                   |
//        +-----------------------------------------------+
//     24 |              total_weight (u64)               |
//        +-----------------------------------------------+
//     32 | payload: depth * width counters, row-major,   |   Count-Min / Count Sketch;
//        | each sizeof(Counter) bytes, big-endian        |   UnivMon appends its own sections
//        +-----------------------------------------------+
//    end | xxh3_64 (seed 0) of every byte before it      |   u64, detects corruption
//        +-----------------------------------------------+
//
//   family:  1 count_min, 2 count_sketch, 3 univmon
//   counter: bits 0-3 log2 of the counter's byte width (0..3), bit 4 set for signed counters
//   flags:   bit 0 conservative update (Count-Min); other bits must be zero
//
// Readers check, in this order and each with its own message: length, magic, version, family,
// counter code, flags, dimensions (nonzero, depth <= max_depth; with width < 2^32 the byte size
// then stays below 2^41, so no overflow check is needed), payload size, checksum. Signed counters
// travel as their two's complement bit pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/hash.hpp"
#include "innet/core/result.hpp"
#include "innet/core/wire.hpp"

namespace innet::sketch {

enum class sketch_family : u8 { count_min = 1, count_sketch = 2, univmon = 3 };

namespace format {
inline constexpr u32 magic = 0x494E534B;  // "INSK"
inline constexpr u8 version = 1;
inline constexpr usize preamble_size = 32;
inline constexpr usize checksum_size = 8;
inline constexpr usize overhead = preamble_size + checksum_size;
inline constexpr u8 flag_conservative = 0x01;
inline constexpr u8 known_flags = flag_conservative;
// Rows per sketch at most: 64 rows is Count-Min's delta = e^-64, far past any useful confidence,
// and keeps per-key row buffers (Count Sketch's median) small enough for the stack.
inline constexpr u32 max_depth = 64;

// Field offsets.
inline constexpr usize magic_at = 0, version_at = 4, family_at = 5, counter_at = 6, flags_at = 7,
                       depth_at = 8, width_at = 12, seed_at = 16, total_weight_at = 24;
}  // namespace format

// The counter code of an integer type: log2(sizeof) in bits 0-3, bit 4 if signed.
template <class Counter>
constexpr u8 counter_code() noexcept {
  static_assert(std::is_integral_v<Counter> && !std::is_same_v<Counter, bool>);
  static_assert(sizeof(Counter) == 1 || sizeof(Counter) == 2 || sizeof(Counter) == 4 ||
                sizeof(Counter) == 8);
  const u8 log2 = sizeof(Counter) == 1   ? 0
                  : sizeof(Counter) == 2 ? 1
                  : sizeof(Counter) == 4 ? 2
                                         : 3;
  return static_cast<u8>(log2 | (std::is_signed_v<Counter> ? 0x10 : 0));
}

struct preamble {
  u8 version = format::version;
  sketch_family family = sketch_family::count_min;
  u8 counter_code = 0;
  u8 flags = 0;
  u32 depth = 0;
  u32 width = 0;
  u64 seed = 0;
  u64 total_weight = 0;

  friend constexpr bool operator==(const preamble&, const preamble&) = default;
};

// Writes the 32-byte preamble (magic included) at the start of `out`.
[[nodiscard]] constexpr errc write_preamble(std::span<std::byte> out, const preamble& p) noexcept {
  if (out.size() < format::preamble_size) return errc::truncated;
  std::byte* b = out.data();
  store_be<u32>(b + format::magic_at, format::magic);
  store_be<u8>(b + format::version_at, p.version);
  store_be<u8>(b + format::family_at, static_cast<u8>(p.family));
  store_be<u8>(b + format::counter_at, p.counter_code);
  store_be<u8>(b + format::flags_at, p.flags);
  store_be<u32>(b + format::depth_at, p.depth);
  store_be<u32>(b + format::width_at, p.width);
  store_be<u64>(b + format::seed_at, p.seed);
  store_be<u64>(b + format::total_weight_at, p.total_weight);
  return errc::ok;
}

// Reads the preamble's fields without judging them: errc::truncated if shorter than 32 bytes,
// errc::malformed if the magic is wrong. parse_preamble validates.
constexpr result<preamble> read_preamble(std::span<const std::byte> in) noexcept {
  if (in.size() < format::preamble_size) return errc::truncated;
  const std::byte* b = in.data();
  if (load_be<u32>(b + format::magic_at) != format::magic) return errc::malformed;
  preamble p;
  p.version = load_be<u8>(b + format::version_at);
  p.family = static_cast<sketch_family>(load_be<u8>(b + format::family_at));
  p.counter_code = load_be<u8>(b + format::counter_at);
  p.flags = load_be<u8>(b + format::flags_at);
  p.depth = load_be<u32>(b + format::depth_at);
  p.width = load_be<u32>(b + format::width_at);
  p.seed = load_be<u64>(b + format::seed_at);
  p.total_weight = load_be<u64>(b + format::total_weight_at);
  return p;
}

// The checksum a serialized sketch ends with: xxh3_64 (seed 0) of every byte before it.
constexpr u64 checksum_of(std::span<const std::byte> covered) noexcept {
  return xxh3_64(covered, 0);
}

// A buffer of overhead + payload_bytes with the preamble written; the caller fills the payload
// (starting at format::preamble_size) and then calls seal().
inline std::vector<std::byte> begin_serialized(const preamble& p, usize payload_bytes) {
  std::vector<std::byte> out(format::overhead + payload_bytes);
  (void)write_preamble(out, p);  // cannot fail: the buffer is at least 32 bytes
  return out;
}

// Writes the trailing checksum over everything before it.
inline void seal(std::span<std::byte> serialized) noexcept {
  const usize end = serialized.size() - format::checksum_size;
  store_be<u64>(serialized.data() + end, checksum_of(serialized.first(end)));
}

// The payload: the bytes between the preamble and the checksum (input already length-checked).
inline std::span<const std::byte> payload_of(std::span<const std::byte> serialized) noexcept {
  return serialized.subspan(format::preamble_size, serialized.size() - format::overhead);
}

namespace detail {
inline absl::string_view family_name(sketch_family f) {
  switch (f) {
    case sketch_family::count_min:
      return "count_min";
    case sketch_family::count_sketch:
      return "count_sketch";
    case sketch_family::univmon:
      return "univmon";
  }
  return "unknown";
}
}  // namespace detail

// Validates a serialized sketch's preamble for a reader expecting `family` with counters of code
// `expected_counter`: length (at least preamble + checksum), magic, version, family, counter
// code, unknown flags, dimensions. It does not check the payload size or the checksum (families
// lay out payloads differently): see check_payload_size and verify_checksum.
inline absl::StatusOr<preamble> parse_preamble(std::span<const std::byte> in, sketch_family family,
                                               u8 expected_counter) {
  const absl::string_view name = detail::family_name(family);
  if (in.size() < format::overhead) {
    return absl::InvalidArgumentError(absl::StrCat(name, "::deserialize: truncated input (",
                                                   in.size(),
                                                   " bytes; a serialized sketch has at "
                                                   "least ",
                                                   format::overhead, ")"));
  }
  const result<preamble> r = read_preamble(in);
  if (!r) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "::deserialize: bad magic (not a serialized innet sketch)"));
  }
  const preamble& p = *r;
  if (p.version != format::version) {
    return absl::InvalidArgumentError(absl::StrCat(name, "::deserialize: unsupported version ",
                                                   p.version, " (this reader knows version ",
                                                   format::version, ")"));
  }
  if (p.family != family) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "::deserialize: wrong sketch family ", static_cast<int>(p.family), " (",
                     detail::family_name(p.family), "), expected ", static_cast<int>(family)));
  }
  if (p.counter_code != expected_counter) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, "::deserialize: counter type code 0x", absl::Hex(p.counter_code),
        " does not match this sketch's counter type (0x", absl::Hex(expected_counter), ")"));
  }
  if ((p.flags & ~format::known_flags) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "::deserialize: unknown flags 0x", absl::Hex(p.flags)));
  }
  if (p.depth == 0 || p.width == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, "::deserialize: zero dimension (depth ",
                                                   p.depth, ", width ", p.width, ")"));
  }
  if (p.depth > format::max_depth) {
    return absl::InvalidArgumentError(absl::StrCat(name, "::deserialize: depth ", p.depth,
                                                   " exceeds the maximum ", format::max_depth));
  }
  return p;
}

// Checks that the payload holds exactly `expected` bytes; `expected` overflowing is the caller's
// to rule out (depth <= 64 and width < 2^32 keep depth * width * 8 below 2^41).
inline absl::Status check_payload_size(std::span<const std::byte> in, sketch_family family,
                                       u64 expected) {
  const u64 actual = in.size() - format::overhead;
  if (actual != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(detail::family_name(family), "::deserialize: payload is ", actual,
                     " bytes, the preamble's "
                     "dimensions need ",
                     expected, actual < expected ? " (truncated)" : " (trailing bytes)"));
  }
  return absl::OkStatus();
}

inline absl::Status verify_checksum(std::span<const std::byte> in, sketch_family family) {
  const usize end = in.size() - format::checksum_size;
  const u64 stored = load_be<u64>(in.data() + end);
  const u64 computed = checksum_of(in.first(end));
  if (stored != computed) {
    return absl::InvalidArgumentError(absl::StrCat(
        detail::family_name(family), "::deserialize: checksum mismatch (stored 0x",
        absl::Hex(stored), ", computed 0x", absl::Hex(computed), "): the input is corrupt"));
  }
  return absl::OkStatus();
}

// Counters to and from the payload, big-endian, row-major.
template <class Counter>
void store_counters(std::span<std::byte> out, std::span<const Counter> counters) noexcept {
  using U = std::make_unsigned_t<Counter>;
  for (usize i = 0; i < counters.size(); ++i)
    store_be<U>(out.data() + i * sizeof(Counter), static_cast<U>(counters[i]));
}

template <class Counter>
void load_counters(std::span<const std::byte> in, std::span<Counter> counters) noexcept {
  using U = std::make_unsigned_t<Counter>;
  for (usize i = 0; i < counters.size(); ++i)
    counters[i] = static_cast<Counter>(load_be<U>(in.data() + i * sizeof(Counter)));
}

// The whole check for families whose payload is exactly depth * width counters (Count-Min,
// Count Sketch): preamble, payload size, checksum.
template <class Counter>
absl::StatusOr<preamble> parse_counter_sketch(std::span<const std::byte> in, sketch_family family) {
  absl::StatusOr<preamble> p = parse_preamble(in, family, counter_code<Counter>());
  if (!p.ok()) return p.status();
  const u64 expected = u64{p->depth} * p->width * sizeof(Counter);
  if (absl::Status s = check_payload_size(in, family, expected); !s.ok()) return s;
  if (absl::Status s = verify_checksum(in, family); !s.ok()) return s;
  return p;
}

}  // namespace innet::sketch
