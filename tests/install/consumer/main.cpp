// A program outside the innet tree, built against an installed innet.
#include <cstdio>
#include <string_view>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/host/local_memory_region.hpp"
#include "innet/net/udp_frame.hpp"

int main() {
  constexpr std::string_view text = "hello";
  const auto bytes = std::as_bytes(std::span(text));
  std::vector<std::byte> frame(64);
  const auto n = innet::net::write_udp_frame(frame, {.source_ip = 1, .destination_ip = 2}, bytes);
  if (!n) return 1;
  frame.resize(*n);
  const auto parsed = innet::net::parse_udp_frame(frame);
  if (!parsed || innet::xxh3_64(parsed->payload) != innet::xxh3_64(bytes)) return 2;

  std::vector<std::uint64_t> words(4, 0);
  innet::host::local_memory_region region(words);
  if (region.fetch_add(8, 3).value_or(1) != 0 || words[1] != 3) return 3;
  std::puts("consumer ok");
  return 0;
}
