// telemetry: DART's Key-Write store. Switches write each flow's INT path into N slots of a
// collector region without coordination; the collector reads them back, and the success rate
// matches the store's analytical model.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "innet/host/local_memory_region.hpp"
#include "innet/telemetry/key_write.hpp"
#include "innet/workload/fat_tree.hpp"
#include "innet/workload/flow_trace.hpp"
#include "tour.hpp"

void tour::telemetry_section() {
  heading("telemetry", "DART path tracing into a collector's memory");
  // 24-byte slots: a 32-bit checksum and five 32-bit switch ids; N = 6 slots per flow.
  using store_type = innet::telemetry::key_write<24, 32, 6>;
  constexpr std::uint64_t slots = 1 << 16;  // 1.5 MiB of collector memory
  constexpr std::size_t flows = 5'000;      // ~315 bytes per flow
  const auto store = store_type::create(slots, /*seed=*/2026);
  const auto fabric = innet::workload::fat_tree::create(8);
  const auto trace = innet::workload::flow_trace::generate(
      {.flow_count = flows, .packet_count = flows, .zipf_s = 1.1, .seed = 5});
  if (!store.ok() || !fabric.ok() || !trace.ok()) std::exit(1);

  std::vector<std::uint64_t> words(store->region_bytes() / 8);
  innet::host::local_memory_region collector(words);
  std::vector<store_type::value_type> paths(flows);
  for (std::size_t f = 0; f < flows; ++f) {
    // Hosts from the addresses; ECMP picks the path from the five-tuple.
    const auto& tuple = trace->flows[f];
    const auto path = fabric->ecmp_path(tuple.src_ip % fabric->host_count(),
                                        tuple.dst_ip % fabric->host_count(), tuple);
    const auto hops = path.switches();
    for (std::size_t hop = 0; hop < hops.size(); ++hop)
      for (std::size_t b = 0; b < 4; ++b)
        paths[f][hop * 4 + b] = static_cast<std::byte>(hops[hop] >> (8 * b));
    if (store->put(collector, trace->flows[f].to_bytes(), paths[f]) != innet::errc::ok)
      std::exit(1);
  }
  std::size_t right = 0, wrong = 0;
  for (std::size_t f = 0; f < flows; ++f) {
    const auto got = store->get(collector, trace->flows[f].to_bytes());
    if (got.ok()) (got->value == paths[f] ? right : wrong)++;
  }
  std::printf(
      "%zu flows, %zu bytes of collector memory per flow, N = 6: %zu paths read back, "
      "%zu wrong, %zu lost\n",
      flows, static_cast<std::size_t>(store->region_bytes() / flows), right, wrong,
      flows - right - wrong);
  std::printf("success %.4f; the store's model predicts %.4f\n", static_cast<double>(right) / flows,
              innet::telemetry::key_write_mean_success_probability(slots, 6, flows, 32));
}
