// Fuzzes parse_export (innet/sketch/export_format.hpp): never reads outside the input (ASan);
// whatever it accepts is within the bounds it promises, and writing the parsed header and
// counters back gives the input byte for byte, while writing them into one byte less fails as
// truncated without touching the buffer. Whatever it refuses after the magic, write_export
// refuses with the same error.
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
  if (!parsed) {
    // write_export runs the parser's header checks first: decode the fields as parse_export
    // does and require the same verdict for the errors that do not depend on the length.
    namespace f = export_format;
    if (size < f::header_size || innet::load_be<std::uint32_t>(input.data()) != f::magic) {
      return 0;
    }
    const auto* p = input.data();
    export_header h;
    h.version = innet::load_be<std::uint8_t>(p + f::version_at);
    h.family = static_cast<sketch_family>(innet::load_be<std::uint8_t>(p + f::family_at));
    h.counter_code = innet::load_be<std::uint8_t>(p + f::counter_at);
    h.flags = innet::load_be<std::uint8_t>(p + f::flags_at);
    h.row = innet::load_be<std::uint16_t>(p + f::row_at);
    h.depth = innet::load_be<std::uint16_t>(p + f::depth_at);
    h.count = innet::load_be<std::uint16_t>(p + f::count_at);
    h.width = innet::load_be<std::uint32_t>(p + f::width_at);
    h.offset = innet::load_be<std::uint32_t>(p + f::offset_at);
    std::vector<std::uint64_t> zeros(h.count, 0);
    // Sized for a valid header (an unknown counter code could ask for gigabytes); a refused
    // one is refused before `out` is looked at.
    std::vector<std::byte> out((h.counter_code & 0x0F) <= 3 ? export_size(h) : 0);
    const auto written = write_export(out, h, zeros);
    if (!written.ok()) require(written.error() == parsed.error());
    return 0;
  }
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

  std::vector<std::byte> short_by_one(size - 1, std::byte{0x5A});
  const auto refused = write_export(short_by_one, h, counters);
  require(!refused.ok() && refused.error() == innet::errc::truncated);
  require(std::all_of(short_by_one.begin(), short_by_one.end(),
                      [](std::byte b) { return b == std::byte{0x5A}; }));
  return 0;
}
