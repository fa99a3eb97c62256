// The software RNIC's wire format: one request or response per UDP datagram.
//
// A soft-RNIC client (innet::host::soft_rnic_region) and the NIC-like service thread
// of a server (innet::host::soft_rnic) exchange these messages. The layout follows
// RoCEv2 in spirit (a base header like the BTH, an access header like the RETH, an
// atomic header like the AtomicETH, an acknowledgement like the AETH) but is not
// RoCE: it rides on plain UDP sockets so that it runs without RDMA hardware.
//
// Byte order: network (big-endian) for every field. Atomic operands travel
// big-endian and are converted; the words they act on stay host-endian in memory.
//
// Every message starts with the base header (16 bytes):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |       magic 0x5352 ("SR")     |  version (1)  |    opcode     |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           sequence                            |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                      session (64 bits)                        |  8
//   +                                                               +
//   |                                                               | 12
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Requests (opcode < 0x80). `connect` is the base header alone (sequence 0). The
// memory operations add the access header (24 bytes, at byte 16):
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        rkey (64 bits)                         | 16
//   +                                                               +
//   |                                                               | 20
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  offset in the region (64 bits)               | 24
//   +                                                               +
//   |                                                               | 28
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                            length                             | 32
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        reserved (zero)                        | 36
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   read          40 bytes; `length` bytes are asked for
//   write         40 bytes + exactly `length` bytes of data
//   fetch_add     40 bytes + atomic header; `length` is 8; `swap` is zero
//   compare_swap  40 bytes + atomic header; `length` is 8
//
// The atomic header (16 bytes, at byte 40):
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |        operand: addend (fetch_add) or expected (cmp_swap)    | 40
//   +                                                               +
//   |                                                               | 44
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 swap: desired value (cmp_swap)                | 48
//   +                                                               +
//   |                                                               | 52
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Responses carry the request's opcode with the top bit set, echo its sequence
// and session, and add the acknowledgement header (4 bytes, at byte 16):
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   syndrome    |                reserved (zero)                | 16
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A response whose syndrome is not `ok` (a NAK) is those 20 bytes and nothing else.
// An `ok` response continues by opcode:
//
//   connect_response       + responder depth (16 bits) + max datagram (16 bits)
//   read_response          + the bytes read (as many as the request's length)
//   write_response         nothing more
//   fetch_add_response,
//   compare_swap_response  + the word's original value (64 bits)
//
// A sequence_error NAK is the one response whose sequence is not the request's: it
// carries the sequence the responder expects next (see soft_rnic.hpp).
//
// The parser accepts exactly the canonical encoding (known opcode and syndrome,
// reserved bits zero, no trailing bytes), so whatever it accepts re-encodes to the
// same bytes; every failure is an errc and nothing is read beyond the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/header_view.hpp"
#include "innet/core/result.hpp"

namespace innet::host {

inline constexpr std::uint16_t soft_rnic_magic = 0x5352;  // "SR"
inline constexpr std::uint8_t soft_rnic_version = 1;
// The largest datagram either side sends or accepts: a jumbo frame's UDP payload.
// Larger operations are split by the client (soft_rnic.hpp).
inline constexpr std::size_t soft_rnic_max_datagram = 9000;

enum class soft_rnic_opcode : std::uint8_t {
  connect = 0x01,
  read = 0x02,
  write = 0x03,
  fetch_add = 0x04,
  compare_swap = 0x05,
  connect_response = 0x81,
  read_response = 0x82,
  write_response = 0x83,
  fetch_add_response = 0x84,
  compare_swap_response = 0x85,
};

inline constexpr std::uint8_t soft_rnic_response_bit = 0x80;

constexpr bool is_response(soft_rnic_opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & soft_rnic_response_bit) != 0;
}

// The response opcode that answers request `op`.
constexpr soft_rnic_opcode response_to(soft_rnic_opcode op) noexcept {
  return static_cast<soft_rnic_opcode>(static_cast<std::uint8_t>(op) | soft_rnic_response_bit);
}

constexpr bool is_known(soft_rnic_opcode op) noexcept {
  const auto request = static_cast<std::uint8_t>(op) & ~soft_rnic_response_bit;
  return request >= static_cast<std::uint8_t>(soft_rnic_opcode::connect) &&
         request <= static_cast<std::uint8_t>(soft_rnic_opcode::compare_swap);
}

constexpr bool is_atomic(soft_rnic_opcode op) noexcept {
  return op == soft_rnic_opcode::fetch_add || op == soft_rnic_opcode::compare_swap;
}

