// Fuzzes parse_dta_report: never reads outside the input (ASan), and whatever it accepts is
// canonical: it re-encodes to exactly the input bytes, and its data is the input's tail.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/telemetry/wire/dta.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace innet::telemetry::wire;
  const auto input = std::as_bytes(std::span(data, size));
  const auto parsed = parse_dta_report(input);
  if (!parsed) return 0;
  require(parsed->data.data() + parsed->data.size() == input.data() + size);
  require(dta_report_size(*parsed) == size);
  std::vector<std::byte> out(size);
  const auto n = write_dta_report(out, *parsed);
  require(n.ok() && *n == size);
  require(std::equal(out.begin(), out.end(), input.begin(), input.end()));
  return 0;
}
