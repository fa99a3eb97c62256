// RoCEv2 frames for the reliable-connected (RC) operations the DTA translator issues: RDMA
// WRITE (only, first, middle, last), FETCH_ADD and CMP_SWAP requests, and the ACK and atomic
// ACK that answer them. Byte order: network (big-endian) for every header field; the ICRC is
// sent least significant byte first, like the Ethernet FCS.
//
//   Ethernet | IPv4 (no options) | UDP, destination port 4791 | BTH | ext. header | payload
//   | pad | ICRC
//
// Base Transport Header (BTH, 12 bytes):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    opcode     |S|M|Pad| TVer  |        partition key          |  0
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |F|B|  resv6    |          destination queue pair               |  4
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |A|   resv7     |       packet sequence number (PSN)            |  8
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   S solicited event, M migration request, Pad bytes appended to the payload to reach a
//   multiple of 4, TVer transport version (0), F/B forward/backward explicit congestion
//   notification, A acknowledge request.
//
// Extended headers, by opcode:
//
//   RETH (16 bytes; WRITE first and only)   virtual address (64) | rkey (32) | DMA length (32)
//   AtomicETH (28 bytes; FETCH_ADD, CMP_SWAP) virtual address (64) | rkey (32)
//                                           | swap or add data (64) | compare data (64)
//   AETH (4 bytes; ACK, atomic ACK)         syndrome (8) | message sequence number (24)
//   AtomicAckETH (8 bytes; atomic ACK)      original remote data (64)
//
// The invariant CRC (ICRC; InfiniBand Architecture annex A17, RoCEv2) is CRC-32 (the
// Ethernet polynomial, reflected, initial value and final XOR all ones) over
//   8 bytes of 0xFF (standing for the InfiniBand LRH that RoCEv2 lacks),
//   the IPv4 header with TOS, TTL and header checksum replaced by all ones,
//   the UDP header with its checksum replaced by all ones,
//   the BTH with its F/B/resv6 byte replaced by all ones,
//   and everything after the BTH up to the ICRC (extension headers, payload, pad),
// so that routers may rewrite the masked fields without breaking it. This matches Linux's
// rdma_rxe (rxe_icrc.c), which starts its CRC from the register left by the eight 0xFF bytes
// and stores the complemented result in host (little-endian) order, and which drops frames
// whose ICRC is wrong. The translator in the original DTA did not compute it.
//
// The writer fills in every length and checksum (IPv4 header, UDP, ICRC). The parser checks
// the Ethernet/IPv4/UDP stack (net::parse_udp_frame), the port, the opcode and transport
// version, each extension header's presence, the pad count, the lengths implied by the
// opcode, and the ICRC; every failure is an errc (truncated, unsupported, malformed,
// checksum_mismatch) and nothing is read beyond the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/crc.hpp"
#include "innet/core/errc.hpp"
#include "innet/core/header_view.hpp"
#include "innet/core/result.hpp"
#include "innet/net/udp_frame.hpp"