// Why a responder refused a request, or `ok`.
enum class soft_rnic_syndrome : std::uint8_t {
  ok = 0,
  access_error = 1,     // no region has this rkey (never registered, or deregistered)
  out_of_range = 2,     // [offset, offset + length) is not inside the region
  misaligned = 3,       // an atomic's offset is not 8-byte aligned
  invalid_request = 4,  // a read longer than one response datagram can carry
  sequence_error = 5,   // a request arrived ahead of a lost one; resend from `sequence`
  unknown_session = 6,  // the responder holds no state for this session
};

constexpr bool is_known(soft_rnic_syndrome s) noexcept {
  return static_cast<std::uint8_t>(s) <=
         static_cast<std::uint8_t>(soft_rnic_syndrome::unknown_session);
}

// What a NAK means to the caller of a memory-region operation.
constexpr errc to_errc(soft_rnic_syndrome s) noexcept {
  switch (s) {
    case soft_rnic_syndrome::ok:
      return errc::ok;
    case soft_rnic_syndrome::out_of_range:
      return errc::out_of_range;
    case soft_rnic_syndrome::misaligned:
      return errc::misaligned;
    case soft_rnic_syndrome::unknown_session:
    case soft_rnic_syndrome::sequence_error:
      return errc::unavailable;
    case soft_rnic_syndrome::access_error:
    case soft_rnic_syndrome::invalid_request:
      break;
  }
  return errc::remote_error;
}

struct soft_rnic_base_format {
  static constexpr std::size_t size = 16;
  using magic = be_field<0, 2>;
  using version = be_field<2, 1>;
  using opcode = be_field<3, 1>;
  using sequence = be_field<4, 4>;
  using session = be_field<8, 8>;
};

struct soft_rnic_access_format {
  static constexpr std::size_t size = 24;
  using rkey = be_field<0, 8>;
  using offset = be_field<8, 8>;
  using length = be_field<16, 4>;
  using reserved = be_field<20, 4>;
};

struct soft_rnic_atomic_format {
  static constexpr std::size_t size = 16;
  using operand = be_field<0, 8>;
  using swap = be_field<8, 8>;
};

struct soft_rnic_ack_format {
  static constexpr std::size_t size = 4;
  using syndrome = be_field<0, 1>;
  using reserved = be_field<1, 3>;
};

struct soft_rnic_connect_ack_format {
  static constexpr std::size_t size = 4;
  using responder_depth = be_field<0, 2>;
  using max_datagram = be_field<2, 2>;
};

struct soft_rnic_atomic_ack_format {
  static constexpr std::size_t size = 8;
  using original = be_field<0, 8>;
};

// Sizes of each message before its data (write requests, read responses) or in all.
inline constexpr std::size_t soft_rnic_connect_size = soft_rnic_base_format::size;
inline constexpr std::size_t soft_rnic_access_size =
    soft_rnic_base_format::size + soft_rnic_access_format::size;
inline constexpr std::size_t soft_rnic_atomic_size =
    soft_rnic_access_size + soft_rnic_atomic_format::size;
inline constexpr std::size_t soft_rnic_ack_size =
    soft_rnic_base_format::size + soft_rnic_ack_format::size;
inline constexpr std::size_t soft_rnic_connect_ack_size =
    soft_rnic_ack_size + soft_rnic_connect_ack_format::size;
inline constexpr std::size_t soft_rnic_atomic_ack_size =
    soft_rnic_ack_size + soft_rnic_atomic_ack_format::size;
inline constexpr std::size_t soft_rnic_max_header_size = soft_rnic_atomic_size;

static_assert(soft_rnic_access_size == 40 && soft_rnic_atomic_size == 56);
static_assert(soft_rnic_ack_size == 20 && soft_rnic_atomic_ack_size == 28);
static_assert(soft_rnic_max_datagram <= 0xFFFF, "max_datagram travels in 16 bits");

// One message, decoded. Fields that the opcode does not carry are zero.
struct soft_rnic_message {
  soft_rnic_opcode opcode = soft_rnic_opcode::connect;
  std::uint32_t sequence = 0;
  std::uint64_t session = 0;
  // Memory-operation requests.
  std::uint64_t rkey = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::uint64_t operand = 0;  // fetch_add: addend; compare_swap: expected
  std::uint64_t swap = 0;     // compare_swap: desired
  // Responses.
  soft_rnic_syndrome syndrome = soft_rnic_syndrome::ok;
  std::uint64_t original = 0;         // atomic responses: the word before the operation
  std::uint16_t responder_depth = 0;  // connect response: responses the server keeps per session
  std::uint16_t max_datagram = 0;     // connect response: the largest datagram it accepts
  // Write-request data or read-response data; a view into the datagram when parsed.
  std::span<const std::byte> payload{};
};

