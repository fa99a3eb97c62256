// Fuzzes parse_udp_frame: never reads outside the input (ASan), and whatever it
// accepts is self-consistent and survives a rebuild through write_udp_frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "innet/net/udp_frame.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace innet::net;
  const auto input = std::as_bytes(std::span(data, size));
  const auto frame = parse_udp_frame(input);
  if (!frame) return 0;

  // The payload lies inside the input, after the headers, within the UDP length.
  const auto* begin = input.data();
  require(frame->payload.data() >= begin + udp_frame_overhead);
  require(frame->payload.data() + frame->payload.size() <= begin + size);
  require(frame->udp.get<udp_format::length>() == frame->payload.size() + udp_format::size);

  // Rebuilding from the parsed fields yields a frame that parses to the same payload.
  const udp_endpoints ep{.source_mac = frame->ethernet.get<ethernet_format::source>(),
                         .destination_mac = frame->ethernet.get<ethernet_format::destination>(),
                         .source_ip = frame->ip.get<ipv4_format::source>(),
                         .destination_ip = frame->ip.get<ipv4_format::destination>(),
                         .source_port = frame->udp.get<udp_format::source_port>(),
                         .destination_port = frame->udp.get<udp_format::destination_port>()};
  std::vector<std::byte> rebuilt(udp_frame_overhead + frame->payload.size());
  require(write_udp_frame(rebuilt, ep, frame->payload).ok());
  const auto again = parse_udp_frame(rebuilt);
  require(again.ok());
  require(std::equal(again->payload.begin(), again->payload.end(), frame->payload.begin(),
                     frame->payload.end()));
  return 0;
}
