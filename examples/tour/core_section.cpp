// core: hash a synthetic link trace the way every measurement structure does.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "innet/core/hash.hpp"
#include "innet/workload/flow_trace.hpp"
#include "tour.hpp"

namespace {
constexpr innet::net::five_tuple example_flow{
    .src_ip = 0x0A000001, .dst_ip = 0xC6336407, .src_port = 49152, .dst_port = 443, .protocol = 6};
// Evaluated by the compiler, with the same XXH3 that BPF programs and CUDA kernels run.
constexpr std::uint64_t example_hash = innet::xxh3_64(example_flow.to_bytes(), 2026);
}  // namespace

void tour::core_section() {
  heading("core", "hashing a flow trace");
  const auto generated = innet::workload::flow_trace::generate(
      {.flow_count = 50'000, .packet_count = 2'000'000, .zipf_s = 1.1, .seed = 7});
  if (!generated.ok()) {
    std::fprintf(stderr, "%s\n", generated.status().ToString().c_str());
    std::exit(1);
  }
  const auto& trace = *generated;
  std::printf("trace: %zu packets of %zu flows (Zipf s=1.1, seed 7)\n", trace.packets.size(),
              trace.flows.size());

  // Count packets per flow by the flow's XXH3-64, as a collector keyed by hash would.
  absl::flat_hash_map<std::uint64_t, std::uint32_t> packets_by_hash;
  for (const auto& tuple : trace.packet_tuples())
    ++packets_by_hash[innet::xxh3_64(tuple.to_bytes())];
  std::printf("distinct 64-bit hashes: %zu (%s)\n", packets_by_hash.size(),
              packets_by_hash.size() == trace.flows.size() ? "no collisions" : "COLLISIONS");

  std::vector<std::uint32_t> sizes(trace.sizes);
  std::sort(sizes.rbegin(), sizes.rend());
  std::uint64_t top = 0;
  for (std::size_t i = 0; i < sizes.size() / 100; ++i)
    top += sizes[i];
  std::printf("largest flow: %u packets; the top 1%% of flows carry %.1f%% of packets\n", sizes[0],
              100.0 * static_cast<double>(top) / static_cast<double>(trace.packets.size()));

  const bool same = example_hash == innet::xxh3_64(example_flow.to_bytes(), 2026);
  std::printf("XXH3-64 of 10.0.0.1:49152 -> 198.51.100.7:443/tcp, seed 2026: %016" PRIx64
              " (compile time) %s run time (libxxhash)\n",
              example_hash, same ? "==" : "!=");

  const auto rows = innet::make_hash_family(example_flow.to_bytes(), 2026);
  std::printf("its Count-Min cells in a 4 x 4096 sketch, from one XXH3-128: %" PRIu64 " %" PRIu64
              " %" PRIu64 " %" PRIu64 "\n",
              rows.index(0, 4096), rows.index(1, 4096), rows.index(2, 4096), rows.index(3, 4096));
}