namespace detail {

// The bytes before the payload, or 0 when the fields are not a valid message.
constexpr std::size_t soft_rnic_header_size(const soft_rnic_message& m) noexcept {
  if (!is_known(m.opcode)) return 0;
  if (is_response(m.opcode)) {
    if (!is_known(m.syndrome)) return 0;
    if (m.syndrome != soft_rnic_syndrome::ok) return soft_rnic_ack_size;
    switch (m.opcode) {
      case soft_rnic_opcode::connect_response:
        return soft_rnic_connect_ack_size;
      case soft_rnic_opcode::fetch_add_response:
      case soft_rnic_opcode::compare_swap_response:
        return soft_rnic_atomic_ack_size;
      default:
        return soft_rnic_ack_size;
    }
  }
  if (m.opcode == soft_rnic_opcode::connect) return soft_rnic_connect_size;
  return is_atomic(m.opcode) ? soft_rnic_atomic_size : soft_rnic_access_size;
}

// Whether `m` may carry `m.payload`, and every field fits the canonical encoding.
constexpr bool soft_rnic_consistent(const soft_rnic_message& m) noexcept {
  const bool has_payload = !m.payload.empty();
  switch (m.opcode) {
    case soft_rnic_opcode::connect:
      return m.sequence == 0 && !has_payload;
    case soft_rnic_opcode::read:
      return !has_payload;
    case soft_rnic_opcode::write:
      return m.length == m.payload.size();
    case soft_rnic_opcode::fetch_add:
      return m.length == 8 && m.swap == 0 && !has_payload;
    case soft_rnic_opcode::compare_swap:
      return m.length == 8 && !has_payload;
    case soft_rnic_opcode::read_response:
      return m.syndrome == soft_rnic_syndrome::ok || !has_payload;
    default:
      return !has_payload;
  }
}

}  // namespace detail

// The size `m` takes on the wire, or 0 when it is not a valid message.
constexpr std::size_t soft_rnic_encoded_size(const soft_rnic_message& m) noexcept {
  if (!detail::soft_rnic_consistent(m)) return 0;
  const std::size_t header = detail::soft_rnic_header_size(m);
  return header == 0 ? 0 : header + m.payload.size();
}

// Writes every header of `m` into the front of `out` and returns their size; the
// payload (m.payload.size() bytes, counted in the length fields) is the caller's to
// place right after, which lets a sender gather it from where it lies (a
// scatter-gather send, a region read in place). errc::malformed when `m` is not a
// valid message, errc::truncated when `out` cannot hold the headers.
constexpr result<std::size_t> encode_soft_rnic_header(std::span<std::byte> out,
                                                      const soft_rnic_message& m) noexcept {
  const std::size_t total = soft_rnic_encoded_size(m);
  if (total == 0) return errc::malformed;
  const std::size_t header = total - m.payload.size();
  if (out.size() < header) return errc::truncated;
  for (std::size_t i = 0; i < header; ++i)
    out[i] = std::byte{0};

  auto base = *header_writer<soft_rnic_base_format>::over(out);
  base.set<soft_rnic_base_format::magic>(soft_rnic_magic)
      .set<soft_rnic_base_format::version>(soft_rnic_version)
      .set<soft_rnic_base_format::opcode>(static_cast<std::uint8_t>(m.opcode))
      .set<soft_rnic_base_format::sequence>(m.sequence)
      .set<soft_rnic_base_format::session>(m.session);
  const auto rest = out.subspan(soft_rnic_base_format::size);

  if (is_response(m.opcode)) {
    auto ack = *header_writer<soft_rnic_ack_format>::over(rest);
    ack.set<soft_rnic_ack_format::syndrome>(static_cast<std::uint8_t>(m.syndrome));
    if (m.syndrome != soft_rnic_syndrome::ok) return header;
    if (m.opcode == soft_rnic_opcode::connect_response) {
      auto limits = *header_writer<soft_rnic_connect_ack_format>::over(ack.rest());
      limits.set<soft_rnic_connect_ack_format::responder_depth>(m.responder_depth)
          .set<soft_rnic_connect_ack_format::max_datagram>(m.max_datagram);
    } else if (header == soft_rnic_atomic_ack_size) {
      auto atomic = *header_writer<soft_rnic_atomic_ack_format>::over(ack.rest());
      atomic.set<soft_rnic_atomic_ack_format::original>(m.original);
    }
    return header;
  }
  if (m.opcode == soft_rnic_opcode::connect) return header;

  auto access = *header_writer<soft_rnic_access_format>::over(rest);
  access.set<soft_rnic_access_format::rkey>(m.rkey)
      .set<soft_rnic_access_format::offset>(m.offset)
      .set<soft_rnic_access_format::length>(m.length);
  if (is_atomic(m.opcode)) {
    auto atomic = *header_writer<soft_rnic_atomic_format>::over(access.rest());
    atomic.set<soft_rnic_atomic_format::operand>(m.operand).set<soft_rnic_atomic_format::swap>(
        m.swap);
  }
  return header;
}

