// Fuzzes parse_soft_rnic_message: never reads outside the input (ASan), and whatever
// it accepts re-encodes to exactly the same bytes (the parser admits only the
// canonical encoding, so a message has one wire form). Headers alone re-encode to
// the same prefix, too, which is what the scatter-gather senders rely on.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/host/soft_rnic_wire.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace innet::host;
  const auto input = std::as_bytes(std::span(data, size));
  const auto parsed = parse_soft_rnic_message(input);
  if (!parsed) return 0;
  const soft_rnic_message& m = *parsed;

  // The payload, if any, is the tail of the input.
  if (!m.payload.empty()) {
    require(m.payload.data() >= input.data());
    require(m.payload.data() + m.payload.size() == input.data() + size);
  }

  require(soft_rnic_encoded_size(m) == size);
  std::vector<std::byte> again(size);
  const auto n = encode_soft_rnic_message(again, m);
  require(n.ok() && *n == size);
  require(std::equal(again.begin(), again.end(), input.begin(), input.end()));

  // The headers alone: the same prefix, and no room needed for the payload.
  std::vector<std::byte> header(size - m.payload.size());
  const auto h = encode_soft_rnic_header(header, m);
  require(h.ok() && *h == header.size());
  require(std::equal(header.begin(), header.end(), input.begin()));

  // One byte short of the whole message is refused, not overrun.
  if (size > 0) {
    std::vector<std::byte> short_buffer(size - 1);
    require(encode_soft_rnic_message(short_buffer, m).error() == innet::errc::truncated);
  }
  return 0;
}
