// Fuzzes parse_rocev2_frame: never reads outside the input (ASan), and whatever it accepts
// (so its ICRC verified) rebuilds through write_rocev2_frame, from the decoded addresses and
// fields, into a frame that parses to the same message. Each input is tried as it is and with
// its checksums made valid.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/telemetry/wire/rocev2.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}

void exercise(std::span<const std::byte> input) {
  using namespace innet::telemetry::wire;
  using namespace innet::net;
  const std::size_t size = input.size();
  const auto parsed = parse_rocev2_frame(input);
  if (!parsed) return;
  const auto& m = parsed->message;
  require(parsed->pad < 4);
  require(m.payload.empty() || (m.payload.data() >= input.data() &&
                                m.payload.data() + m.payload.size() <= input.data() + size));

  const auto& f = parsed->udp;
  const udp_endpoints ep{.source_mac = f.ethernet.get<ethernet_format::source>(),
                         .destination_mac = f.ethernet.get<ethernet_format::destination>(),
                         .source_ip = f.ip.get<ipv4_format::source>(),
                         .destination_ip = f.ip.get<ipv4_format::destination>(),
                         .source_port = f.udp.get<udp_format::source_port>(),
                         .destination_port = rocev2_udp_port};
  std::vector<std::byte> out(rocev2_frame_size(m));
  const auto n = write_rocev2_frame(out, ep, m, f.ip.get<ipv4_format::identification>());
  require(n.ok() && *n == out.size());
  const auto again = parse_rocev2_frame(out);
  require(again.ok());
  const auto& a = again->message;
  require(a.opcode == m.opcode && a.dest_qp == m.dest_qp && a.psn == m.psn && a.pkey == m.pkey &&
          a.ack_request == m.ack_request && a.fecn == m.fecn && a.becn == m.becn &&
          a.solicited_event == m.solicited_event && a.migration_request == m.migration_request &&
          a.reth == m.reth && a.atomic == m.atomic && a.aeth == m.aeth &&
          a.atomic_original == m.atomic_original);
  require(std::equal(a.payload.begin(), a.payload.end(), m.payload.begin(), m.payload.end()));
  // The ICRC's invariance: when the input differs from the rebuilt frame only in fields the
  // ICRC masks (TOS, TTL, IPv4 and UDP checksums, the BTH's F/B/resv6 byte), both carry the
  // same ICRC. (Other differences are legal too: reserved bits, pad bytes, DF.)
  if (size == out.size()) {
    std::vector<std::byte> normalized(input.begin(), input.end());
    constexpr std::size_t ip = ethernet_format::size;
    for (const std::size_t at : {ip + 1, ip + 8, ip + 10, ip + 11, udp_frame_overhead - 2,
                                 udp_frame_overhead - 1, udp_frame_overhead + 4}) {
      normalized[at] = out[at];
    }
    if (std::equal(normalized.begin(), normalized.end() - 4, out.begin())) {
      require(again->icrc == parsed->icrc);
    }
  }
}

// The input with its IPv4 checksum and ICRC made valid (and the UDP checksum off), so that
// the fuzzer explores the RoCEv2 structure instead of stopping at the checksums.
std::vector<std::byte> with_valid_checksums(std::span<const std::byte> input) {
  using namespace innet::net;
  std::vector<std::byte> f(input.begin(), input.end());
  constexpr std::size_t ip_at = ethernet_format::size;
  if (f.size() < udp_frame_overhead) return f;
  auto ip = *ipv4_writer::over(std::span(f).subspan(ip_at));
  ip.set<ipv4_format::checksum>(0);
  ip.set<ipv4_format::checksum>(ipv4_header_checksum(ip.header()));
  innet::store_be<std::uint16_t>(f.data() + udp_frame_overhead - 2, 0);
  const std::size_t total = ip.get<ipv4_format::total_length>();
  if (total > f.size() - ip_at || total < ipv4_format::size + udp_format::size + 16) return f;
  const auto covered = std::span<const std::byte>(f).subspan(ip_at, total - 4);
  const auto icrc = innet::telemetry::wire::rocev2_icrc(covered);
  if (!icrc) return f;
  for (std::size_t i = 0; i < 4; ++i)
    f[ip_at + total - 4 + i] = static_cast<std::byte>(*icrc >> (8 * i));
  return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  exercise(input);
  const auto fixed = with_valid_checksums(input);
  exercise(fixed);
  return 0;
}
