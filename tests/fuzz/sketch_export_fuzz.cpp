// Fuzzes parse_export (innet/sketch/export_format.hpp): never reads outside the input (ASan);
// whatever it accepts is within the bounds it promises, and writing the parsed header and
// counters back gives the input byte for byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/sketch/export_format.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace innet::sketch;
  const auto input = std::as_bytes(std::span(data, size));
  const auto parsed = parse_export(input);
  if (!parsed) return 0;
  const export_header& h = parsed->header;

  require(h.depth > 0 && h.width > 0 && h.row < h.depth);
  require(std::uint64_t{h.offset} + h.count <= h.width);
  require(size == export_size(h));
  require(parsed->counter_bytes.data() == input.data() + export_format::header_size);
  require(parsed->counter_bytes.size() == std::size_t{h.count} * parsed->counter_size());

  std::vector<std::uint64_t> counters;
  for (std::size_t i = 0; i < h.count; ++i)
    counters.push_back(parsed->counter(i));
  std::vector<std::byte> rebuilt(export_size(h));
  const auto written = write_export(rebuilt, h, counters);
  require(written.ok() && *written == size);
  require(std::equal(rebuilt.begin(), rebuilt.end(), input.begin(), input.end()));
  return 0;
}
