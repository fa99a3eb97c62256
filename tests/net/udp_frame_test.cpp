#include "innet/net/udp_frame.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {
std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Built by scapy 2.5 (Debian python3-scapy), an implementation independent of ours:
//   Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01') /
//   IP(src='10.0.0.1', dst='10.0.0.2', id=0x1234, flags='DF', ttl=64) /
//   UDP(sport=4791, dport=5000) / Raw(b'innet!!')
constexpr std::string_view scapy_frame =
    "020000000002020000000001080045000023123440004011149"
    "40a0000010a00000212b71388000f5899696e6e65742121";

const innet::net::udp_endpoints endpoints{.source_mac = 0x020000000001,
                                          .destination_mac = 0x020000000002,
                                          .source_ip = 0x0A000001,
                                          .destination_ip = 0x0A000002,
                                          .source_port = 4791,
                                          .destination_port = 5000};
const std::string_view payload_text = "innet!!";
std::span<const std::byte> payload() {
  return std::as_bytes(std::span(payload_text));
}
}  // namespace

using namespace innet::net;

TEST_CASE("parses a frame built by scapy, field by field") {
  const auto frame = from_hex(scapy_frame);
  const auto parsed = parse_udp_frame(frame);
  REQUIRE(parsed.ok());
  CHECK(parsed->ethernet.get<ethernet_format::source>() == 0x020000000001);
  CHECK(parsed->ip.get<ipv4_format::identification>() == 0x1234);
  CHECK(parsed->ip.get<ipv4_format::dont_fragment>() == 1);
  CHECK(parsed->ip.get<ipv4_format::source>() == 0x0A000001);
  CHECK(parsed->udp.get<udp_format::source_port>() == 4791);
  CHECK(parsed->udp.get<udp_format::destination_port>() == 5000);
  CHECK(parsed->udp.get<udp_format::checksum>() == 0x5899);
  CHECK(std::string_view(reinterpret_cast<const char*>(parsed->payload.data()),
                         parsed->payload.size()) == payload_text);
}

TEST_CASE("builds byte-for-byte the frame scapy builds, checksums included") {
  std::vector<std::byte> out(128);
  const auto length = write_udp_frame(out, endpoints, payload(), 0x1234);
  REQUIRE(length.ok());
  out.resize(*length);
  CHECK(out == from_hex(scapy_frame));
  // Too small a buffer is an error, not a partial frame.
  std::vector<std::byte> small(udp_frame_overhead + payload().size() - 1);
  CHECK(write_udp_frame(small, endpoints, payload()).error() == innet::errc::truncated);
}

TEST_CASE("every truncation is rejected without reading past the end") {
  const auto frame = from_hex(scapy_frame);
  for (std::size_t n = 0; n < frame.size(); ++n) {
    // A fresh heap copy of exactly n bytes, so ASan sees any read beyond it.
    const std::vector<std::byte> prefix(frame.begin(), frame.begin() + n);
    const auto r = parse_udp_frame(prefix);
    CHECK_FALSE(r.ok());
    CHECK(r.error() == innet::errc::truncated);
  }
}

TEST_CASE("Ethernet padding after the datagram is not payload") {
  auto frame = from_hex(scapy_frame);
  frame.resize(60, std::byte{0xEE});  // padded to the Ethernet minimum
  const auto parsed = parse_udp_frame(frame);
  REQUIRE(parsed.ok());
  CHECK(parsed->payload.size() == payload_text.size());
}

TEST_CASE("corruption in any header or payload byte is detected") {
  const auto good = from_hex(scapy_frame);
  for (std::size_t i = ethernet_format::size; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= std::byte{0x01};
    const auto r = parse_udp_frame(bad);
    // Either a checksum catches it, or the flipped bit changed a field that is
    // itself refused (version, lengths, fragmentation, protocol).
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("refuses fragments, non-UDP and non-IPv4 with the right error") {
  std::vector<std::byte> frame(128);
  frame.resize(*write_udp_frame(frame, endpoints, payload()));

  auto rewrite_ip = [&](void (*edit)(ipv4_writer&)) {
    auto copy = frame;
    auto ip = *ipv4_writer::over(std::span(copy).subspan(ethernet_format::size));
    edit(ip);
    ip.set<ipv4_format::checksum>(0);
    ip.set<ipv4_format::checksum>(ipv4_header_checksum(ip.header()));
    return parse_udp_frame(copy).error();
  };
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::more_fragments>(1); }) ==
        innet::errc::unsupported);
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::fragment_offset>(8); }) ==
        innet::errc::unsupported);
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::protocol>(6); }) ==
        innet::errc::unsupported);
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::version>(6); }) ==
        innet::errc::malformed);
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::ihl>(4); }) == innet::errc::malformed);
  CHECK(rewrite_ip([](ipv4_writer& ip) { ip.set<ipv4_format::total_length>(19); }) ==
        innet::errc::malformed);

  auto arp = frame;
  innet::store_be<std::uint16_t>(arp.data() + 12, 0x0806);
  CHECK(parse_udp_frame(arp).error() == innet::errc::unsupported);

  auto no_checksum = frame;  // UDP checksum 0 means "not computed" and is accepted
  innet::store_be<std::uint16_t>(no_checksum.data() + udp_frame_overhead - 2, 0);
  CHECK(parse_udp_frame(no_checksum).ok());
}
