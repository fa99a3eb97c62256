// Fuzzes the INT Telemetry Report v2.0 parsers: never reads outside the input (ASan); every
// span they return lies inside it; the individual reports of an accepted datagram tile it
// exactly; and each report rebuilt from its decoded fields parses to the same fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/telemetry/wire/int_report.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace innet::telemetry::wire;
  const auto input = std::as_bytes(std::span(data, size));
  const auto summary = parse_int_report(input);
  if (!summary) {
    // The individual-report parser alone must be just as safe on any bytes.
    const auto step = parse_int_individual_report(input);
    if (step) require(inside(step->rest, input));
    return 0;
  }
  std::vector<std::byte> group(int_group_format::size);
  require(write_int_group_header(group, summary->group) == innet::errc::ok);
  require(std::equal(group.begin(), group.end(), input.begin(), input.begin() + 8));

  auto rest = input.subspan(int_group_format::size);
  std::size_t count = 0;
  while (!rest.empty()) {
    const auto step = parse_int_individual_report(rest);
    require(step.ok());
    const auto& r = step->report;
    require(inside(r.baseline, input) && inside(r.domain_specific, input) &&
            inside(r.inner, input));
    require(r.baseline.size() == int_baseline_size(r.rep_md_bits));
    require(step->rest.data() + step->rest.size() == input.data() + size);
    require(step->rest.size() < rest.size());

    std::vector<std::byte> out(int_individual_report_size(r));
    const auto n = write_int_individual_report(out, r);
    require(n.ok() && *n == out.size());
    const auto again = parse_int_individual_report(out);
    require(again.ok() && again->rest.empty());
    const auto& a = again->report;
    require(a.rep_type == r.rep_type && a.in_type == r.in_type && a.dropped == r.dropped &&
            a.congested_queue == r.congested_queue && a.tracked_flow == r.tracked_flow &&
            a.intermediate == r.intermediate && a.rep_md_bits == r.rep_md_bits &&
            a.domain_specific_id == r.domain_specific_id && a.ds_md_bits == r.ds_md_bits &&
            a.ds_md_status == r.ds_md_status);
    require(std::equal(a.inner.begin(), a.inner.end(), r.inner.begin(), r.inner.end()));
    require(std::equal(a.domain_specific.begin(), a.domain_specific.end(),
                       r.domain_specific.begin(), r.domain_specific.end()));
    rest = step->rest;
    ++count;
  }
  require(count == summary->reports);
  return 0;
}