namespace innet::telemetry::wire {

inline constexpr std::uint16_t rocev2_udp_port = 4791;
inline constexpr std::uint16_t rocev2_default_pkey = 0xFFFF;
inline constexpr std::size_t rocev2_icrc_size = 4;

// RC opcodes (transport 000 in the top three bits).
enum class rocev2_opcode : std::uint8_t {
  write_first = 0x06,
  write_middle = 0x07,
  write_last = 0x08,
  write_only = 0x0A,
  acknowledge = 0x11,
  atomic_acknowledge = 0x12,
  compare_swap = 0x13,
  fetch_add = 0x14,
};

constexpr bool is_known(rocev2_opcode op) noexcept {
  switch (op) {
    case rocev2_opcode::write_first:
    case rocev2_opcode::write_middle:
    case rocev2_opcode::write_last:
    case rocev2_opcode::write_only:
    case rocev2_opcode::acknowledge:
    case rocev2_opcode::atomic_acknowledge:
    case rocev2_opcode::compare_swap:
    case rocev2_opcode::fetch_add:
      return true;
  }
  return false;
}
constexpr bool has_reth(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::write_first || op == rocev2_opcode::write_only;
}
constexpr bool has_atomic_eth(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::compare_swap || op == rocev2_opcode::fetch_add;
}
constexpr bool has_aeth(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::acknowledge || op == rocev2_opcode::atomic_acknowledge;
}
constexpr bool has_atomic_ack_eth(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::atomic_acknowledge;
}
constexpr bool carries_payload(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::write_first || op == rocev2_opcode::write_middle ||
         op == rocev2_opcode::write_last || op == rocev2_opcode::write_only;
}

// A packet that more of the same message follows: IBA gives it a pad count of 0 and a payload
// of whole 4-byte words (only the last packet can end on a partial word).
constexpr bool continues_message(rocev2_opcode op) noexcept {
  return op == rocev2_opcode::write_first || op == rocev2_opcode::write_middle;
}

struct bth_format {
  static constexpr std::size_t size = 12;
  using opcode = be_field<0, 1>;
  using solicited_event = be_field<1, 1, 7, 1>;
  using migration_request = be_field<1, 1, 6, 1>;
  using pad_count = be_field<1, 1, 4, 2>;
  using transport_version = be_field<1, 1, 0, 4>;
  using pkey = be_field<2, 2>;
  using fecn = be_field<4, 1, 7, 1>;
  using becn = be_field<4, 1, 6, 1>;
  using resv6 = be_field<4, 1, 0, 6>;
  using variant_byte = be_field<4, 1>;  // F, B and resv6: what the ICRC masks
  using dest_qp = be_field<5, 3>;
  using ack_request = be_field<8, 1, 7, 1>;
  using resv7 = be_field<8, 1, 0, 7>;
  using psn = be_field<9, 3>;
};

struct reth_format {
  static constexpr std::size_t size = 16;
  using virtual_address = be_field<0, 8>;
  using rkey = be_field<8, 4>;
  using dma_length = be_field<12, 4>;
};

struct atomic_eth_format {
  static constexpr std::size_t size = 28;
  using virtual_address = be_field<0, 8>;
  using rkey = be_field<8, 4>;
  using swap_add = be_field<12, 8>;
  using compare = be_field<20, 8>;
};

struct aeth_format {
  static constexpr std::size_t size = 4;
  using syndrome = be_field<0, 1>;
  using msn = be_field<1, 3>;
};

struct atomic_ack_eth_format {
  static constexpr std::size_t size = 8;
  using original = be_field<0, 8>;
};

// Bytes of extension headers that follow the BTH for `op`.
constexpr std::size_t rocev2_extension_size(rocev2_opcode op) noexcept {
  return (has_reth(op) ? reth_format::size : 0) +
         (has_atomic_eth(op) ? atomic_eth_format::size : 0) +
         (has_aeth(op) ? aeth_format::size : 0) +
         (has_atomic_ack_eth(op) ? atomic_ack_eth_format::size : 0);
}

// AETH syndromes: the top three bits say ACK (000), RNR NAK (001) or NAK (011).
inline constexpr std::uint8_t aeth_ack_unlimited_credit = 0x1F;
inline constexpr std::uint8_t aeth_nak_psn_sequence_error = 0x60;
inline constexpr std::uint8_t aeth_nak_remote_access_error = 0x62;
constexpr bool aeth_is_ack(std::uint8_t syndrome) noexcept {
  return (syndrome >> 5) == 0;
}
constexpr bool aeth_is_nak(std::uint8_t syndrome) noexcept {
  return (syndrome >> 5) == 3;
}

struct reth_fields {
  std::uint64_t virtual_address = 0;
  std::uint32_t rkey = 0;
  std::uint32_t dma_length = 0;
  friend constexpr bool operator==(const reth_fields&, const reth_fields&) = default;
};

struct atomic_eth_fields {
  std::uint64_t virtual_address = 0;
  std::uint32_t rkey = 0;
  std::uint64_t swap_add = 0;  // the addend (FETCH_ADD) or the value to store (CMP_SWAP)
  std::uint64_t compare = 0;   // CMP_SWAP's expected value; 0 for FETCH_ADD
  friend constexpr bool operator==(const atomic_eth_fields&, const atomic_eth_fields&) = default;
};

struct aeth_fields {
  std::uint8_t syndrome = aeth_ack_unlimited_credit;
  std::uint32_t msn = 0;  // 24 bits
  friend constexpr bool operator==(const aeth_fields&, const aeth_fields&) = default;
};

// One RoCEv2 message (BTH onward), decoded. Headers the opcode lacks stay at their defaults.
struct rocev2_message {
  rocev2_opcode opcode = rocev2_opcode::write_only;
  bool solicited_event = false;
  bool migration_request = false;
  std::uint16_t pkey = rocev2_default_pkey;
  bool fecn = false;
  bool becn = false;
  std::uint32_t dest_qp = 0;  // 24 bits
  bool ack_request = false;
  std::uint32_t psn = 0;  // 24 bits
  reth_fields reth;
  atomic_eth_fields atomic;
  aeth_fields aeth;
  std::uint64_t atomic_original = 0;   // AtomicAckETH
  std::span<const std::byte> payload;  // without the pad
};

// Bytes from the BTH to the end of the ICRC.
constexpr std::size_t rocev2_message_size(const rocev2_message& m) noexcept {
  const std::size_t pad = (4 - m.payload.size() % 4) % 4;
  return bth_format::size + rocev2_extension_size(m.opcode) + m.payload.size() + pad +
         rocev2_icrc_size;
}

constexpr std::size_t rocev2_frame_size(const rocev2_message& m) noexcept {
  return net::udp_frame_overhead + rocev2_message_size(m);
}

namespace detail {

inline constexpr crc_table icrc_table = make_crc_table(crc32_iso_hdlc);

constexpr std::uint32_t icrc_step(std::uint32_t reg, std::byte b) noexcept {
  return static_cast<std::uint32_t>(
             icrc_table.entries[(reg ^ std::to_integer<std::uint32_t>(b)) & 0xFF]) ^
         (reg >> 8);
}

}  // namespace detail

// The ICRC of a RoCEv2 packet over IPv4, given the bytes from the start of the IPv4 header
// (20 bytes, no options) to the end of the pad, i.e. everything the ICRC covers. The result
// goes on the wire least significant byte first. errc::truncated if the span cannot hold the
// IPv4, UDP and BTH headers.
constexpr result<std::uint32_t> rocev2_icrc(std::span<const std::byte> ip_to_pad) noexcept {
  constexpr std::size_t udp_at = net::ipv4_format::size;
  constexpr std::size_t bth_at = udp_at + net::udp_format::size;
  if (ip_to_pad.size() < bth_at + bth_format::size) return errc::truncated;
  constexpr std::byte ones{0xFF};
  std::uint32_t reg = 0xFFFFFFFF;
  for (int i = 0; i < 8; ++i)
    reg = detail::icrc_step(reg, ones);
  for (std::size_t i = 0; i < ip_to_pad.size(); ++i) {
    const bool masked = i == 1 || i == 8 || i == 10 || i == 11 ||  // TOS, TTL, checksum
                        i == udp_at + 6 || i == udp_at + 7 ||      // UDP checksum
                        i == bth_at + 4;                           // BTH F/B/resv6
    reg = detail::icrc_step(reg, masked ? ones : ip_to_pad[i]);
  }
  return ~reg;
}

// Writes `m` in a frame from `ep` (whose destination port is replaced by 4791; the source
// port is the flow's entropy) and returns the frame's length. The pad count and every length
// and checksum are derived. errc::out_of_range when a 24-bit field (QP, PSN, MSN) overflows
// or the frame exceeds one IPv4 datagram; errc::malformed when the payload does not suit the
// opcode (atomics and ACKs carry none; a WRITE only's DMA length is its payload's size, a
// WRITE first's is at least that; a WRITE first or middle carries whole 4-byte words, since
// IBA allows a pad only in a message's last packet and receivers such as rxe drop others);
// errc::unsupported for an unknown opcode;
// errc::truncated when `out` is too small.
constexpr result<std::size_t> write_rocev2_frame(std::span<std::byte> out,
                                                 const net::udp_endpoints& ep,
                                                 const rocev2_message& m,
                                                 std::uint16_t identification = 0) noexcept {
  if (!is_known(m.opcode)) return errc::unsupported;
  if (m.dest_qp > 0xFFFFFF || m.psn > 0xFFFFFF || m.aeth.msn > 0xFFFFFF) {
    return errc::out_of_range;
  }
  if (!carries_payload(m.opcode) && !m.payload.empty()) return errc::malformed;
  if (m.opcode == rocev2_opcode::write_only && m.reth.dma_length != m.payload.size()) {
    return errc::malformed;
  }
  if (m.opcode == rocev2_opcode::write_first && m.reth.dma_length < m.payload.size()) {
    return errc::malformed;
  }
  if (continues_message(m.opcode) && m.payload.size() % 4 != 0) return errc::malformed;
  const std::size_t message_size = rocev2_message_size(m);
  if (message_size > 0xFFFF - net::ipv4_format::size - net::udp_format::size) {
    return errc::out_of_range;
  }
  const std::size_t length = net::udp_frame_overhead + message_size;
  if (out.size() < length) return errc::truncated;
  out = out.first(length);
  for (std::size_t i = 0;
       i < net::udp_frame_overhead + bth_format::size + rocev2_extension_size(m.opcode); ++i) {
    out[i] = std::byte{0};
  }

  using net::ethernet_format;
  using net::ipv4_format;
  using net::udp_format;
  auto eth = *net::ethernet_writer::over(out);
  eth.set<ethernet_format::destination>(ep.destination_mac)
      .set<ethernet_format::source>(ep.source_mac)
      .set<ethernet_format::ethertype>(net::ethertype_ipv4);
  auto ip = *net::ipv4_writer::over(eth.rest());
  ip.set<ipv4_format::version>(4)
      .set<ipv4_format::ihl>(5)
      .set<ipv4_format::total_length>(
          static_cast<std::uint16_t>(ipv4_format::size + udp_format::size + message_size))
      .set<ipv4_format::identification>(identification)
      .set<ipv4_format::dont_fragment>(1)
      .set<ipv4_format::ttl>(64)
      .set<ipv4_format::protocol>(net::ip_protocol_udp)
      .set<ipv4_format::source>(ep.source_ip)
      .set<ipv4_format::destination>(ep.destination_ip);
  ip.set<ipv4_format::checksum>(net::ipv4_header_checksum(ip.header()));
  auto udp = *net::udp_writer::over(ip.rest());
  udp.set<udp_format::source_port>(ep.source_port)
      .set<udp_format::destination_port>(rocev2_udp_port)
      .set<udp_format::length>(static_cast<std::uint16_t>(udp_format::size + message_size));

  const std::size_t pad = (4 - m.payload.size() % 4) % 4;
  auto bth = *header_writer<bth_format>::over(udp.rest());
  bth.set<bth_format::opcode>(static_cast<std::uint8_t>(m.opcode))
      .set<bth_format::solicited_event>(m.solicited_event ? 1 : 0)
      .set<bth_format::migration_request>(m.migration_request ? 1 : 0)
      .set<bth_format::pad_count>(static_cast<std::uint8_t>(pad))
      .set<bth_format::pkey>(m.pkey)
      .set<bth_format::fecn>(m.fecn ? 1 : 0)
      .set<bth_format::becn>(m.becn ? 1 : 0)
      .set<bth_format::dest_qp>(m.dest_qp)
      .set<bth_format::ack_request>(m.ack_request ? 1 : 0)
      .set<bth_format::psn>(m.psn);
  std::byte* p = bth.rest().data();
  if (has_reth(m.opcode)) {
    reth_format::virtual_address::store(p, m.reth.virtual_address);
    reth_format::rkey::store(p, m.reth.rkey);
    reth_format::dma_length::store(p, m.reth.dma_length);
    p += reth_format::size;
  }
  if (has_atomic_eth(m.opcode)) {
    atomic_eth_format::virtual_address::store(p, m.atomic.virtual_address);
    atomic_eth_format::rkey::store(p, m.atomic.rkey);
    atomic_eth_format::swap_add::store(p, m.atomic.swap_add);
    atomic_eth_format::compare::store(p, m.atomic.compare);
    p += atomic_eth_format::size;
  }
  if (has_aeth(m.opcode)) {
    aeth_format::syndrome::store(p, m.aeth.syndrome);
    aeth_format::msn::store(p, m.aeth.msn);
    p += aeth_format::size;
  }
  if (has_atomic_ack_eth(m.opcode)) {
    atomic_ack_eth_format::original::store(p, m.atomic_original);
    p += atomic_ack_eth_format::size;
  }
  for (std::size_t i = 0; i < m.payload.size(); ++i)
    p[i] = m.payload[i];
  p += m.payload.size();
  for (std::size_t i = 0; i < pad; ++i)
    p[i] = std::byte{0};

  const auto covered =
      out.subspan(ethernet_format::size, length - ethernet_format::size - rocev2_icrc_size);
  const std::uint32_t icrc = *rocev2_icrc(covered);
  for (std::size_t i = 0; i < rocev2_icrc_size; ++i)
    out[length - rocev2_icrc_size + i] = static_cast<std::byte>((icrc >> (8 * i)) & 0xFF);
  // The UDP checksum covers the ICRC, and the ICRC masks the UDP checksum: this order works.
  udp.set<udp_format::checksum>(
      net::udp_checksum_ipv4(ep.source_ip, ep.destination_ip, udp.bytes()));
  return length;
}

struct rocev2_frame {
  net::udp_frame udp;
  rocev2_message message;
  std::uint8_t pad = 0;
  std::uint32_t icrc = 0;
};

constexpr result<rocev2_frame> parse_rocev2_frame(std::span<const std::byte> frame) noexcept {
  auto udp = net::parse_udp_frame(frame);
  if (!udp) return udp.error();
  if (udp->udp.get<net::udp_format::destination_port>() != rocev2_udp_port) {
    return errc::unsupported;
  }
  // The ICRC's mask is defined for the fixed IPv4 header (as rdma_rxe computes it).
  if (udp->ip.get<net::ipv4_format::ihl>() != 5) return errc::unsupported;
  // The ICRC sits at the end of the IPv4 datagram: a UDP length short of it is not RoCEv2.
  if (udp->udp.bytes().size() != udp->ip.bytes().size() - net::ipv4_format::size) {
    return errc::malformed;
  }
  rocev2_frame out;
  out.udp = *udp;
  auto bth = header_view<bth_format>::parse(udp->payload);
  if (!bth) return bth.error();
  rocev2_message& m = out.message;
  m.opcode = static_cast<rocev2_opcode>(bth->get<bth_format::opcode>());
  if (!is_known(m.opcode) || bth->get<bth_format::transport_version>() != 0) {
    return errc::unsupported;
  }
  m.solicited_event = bth->get<bth_format::solicited_event>() != 0;
  m.migration_request = bth->get<bth_format::migration_request>() != 0;
  out.pad = bth->get<bth_format::pad_count>();
  m.pkey = bth->get<bth_format::pkey>();
  m.fecn = bth->get<bth_format::fecn>() != 0;
  m.becn = bth->get<bth_format::becn>() != 0;
  m.dest_qp = bth->get<bth_format::dest_qp>();
  m.ack_request = bth->get<bth_format::ack_request>() != 0;
  m.psn = bth->get<bth_format::psn>();

  auto rest = bth->rest();
  const std::size_t extensions = rocev2_extension_size(m.opcode);
  if (rest.size() < extensions + rocev2_icrc_size) return errc::truncated;
  const std::byte* p = rest.data();
  if (has_reth(m.opcode)) {
    m.reth = {reth_format::virtual_address::load(p), reth_format::rkey::load(p),
              reth_format::dma_length::load(p)};
    p += reth_format::size;
  }
  if (has_atomic_eth(m.opcode)) {
    m.atomic = {atomic_eth_format::virtual_address::load(p), atomic_eth_format::rkey::load(p),
                atomic_eth_format::swap_add::load(p), atomic_eth_format::compare::load(p)};
    p += atomic_eth_format::size;
  }
  if (has_aeth(m.opcode)) {
    m.aeth = {aeth_format::syndrome::load(p), aeth_format::msn::load(p)};
    p += aeth_format::size;
  }
  if (has_atomic_ack_eth(m.opcode)) m.atomic_original = atomic_ack_eth_format::original::load(p);

  const std::size_t padded = rest.size() - extensions - rocev2_icrc_size;
  if (carries_payload(m.opcode)) {
    if (padded % 4 != 0 || out.pad > padded) return errc::malformed;
  } else if (padded != 0 || out.pad != 0) {
    return errc::malformed;
  }
  m.payload = rest.subspan(extensions, padded - out.pad);
  if (m.opcode == rocev2_opcode::write_only && m.reth.dma_length != m.payload.size()) {
    return errc::malformed;
  }
  if (m.opcode == rocev2_opcode::write_first && m.reth.dma_length < m.payload.size()) {
    return errc::malformed;
  }
  if (continues_message(m.opcode) && out.pad != 0) return errc::malformed;

  const auto ip_to_icrc = udp->ip.bytes().first(udp->ip.bytes().size() - rocev2_icrc_size);
  const auto icrc_bytes = rest.subspan(rest.size() - rocev2_icrc_size);
  for (std::size_t i = 0; i < rocev2_icrc_size; ++i)
    out.icrc |= std::to_integer<std::uint32_t>(icrc_bytes[i]) << (8 * i);
  if (*rocev2_icrc(ip_to_icrc) != out.icrc) return errc::checksum_mismatch;
  return out;
}

// Requests as the translator sends them. ack_request is set on the message that completes an
// operation (WRITE last/only, atomics), so that the responder acknowledges it.
constexpr rocev2_message rdma_write(rocev2_opcode op, std::uint32_t dest_qp, std::uint32_t psn,
                                    reth_fields reth, std::span<const std::byte> payload) noexcept {
  rocev2_message m;
  m.opcode = op;
  m.dest_qp = dest_qp;
  m.psn = psn;
  m.ack_request = op == rocev2_opcode::write_only || op == rocev2_opcode::write_last;
  if (has_reth(op)) m.reth = reth;
  m.payload = payload;
  return m;
}

constexpr rocev2_message rdma_write_only(std::uint32_t dest_qp, std::uint32_t psn,
                                         std::uint64_t virtual_address, std::uint32_t rkey,
                                         std::span<const std::byte> payload) noexcept {
  return rdma_write(rocev2_opcode::write_only, dest_qp, psn,
                    {virtual_address, rkey, static_cast<std::uint32_t>(payload.size())}, payload);
}

constexpr rocev2_message rdma_fetch_add(std::uint32_t dest_qp, std::uint32_t psn,
                                        std::uint64_t virtual_address, std::uint32_t rkey,
                                        std::uint64_t add) noexcept {
  rocev2_message m;
  m.opcode = rocev2_opcode::fetch_add;
  m.dest_qp = dest_qp;
  m.psn = psn;
  m.ack_request = true;
  m.atomic = {virtual_address, rkey, add, 0};
  return m;
}

constexpr rocev2_message rdma_compare_swap(std::uint32_t dest_qp, std::uint32_t psn,
                                           std::uint64_t virtual_address, std::uint32_t rkey,
                                           std::uint64_t compare, std::uint64_t swap) noexcept {
  rocev2_message m;
  m.opcode = rocev2_opcode::compare_swap;
  m.dest_qp = dest_qp;
  m.psn = psn;
  m.ack_request = true;
  m.atomic = {virtual_address, rkey, swap, compare};
  return m;
}

}  // namespace innet::telemetry::wire
