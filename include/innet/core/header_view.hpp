// Bounds-checked views of fixed-layout protocol headers.
//
// A format is a struct that names its minimum size and its fields:
//
//   struct udp_format {
//     static constexpr std::size_t size = 8;
//     using source_port = be_field<0, 2>;       // bytes [0, 2), big-endian
//     ...
//   };
//
// `header_view<udp_format>::parse(bytes)` checks once that `bytes` holds at least
// `size` bytes and returns errc::truncated otherwise; after that every `get<Field>()`
// is an unchecked load, and a static_assert proves at compile time that no field
// lies beyond `size`. So a view can never read past the end of its span, and the
// hot path pays for one comparison per header, not one per field.
//
// Field layouts are constexpr data (offset, width, bit range), which is what lets
// the P4 and Verilog twins generate or check their constants against this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "innet/core/result.hpp"
#include "innet/core/wire.hpp"

namespace innet {

namespace detail {
template <unsigned Bits>
using uint_for_bits = std::conditional_t<
    (Bits <= 8), std::uint8_t,
    std::conditional_t<(Bits <= 16), std::uint16_t,
                       std::conditional_t<(Bits <= 32), std::uint32_t, std::uint64_t>>>;
}  // namespace detail

// A big-endian field of `Bytes` bytes at byte `Offset`. For sub-byte fields (IPv4
// version/IHL, flags), `Shift` and `Bits` select bits of the big-endian integer,
// counted from its least significant bit.
template <std::size_t Offset, std::size_t Bytes, unsigned Shift = 0, unsigned Bits = Bytes * 8>
requires(Bytes >= 1 && Bytes <= 8 && Bits >= 1 && Shift + Bits <= Bytes * 8) struct be_field {
  using value_type = detail::uint_for_bits<Bits>;
  static constexpr std::size_t offset = Offset;
  static constexpr std::size_t size = Bytes;
  static constexpr unsigned shift = Shift;
  static constexpr unsigned bits = Bits;
  static constexpr std::uint64_t mask =
      Bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << Bits) - 1;

  static constexpr value_type load(const std::byte* header) noexcept {
    return static_cast<value_type>((load_be_bytes<Bytes>(header + Offset) >> Shift) & mask);
  }
  // Read-modify-write so that neighbouring bit fields in the same bytes survive.
  // Bits of `v` above the field's width are dropped.
  static constexpr void store(std::byte* header, value_type v) noexcept {
    std::uint64_t word = load_be_bytes<Bytes>(header + Offset);
    word = (word & ~(mask << Shift)) | ((std::uint64_t{v} & mask) << Shift);
    store_be_bytes<Bytes>(header + Offset, word);
  }
};

template <class Format>
concept header_format = requires {
  { Format::size } -> std::convertible_to<std::size_t>;
};

template <class Field, class Format>
concept field_of = header_format<Format> &&(Field::offset + Field::size <= Format::size);

// A read-only view of one header at the front of `bytes()`.
template <header_format Format>
class header_view {
 public:
  using format = Format;

  constexpr header_view() = default;

  static constexpr result<header_view> parse(std::span<const std::byte> bytes) noexcept {
    if (bytes.size() < Format::size) return errc::truncated;
    return header_view(bytes);
  }

  template <class Field>
  requires field_of<Field, Format>
  constexpr typename Field::value_type get() const noexcept { return Field::load(bytes_.data()); }

  // Everything from the start of the header to the end of the parsed span.
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }
  // The fixed part of the header.
  constexpr std::span<const std::byte> header() const noexcept {
    return bytes_.first(Format::size);
  }
  // What follows the fixed part (a format with options narrows this itself).
  constexpr std::span<const std::byte> rest() const noexcept {
    return bytes_.subspan(Format::size);
  }

 private:
  constexpr explicit header_view(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}
  std::span<const std::byte> bytes_{};
};

// A writable view for building headers in place; same checks as header_view.
template <header_format Format>
class header_writer {
 public:
  using format = Format;

  constexpr header_writer() = default;

  static constexpr result<header_writer> over(std::span<std::byte> bytes) noexcept {
    if (bytes.size() < Format::size) return errc::truncated;
    return header_writer(bytes);
  }

  template <class Field>
  requires field_of<Field, Format>
  constexpr header_writer& set(typename Field::value_type v) noexcept {
    Field::store(bytes_.data(), v);
    return *this;
  }

  template <class Field>
  requires field_of<Field, Format>
  constexpr typename Field::value_type get() const noexcept { return Field::load(bytes_.data()); }

  constexpr std::span<std::byte> bytes() const noexcept { return bytes_; }
  constexpr std::span<std::byte> header() const noexcept { return bytes_.first(Format::size); }
  constexpr std::span<std::byte> rest() const noexcept { return bytes_.subspan(Format::size); }

 private:
  constexpr explicit header_writer(std::span<std::byte> bytes) noexcept : bytes_(bytes) {}
  std::span<std::byte> bytes_{};
};

}  // namespace innet
