// sketch: per-flow counts in a few KB, checked against exact counts; sketches split across
// switches and joined again; one UnivMon answering many questions.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include "innet/sketch/count_min.hpp"
#include "innet/sketch/univmon.hpp"
#include "innet/workload/flow_trace.hpp"
#include "tour.hpp"

namespace {

template <class T>
T or_die(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "%s\n", value.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(value);
}

}  // namespace

void tour::sketch_section() {
  heading("sketch", "Count-Min, merge and fold, UnivMon");
  const auto trace = or_die(innet::workload::flow_trace::generate(
      {.flow_count = 20'000, .packet_count = 500'000, .zipf_s = 1.1, .seed = 11}));

  // Two switches each see half of the packets; each keeps a 4 x 4096 Count-Min (64 KiB).
  using count_min = innet::sketch::count_min<std::uint32_t>;
  auto left = or_die(count_min::create(4, 4096, /*seed=*/42));
  auto right = or_die(count_min::create(4, 4096, /*seed=*/42));
  const auto tuples = trace.packet_tuples();
  for (std::size_t i = 0; i < tuples.size(); ++i)
    (i % 2 == 0 ? left : right).update(tuples[i].to_bytes());

  // The collector adds them: the result is exactly the sketch of the whole trace.
  auto whole = left;
  if (!whole.merge(right).ok()) std::exit(1);
  std::printf("Count-Min 4 x 4096 (%zu KiB) over %zu packets of %zu flows; epsilon*N = %.0f\n",
              whole.memory_bytes() / 1024, tuples.size(), trace.flows.size(),
              whole.epsilon() * static_cast<double>(whole.total_weight()));

  std::vector<std::size_t> by_size(trace.flows.size());
  std::iota(by_size.begin(), by_size.end(), std::size_t{0});
  std::sort(by_size.begin(), by_size.end(),
            [&](std::size_t a, std::size_t b) { return trace.sizes[a] > trace.sizes[b]; });
  for (std::size_t rank : {std::size_t{0}, std::size_t{10}, std::size_t{1000}}) {
    const std::size_t f = by_size[rank];
    const auto key = trace.flows[f].to_bytes();
    std::printf("  flow of rank %4zu: exact %6u, estimate %6u (lower bound %u)\n", rank,
                trace.sizes[f], whole.estimate(key), whole.lower_bound(key));
  }

  // A switch with a quarter of the memory holds the same sketch folded twice: column c of
  // the 1024-wide sketch is the sum of columns 4c..4c+3, so it still answers every flow.
  const auto small = or_die(whole.fold(2));
  double are_full = 0, are_small = 0;
  for (std::size_t f = 0; f < trace.flows.size(); ++f) {
    const auto key = trace.flows[f].to_bytes();
    const double exact = trace.sizes[f];
    are_full += (whole.estimate(key) - exact) / exact;
    are_small += (small.estimate(key) - exact) / exact;
  }
  const double flows = static_cast<double>(trace.flows.size());
  std::printf("average relative error over all flows: %.3f at width 4096, %.3f folded to 1024\n",
              are_full / flows, are_small / flows);

  // UnivMon: 16 levels of Count Sketch over half-sampled substreams, 64 candidates each.
  using univmon = innet::sketch::univmon<std::int32_t>;
  auto um = or_die(
      univmon::create({.levels = 16, .depth = 5, .width = 2048, .heavy_hitters = 64, .seed = 1}));
  for (const auto& tuple : tuples)
    if (um.update(tuple.to_bytes()) != innet::errc::ok) std::exit(1);
  double entropy = 0;
  for (std::uint32_t size : trace.sizes) {
    const double p = size / static_cast<double>(tuples.size());
    entropy -= p * std::log2(p);
  }
  std::printf(
      "UnivMon (%zu KiB): L1 %.0f (exact %zu), entropy %.2f bits (exact %.2f), ~%.0f flows "
      "(exact %zu)\n",
      um.memory_bytes() / 1024, um.l1(), tuples.size(), um.entropy(), entropy, um.distinct(),
      trace.flows.size());
  const auto heavy = um.heavy_hitters(0.02);
  std::printf("  %zu flows above 2%% of packets; the largest: ~%d packets (exact %u)\n",
              heavy.size(), heavy.empty() ? 0 : heavy.front().estimate, trace.sizes[by_size[0]]);
}