// Writes the whole of `m`, payload included, and returns its size.
constexpr result<std::size_t> encode_soft_rnic_message(std::span<std::byte> out,
                                                       const soft_rnic_message& m) noexcept {
  const std::size_t total = soft_rnic_encoded_size(m);
  if (total == 0) return errc::malformed;
  if (out.size() < total) return errc::truncated;
  const auto header = encode_soft_rnic_header(out, m);
  if (!header) return header;
  for (std::size_t i = 0; i < m.payload.size(); ++i)
    out[*header + i] = m.payload[i];
  return *header + m.payload.size();
}

// Decodes one datagram. errc::truncated: shorter than its opcode needs;
// errc::malformed: wrong magic, unknown opcode or syndrome, non-zero reserved bits,
// inconsistent lengths or trailing bytes; errc::unsupported: another version.
constexpr result<soft_rnic_message> parse_soft_rnic_message(
    std::span<const std::byte> datagram) noexcept {
  const auto base = header_view<soft_rnic_base_format>::parse(datagram);
  if (!base) return base.error();
  if (base->get<soft_rnic_base_format::magic>() != soft_rnic_magic) return errc::malformed;
  if (base->get<soft_rnic_base_format::version>() != soft_rnic_version) return errc::unsupported;
  soft_rnic_message m;
  m.opcode = static_cast<soft_rnic_opcode>(base->get<soft_rnic_base_format::opcode>());
  if (!is_known(m.opcode)) return errc::malformed;
  m.sequence = base->get<soft_rnic_base_format::sequence>();
  m.session = base->get<soft_rnic_base_format::session>();
  const auto rest = base->rest();

  if (is_response(m.opcode)) {
    const auto ack = header_view<soft_rnic_ack_format>::parse(rest);
    if (!ack) return ack.error();
    if (ack->get<soft_rnic_ack_format::reserved>() != 0) return errc::malformed;
    m.syndrome = static_cast<soft_rnic_syndrome>(ack->get<soft_rnic_ack_format::syndrome>());
    if (!is_known(m.syndrome)) return errc::malformed;
    const auto body = ack->rest();
    if (m.syndrome != soft_rnic_syndrome::ok) {
      if (!body.empty()) return errc::malformed;
      return m;
    }
    switch (m.opcode) {
      case soft_rnic_opcode::connect_response: {
        const auto c = header_view<soft_rnic_connect_ack_format>::parse(body);
        if (!c) return c.error();
        if (!c->rest().empty()) return errc::malformed;
        m.responder_depth = c->get<soft_rnic_connect_ack_format::responder_depth>();
        m.max_datagram = c->get<soft_rnic_connect_ack_format::max_datagram>();
        return m;
      }
      case soft_rnic_opcode::read_response:
        m.payload = body;
        return m;
      case soft_rnic_opcode::write_response:
        if (!body.empty()) return errc::malformed;
        return m;
      default: {
        const auto a = header_view<soft_rnic_atomic_ack_format>::parse(body);
        if (!a) return a.error();
        if (!a->rest().empty()) return errc::malformed;
        m.original = a->get<soft_rnic_atomic_ack_format::original>();
        return m;
      }
    }
  }

  if (m.opcode == soft_rnic_opcode::connect) {
    if (!rest.empty()) return errc::malformed;
    if (m.sequence != 0) return errc::malformed;
    return m;
  }
  const auto access = header_view<soft_rnic_access_format>::parse(rest);
  if (!access) return access.error();
  if (access->get<soft_rnic_access_format::reserved>() != 0) return errc::malformed;
  m.rkey = access->get<soft_rnic_access_format::rkey>();
  m.offset = access->get<soft_rnic_access_format::offset>();
  m.length = access->get<soft_rnic_access_format::length>();
  const auto body = access->rest();
  switch (m.opcode) {
    case soft_rnic_opcode::read:
      if (!body.empty()) return errc::malformed;
      return m;
    case soft_rnic_opcode::write:
      if (body.size() < m.length) return errc::truncated;
      if (body.size() > m.length) return errc::malformed;
      m.payload = body;
      return m;
    default: {
      const auto atomic = header_view<soft_rnic_atomic_format>::parse(body);
      if (!atomic) return atomic.error();
      if (!atomic->rest().empty() || m.length != 8) return errc::malformed;
      m.operand = atomic->get<soft_rnic_atomic_format::operand>();
      m.swap = atomic->get<soft_rnic_atomic_format::swap>();
      if (m.opcode == soft_rnic_opcode::fetch_add && m.swap != 0) return errc::malformed;
      return m;
    }
  }
}

}  // namespace innet::host
