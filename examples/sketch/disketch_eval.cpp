// Reproduces DiSketch's headline comparison (Langlet et al., "Sketch Disaggregation Across Time
// and Space", arXiv 2503.13515) on a synthetic but realistic setting:
//
//   * a k=4 fat tree (20 switches, 16 hosts), ECMP paths by five-tuple hash;
//   * per epoch, a heavy-tailed flow trace (workload/flow_trace.hpp: Zipf 1.1 sizes, uniformly
//     interleaved packets), each flow between two hosts picked by hashing its addresses;
//   * every switch's residual memory drawn per epoch from a lognormal (mean 1, sigma 0.8) times
//     a memory level; the sweep scales the level, every draw stays the same.
//
// Contenders, all Count-Min (or, with --sketch count_sketch, all Count Sketch) with the same
// depth and 32-bit counters, fed the same packets, each switch holding at most its residual
// memory at any moment:
//   baseline    each switch keeps one Count-Min for the whole epoch, as wide as its memory allows
//               (any width, no power-of-two rounding); a flow is answered by the single switch on
//               its path with the smallest error bound (e * N_s / w_s; Count Sketch:
//               sqrt(F2_s / w_s)). A switch with memory for less than one column per row keeps
//               no sketch; a flow with no sketch on its path is estimated 0.
//   disketch    fragment_planner sizes fragments (power-of-two widths) and sub-epochs from the
//               memory and last epoch's per-switch packet counts (for the first epoch, those of
//               an unscored warm-up epoch), over the topology's ECMP path set (what a
//               controller knows; never the scored flows' own paths); switches export serialized
//               fragments; fragment_collector answers each flow. Three variants:
//               spatial   (the default, hop_assignment::one_hop) each flow is counted at ONE
//                         switch of its path, picked by its assignment hash with probability
//                         ~ width / last epoch's load (error equalisation); the answer is that
//                         switch's fragments summed. Each switch sees ~1/path-length of the
//                         flows it forwards, so its noise drops by about the mean path length.
//               partition every hop counts every flow, sub-epochs split each epoch; per epoch:
//                         sum per switch, min across switches (median for Count Sketch);
//               sample    every hop, and each flow counted in one sub-epoch per switch, scaled
//                         up (an earlier reading of the paper's sub-epoching). It wins on ARE
//                         only at the smallest memories and stops being an upper bound.
//
// Metrics per epoch over all flows: ARE and AAE of per-flow packet counts, heavy-hitter F1 at
// 0.05% of the epoch's packets; with --entropy, the relative error of the network-wide
// flow-size entropy at three memory levels (UnivMon; see run_entropy). Output: an aligned table, a
// CSV (--csv), and the memory saved at equal ARE (interpolating the baseline's ARE curve in
// log-log) and the ARE ratio at equal memory.
//
//   disketch_eval [--quick] [--csv PATH] [--epochs N] [--packets N] [--flows N] [--seed S]
//                 [--depth D] [--min-peb RHO] [--max-subepochs K] [--any-width]
//                 [--sketch count_min|count_sketch] [--entropy]
//
// DiSketch rounds fragment widths down to powers of two by default (so fragments fold), which
// leaves it about 28% fewer counters than the baseline on this memory distribution; --any-width
// lets the planner use every column (point queries do not need folding).
//
// The memory sweep covers the realistic range where the baseline's ARE goes from ~10 to ~0.01,
// plus a few baseline-only points above it so that "memory saved at equal ARE" can be read off
// the baseline's curve for DiSketch's most accurate points.
//
// The hidden cost of sub-epochs is export volume: a switch exports k fragments per epoch, so
// the collector receives k times the counters of one sketch. The table reports it (export
// KB per epoch, all switches). --max-subepochs caps k (16 by default: an export every 62.5 ms
// of a 1 s epoch); with an unbounded k, partition mode degenerates into exporting nearly every
// packet and becomes exact, which says nothing about sketches.
//
// --min-peb is the planner's floor on a fragment's error bound (planner_config::min_peb,
// packets per counter): a switch splits its epoch only while its fragments' rho would stay
// above it. It matters only in sample mode (partition answers a full-epoch query the same for
// any split); 64 is a compromise: lower values win more at small memory and lose more at large
// memory, where sampling error dominates (the run prints both sides of the sweep).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/sketch/fragment_collector.hpp"
#include "innet/sketch/fragment_planner.hpp"
#include "innet/sketch/univmon.hpp"
#include "innet/workload/fat_tree.hpp"
#include "innet/workload/flow_trace.hpp"

namespace {

using innet::u32;
using innet::u64;
using cm = innet::sketch::count_min<u32>;
using cs = innet::sketch::count_sketch<std::int32_t>;
namespace sk = innet::sketch;

struct options {
  bool quick = false;
  std::string csv;
  u32 epochs = 3;
  u64 packets = 1'500'000;
  u64 flows = 100'000;
  u64 seed = 1;
  u32 depth = 4;
  double min_peb = 64;
  u32 max_subepochs = 16;
  bool any_width = false;
  bool count_sketch = false;
  bool entropy = false;
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
      o.epochs = 2;
      o.packets = 200'000;
      o.flows = 10'000;
    } else if (a == "--csv" && has_value) {
      o.csv = argv[++i];
    } else if (a == "--epochs" && has_value) {
      o.epochs = static_cast<u32>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--packets" && has_value) {
      o.packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--flows" && has_value) {
      o.flows = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed" && has_value) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--min-peb" && has_value) {
      o.min_peb = std::strtod(argv[++i], nullptr);
    } else if (a == "--sketch" && has_value) {
      const std::string v = argv[++i];
      if (v != "count_min" && v != "count_sketch") return false;
      o.count_sketch = v == "count_sketch";
    } else if (a == "--entropy") {
      o.entropy = true;
    } else if (a == "--any-width") {
      o.any_width = true;
    } else if (a == "--max-subepochs" && has_value) {
      o.max_subepochs = static_cast<u32>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--depth" && has_value) {
      o.depth = static_cast<u32>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--csv PATH] [--epochs N] [--packets N] [--flows N] "
                   "[--seed S] [--depth D] [--min-peb RHO] [--max-subepochs K] [--any-width]\n"
                   "       [--sketch count_min|count_sketch] [--entropy]\n",
                   argv[0]);
      return false;
    }
  }
  const bool pow2 = o.max_subepochs != 0 && (o.max_subepochs & (o.max_subepochs - 1)) == 0;
  return o.epochs >= 1 && o.packets >= o.flows && o.flows >= 1 && o.depth >= 1 && o.depth <= 16 &&
         pow2 && o.max_subepochs <= 512;
}

// One epoch of traffic: flows, their paths and hashes at every hop, and packet order.
struct epoch_traffic {
  innet::workload::flow_trace trace;
  std::vector<innet::workload::fat_tree_path> paths;  // per flow
  std::vector<std::vector<u32>> path_lists;           // the same, for the planner
  std::vector<innet::hash_family> hashes;             // [flow * 5 + hop], hop's seed
  std::vector<std::array<std::byte, 13>> keys;        // per flow
  std::vector<u64> switch_packets;                    // per switch
};

constexpr u64 epoch_ns = 1'000'000'000;  // 1 s epochs (1e9 = 2^9 * 5^9: up to 512 sub-epochs)
constexpr u64 base_seed = 0x5EED0D15C0ULL;

epoch_traffic make_epoch(const innet::workload::fat_tree& tree, const options& o, u32 epoch) {
  epoch_traffic t;
  innet::workload::flow_trace_config cfg;
  cfg.flow_count = o.flows;
  cfg.packet_count = o.packets;
  cfg.zipf_s = 1.1;
  cfg.seed = o.seed * 1000 + epoch;
  t.trace = *innet::workload::flow_trace::generate(cfg);
  const u32 hosts = tree.host_count();
  const std::size_t flows = t.trace.flows.size();
  t.paths.resize(flows);
  t.path_lists.resize(flows);
  t.hashes.assign(flows * 5, innet::hash_family(innet::hash128{0, 0}));
  t.keys.resize(flows);
  t.switch_packets.assign(tree.switch_count(), 0);
  for (std::size_t f = 0; f < flows; ++f) {
    const auto& ft = t.trace.flows[f];
    const u32 src = static_cast<u32>(innet::detail::fmix64(ft.src_ip ^ o.seed) % hosts);
    u32 dst = static_cast<u32>(innet::detail::fmix64(u64{ft.dst_ip} << 1 ^ o.seed) % hosts);
    if (dst == src) dst = (dst + 1) % hosts;
    t.paths[f] = tree.ecmp_path(src, dst, ft, o.seed);
    const auto hops = t.paths[f].switches();
    t.path_lists[f].assign(hops.begin(), hops.end());
    t.keys[f] = ft.to_bytes();
    for (std::size_t h = 0; h < hops.size(); ++h) {
      t.hashes[f * 5 + h] =
          innet::make_hash_family(t.keys[f], sk::fragment_seed(base_seed, hops[h]));
      t.switch_packets[hops[h]] += t.trace.sizes[f];
    }
  }
  return t;
}

// Residual-memory multipliers [epoch][switch]: lognormal with mean 1 (sigma 0.8), Box-Muller on
// the project's reproducible uniform doubles.
std::vector<std::vector<double>> memory_shape(u32 epochs, u32 switches, u64 seed) {
  innet::xoshiro256ss rng{seed ^ 0x3E3011ULL};
  constexpr double sigma = 0.8;
  std::vector<std::vector<double>> out(epochs, std::vector<double>(switches));
  for (auto& row : out) {
    for (auto& m : row) {
      const double u1 = 1.0 - innet::uniform_double(rng);  // (0, 1]
      const double u2 = innet::uniform_double(rng);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
      m = std::exp(sigma * z - sigma * sigma / 2);
    }
  }
  return out;
}

// Every ECMP path between distinct hosts: what a controller knows from the topology alone (the
// planner must cover any path a flow may take, not just the paths of flows already seen).
std::vector<std::vector<u32>> topology_paths(const innet::workload::fat_tree& tree) {
  std::vector<std::vector<u32>> out;
  for (u32 s = 0; s < tree.host_count(); ++s) {
    for (u32 d = 0; d < tree.host_count(); ++d) {
      if (s == d) continue;
      for (u32 i = 0; i < tree.path_count(s, d); ++i) {
        const innet::workload::fat_tree_path path = tree.path_by_index(s, d, i);
        const auto hops = path.switches();  // a view into `path`: keep it alive
        out.emplace_back(hops.begin(), hops.end());
      }
    }
  }
  return out;
}

// Per-switch loads the planner sees before epoch e: the packet counts of the epoch before, and
// for epoch 0 those of a warm-up epoch (traffic of another seed that is never scored), so no
// epoch is planned from its own traffic.
std::vector<std::vector<double>> history_loads(const std::vector<epoch_traffic>& ep,
                                               const epoch_traffic& warmup) {
  std::vector<std::vector<double>> load;
  for (u32 e = 0; e < ep.size(); ++e) {
    const epoch_traffic& prev = e == 0 ? warmup : ep[e - 1];
    load.emplace_back(prev.switch_packets.begin(), prev.switch_packets.end());
  }
  return load;
}

struct errors {
  double are = 0;
  double aae = 0;
  double f1 = 0;
  double precision = 0;
  double recall = 0;
  double used_bytes = 0;  // counters actually allocated, summed over switches, mean per epoch
  double mean_subepochs = 1;
  double exported_bytes = 0;  // serialized fragments (or sketches) sent per epoch, all switches
};

// Accumulates per-flow error and heavy-hitter counts over epochs.
struct scorer {
  double are_sum = 0, aae_sum = 0;
  u64 flows = 0;
  u64 tp = 0, fp = 0, fn = 0;
  void add(double estimate, double truth, double threshold) {
    const double err = std::fabs(estimate - truth);
    are_sum += err / truth;
    aae_sum += err;
    ++flows;
    const bool is_hh = truth >= threshold;
    const bool said_hh = estimate >= threshold;
    tp += is_hh && said_hh ? 1 : 0;
    fp += !is_hh && said_hh ? 1 : 0;
    fn += is_hh && !said_hh ? 1 : 0;
  }
  errors result() const {
    errors e;
    e.are = are_sum / static_cast<double>(flows);
    e.aae = aae_sum / static_cast<double>(flows);
    e.precision = tp + fp == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
    e.recall = tp + fn == 0 ? 1.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
    e.f1 = e.precision + e.recall == 0 ? 0 : 2 * e.precision * e.recall / (e.precision + e.recall);
    return e;
  }
};

double hh_threshold(const epoch_traffic& t) {
  return 0.0005 * static_cast<double>(t.trace.packets.size());
}

// A switch sketch's error scale for choosing the best single switch: e * N / w for Count-Min
// (dropping e), sqrt(F2 / w) for Count Sketch.
template <class Sketch>
double error_scale(const Sketch& s) {
  if constexpr (requires { s.l2_squared(); }) {
    return std::sqrt(std::max(0.0, static_cast<double>(s.l2_squared())) / s.width());
  } else {
    return static_cast<double>(s.total_weight()) / s.width();
  }
}

template <class Sketch>
errors run_baseline(const innet::workload::fat_tree& tree, const std::vector<epoch_traffic>& ep,
                    const std::vector<std::vector<u64>>& memory, const options& o) {
  using counter = typename Sketch::counter_type;
  scorer s;
  double used = 0;
  double exported = 0;
  for (u32 e = 0; e < ep.size(); ++e) {
    const epoch_traffic& t = ep[e];
    // A switch without memory for one column per row keeps no sketch; a flow whose path has
    // none is estimated 0 (as DiSketch would answer it).
    std::vector<std::optional<Sketch>> sketches(tree.switch_count());
    for (u32 n = 0; n < tree.switch_count(); ++n) {
      const u64 width = memory[e][n] / (u64{o.depth} * sizeof(counter));
      if (width == 0) continue;
      sketches[n] = *Sketch::create(o.depth, static_cast<u32>(std::min<u64>(width, ~u32{0})),
                                    sk::fragment_seed(base_seed, n));
      used += static_cast<double>(sketches[n]->memory_bytes());
      exported += static_cast<double>(sketches[n]->serialize().size());
    }
    for (const u32 f : t.trace.packets) {
      const auto hops = t.paths[f].switches();
      for (std::size_t h = 0; h < hops.size(); ++h) {
        if (sketches[hops[h]]) sketches[hops[h]]->update(t.hashes[f * 5 + h], counter{1});
      }
    }
    constexpr double none = std::numeric_limits<double>::infinity();
    std::vector<double> scale;
    for (const auto& sketch : sketches)
      scale.push_back(sketch ? error_scale(*sketch) : none);
    const double threshold = hh_threshold(t);
    for (std::size_t f = 0; f < t.paths.size(); ++f) {
      const auto hops = t.paths[f].switches();
      std::size_t best = 0;
      for (std::size_t h = 1; h < hops.size(); ++h) {
        if (scale[hops[h]] < scale[hops[best]]) best = h;
      }
      const auto& sketch = sketches[hops[best]];
      const double est = sketch ? static_cast<double>(sketch->estimate(t.hashes[f * 5 + best])) : 0;
      s.add(est, t.trace.sizes[f], threshold);
    }
  }
  errors r = s.result();
  r.used_bytes = used / static_cast<double>(ep.size());
  r.exported_bytes = exported / static_cast<double>(ep.size());
  return r;
}

template <class Sketch>
errors run_disketch(const innet::workload::fat_tree& tree, const std::vector<epoch_traffic>& ep,
                    const epoch_traffic& warmup, const std::vector<std::vector<u32>>& topology,
                    const std::vector<std::vector<u64>>& memory, const options& o,
                    sk::subepoch_mode mode, sk::hop_assignment assignment) {
  const u32 switches = tree.switch_count();
  sk::planner_config pc;
  pc.depth = o.depth;
  pc.counter_bytes = sizeof(typename Sketch::counter_type);
  pc.epoch_ns = epoch_ns;
  pc.max_subepochs = o.max_subepochs;
  pc.min_width = 1;
  pc.power_of_two_widths = !o.any_width;
  // The floor only pays in sample mode (see --min-peb); in partition mode a finer split only
  // helps (a sum of per-window row minima is at most the minimum of the summed rows).
  pc.min_peb = mode == sk::subepoch_mode::sample ? o.min_peb : 0;
  pc.mode = mode;
  pc.assignment = assignment;
  pc.base_seed = base_seed;
  // Last epoch's per-switch packet counts predict this epoch's (a warm-up epoch's for the
  // first); the paths are the topology's, not the flows' (no foresight of future flows).
  const std::vector<std::vector<double>> load = history_loads(ep, warmup);
  auto plan = sk::fragment_planner::plan(pc, topology, memory, load);
  if (!plan.ok()) {
    std::fprintf(stderr, "planner: %s\n", std::string(plan.status().message()).c_str());
    std::exit(1);
  }

  sk::fragment_collector<Sketch> collector;
  scorer s;
  double used = 0;
  double subepochs = 0;
  double with_fragment = 0;  // switch-epochs that hold a fragment (the mean of k is over these)
  double exported = 0;
  for (u32 e = 0; e < ep.size(); ++e) {
    const epoch_traffic& t = ep[e];
    // Every switch's fragments for the epoch, in time order.
    std::vector<std::vector<sk::fragment<Sketch>>> frags(switches);
    for (u32 n = 0; n < switches; ++n) {
      const sk::node_plan& np = plan->at(e, n);
      if (np.width == 0) continue;
      subepochs += np.subepochs;
      with_fragment += 1;
      used += static_cast<double>(plan->memory_bytes(e, n));
      for (u32 i = 0; i < np.subepochs; ++i) {
        const sk::fragment_header h = plan->header(e, n, i);
        frags[n].push_back(
            *sk::fragment<Sketch>::create(h, *Sketch::create(o.depth, np.width, h.seed)));
      }
    }
    // Which hops count each flow (every_hop: all; one_hop: the one its assignment hash picks).
    // A switch computes the same per packet; precomputing per flow only saves simulation time.
    std::vector<std::size_t> first(t.paths.size()), last(t.paths.size());
    for (std::size_t f = 0; f < t.paths.size(); ++f) {
      const auto hops = t.paths[f].switches();
      if (assignment == sk::hop_assignment::every_hop) {
        first[f] = 0;
        last[f] = hops.size();
      } else {
        first[f] = plan->assigned_hop(e, t.keys[f], hops);
        last[f] = std::min(first[f] + 1, hops.size());
      }
    }
    const u64 packets = t.trace.packets.size();
    for (u64 i = 0; i < packets; ++i) {
      const u32 f = t.trace.packets[i];
      const auto hops = t.paths[f].switches();
      for (std::size_t h = first[f]; h < last[f]; ++h) {
        auto& list = frags[hops[h]];
        if (list.empty()) continue;
        // Packet i arrives at time i * epoch / packets: its sub-epoch is i * k / packets.
        const std::size_t j = static_cast<std::size_t>(i * list.size() / packets);
        (void)list[j].update(t.hashes[f * 5 + h], typename Sketch::counter_type{1});
      }
    }
    // Export: serialize every fragment, as switches would, into the collector.
    for (auto& list : frags) {
      for (const auto& f : list) {
        const std::vector<std::byte> bytes = f.serialize();
        exported += static_cast<double>(bytes.size());
        if (absl::Status st = collector.ingest(bytes); !st.ok()) {
          std::fprintf(stderr, "ingest: %s\n", std::string(st.message()).c_str());
          std::exit(1);
        }
      }
    }
    const double threshold = hh_threshold(t);
    const u64 begin = plan->epoch_begin(e);
    const u64 end = plan->epoch_end(e);
    for (std::size_t f = 0; f < t.paths.size(); ++f) {
      const auto got = collector.estimate(t.keys[f], t.paths[f].switches(), begin, end, *plan);
      s.add(got.value, t.trace.sizes[f], threshold);
    }
  }
  errors r = s.result();
  r.used_bytes = used / static_cast<double>(ep.size());
  r.mean_subepochs = with_fragment == 0 ? 0 : subepochs / with_fragment;
  r.exported_bytes = exported / static_cast<double>(ep.size());
  return r;
}

// ---- Entropy (--entropy): network-wide Shannon entropy of the flow-size distribution ----
//
// DiSketch spatial: every switch keeps a UnivMon fragment, ALL with one shared seed, and counts
// only the flows assigned to it (one hop per flow), so the fragments partition the traffic and
// add up to a network-wide UnivMon: fold them to the smallest width and merge (univmon fold /
// merge), then entropy(). Also reported: the sum of the fragments' G-sums (sum x log x and L1
// are additive over disjoint traffic; no folding, each fragment at its own width).
// Baseline: per-switch sketches that count every flow at every hop cannot be combined into
// network-wide moments (a flow is in 1 to 5 of them; sums double count, and no single switch
// sees all traffic). The best alternative with the same memory: UnivMon at the ingress edge
// switches only (hop 0 counts the flow; each edge switch its own seed, any width that fits),
// whose traffic is disjoint, combined by adding their G-sums and L1. The aggregation and core
// switches' memory is unusable for it.
using um = innet::sketch::univmon<std::int32_t>;
constexpr u32 um_levels = 8;
constexpr u32 um_heavy = 32;

// Bytes of a univmon's candidate storage (independent of the width).
u64 univmon_overhead(u32 depth) {
  um::config c{um_levels, depth, 1, um_heavy, 0};
  const um one = *um::create(c);
  return one.memory_bytes() - u64{um_levels} * depth * sizeof(std::int32_t);
}

double exact_entropy(const epoch_traffic& t) {
  double total = 0, g = 0;
  for (const u64 f : t.trace.sizes) {
    const double x = static_cast<double>(f);
    total += x;
    g += x > 0 ? x * std::log2(x) : 0;
  }
  return std::log2(total) - g / total;
}

struct entropy_errors {
  double spatial_merged = 0, spatial_sum = 0, ingress = 0;  // mean relative error over epochs
  double spatial_width = 0;                                 // mean common (folded) width
  double spatial_bytes = 0, ingress_bytes = 0;   // memory used per epoch (all switches), mean
  u32 spatial_missing = 0, ingress_missing = 0;  // switch-epochs too small for a univmon
};

entropy_errors run_entropy(const innet::workload::fat_tree& tree,
                           const std::vector<epoch_traffic>& ep, const epoch_traffic& warmup,
                           const std::vector<std::vector<u32>>& topology,
                           const std::vector<std::vector<u64>>& memory, const options& o) {
  const u32 switches = tree.switch_count();
  const u64 overhead = univmon_overhead(o.depth);
  // The planner sizes UnivMon fragments as a sketch of depth levels * depth over the memory
  // left after the candidate storage: its width is then the univmon's per-level width.
  sk::planner_config pc;
  pc.depth = um_levels * o.depth;
  pc.counter_bytes = sizeof(std::int32_t);
  pc.epoch_ns = epoch_ns;
  pc.min_width = 8;
  pc.base_seed = base_seed;
  std::vector<std::vector<u64>> usable(ep.size(), std::vector<u64>(switches));
  for (u32 e = 0; e < ep.size(); ++e)
    for (u32 n = 0; n < switches; ++n)
      usable[e][n] = memory[e][n] > overhead ? memory[e][n] - overhead : 0;
  const std::vector<std::vector<double>> load = history_loads(ep, warmup);
  entropy_errors r;
  auto plan = sk::fragment_planner::plan(pc, topology, usable, load);
  const u64 shared_seed = sk::fragment_seed(base_seed, 0xFFFF0000u);
  for (u32 e = 0; e < ep.size(); ++e) {
    const epoch_traffic& t = ep[e];
    const double truth = exact_entropy(t);
    // DiSketch spatial.
    if (plan.ok()) {
      std::vector<std::optional<um>> frag(switches);
      for (u32 n = 0; n < switches; ++n) {
        const u32 w = plan->at(e, n).width;
        if (w == 0) {
          ++r.spatial_missing;
          continue;
        }
        frag[n] = *um::create(um::config{um_levels, o.depth, w, um_heavy, shared_seed});
        r.spatial_bytes += static_cast<double>(frag[n]->memory_bytes());
      }
      std::vector<u32> owner(t.paths.size());
      for (std::size_t f = 0; f < t.paths.size(); ++f) {
        const auto hops = t.paths[f].switches();
        owner[f] = hops[plan->assigned_hop(e, t.keys[f], hops)];
      }
      for (const u32 f : t.trace.packets)
        (void)frag[owner[f]]->update(t.keys[f]);
      u32 common = ~u32{0};
      double l1 = 0, g = 0;
      for (const auto& fr : frag) {
        if (!fr) continue;
        common = std::min(common, fr->width());
        l1 += fr->l1();
        g += fr->g_sum([](double x) { return x > 0 ? x * std::log2(x) : 0.0; });
      }
      std::optional<um> net;
      for (const auto& fr : frag) {
        if (!fr) continue;
        const u32 halvings = static_cast<u32>(std::countr_zero(fr->width() / common));
        um folded = halvings == 0 ? *fr : *fr->fold(halvings);
        if (!net) {
          net.emplace(std::move(folded));
        } else {
          (void)net->merge(folded);
        }
      }
      r.spatial_merged += std::fabs(net->entropy() - truth) / truth;
      r.spatial_sum += std::fabs(std::max(0.0, std::log2(l1) - g / l1) - truth) / truth;
      r.spatial_width += common;
    }
    // Baseline alternative: ingress edge switches only.
    std::vector<std::optional<um>> edge(switches);
    for (u32 n = 0; n < tree.edge_count(); ++n) {
      const u64 w = usable[e][n] / (u64{um_levels} * o.depth * sizeof(std::int32_t));
      if (w < 8) {
        ++r.ingress_missing;
        continue;
      }
      edge[n] = *um::create(um::config{um_levels, o.depth, static_cast<u32>(w), um_heavy,
                                       sk::fragment_seed(base_seed, n)});
      r.ingress_bytes += static_cast<double>(edge[n]->memory_bytes());
    }
    for (const u32 f : t.trace.packets) {
      auto& s = edge[t.paths[f].switches()[0]];
      if (s) (void)s->update(t.keys[f]);
    }
    double l1 = 0, g = 0;
    for (const auto& s : edge) {
      if (!s) continue;
      l1 += s->l1();
      g += s->g_sum([](double x) { return x > 0 ? x * std::log2(x) : 0.0; });
    }
    const double h = l1 > 0 ? std::max(0.0, std::log2(l1) - g / l1) : 0;
    r.ingress += std::fabs(h - truth) / truth;
  }
  const double n = static_cast<double>(ep.size());
  if (!plan.ok()) {
    r.spatial_merged = r.spatial_sum = NAN;
  } else {
    r.spatial_merged /= n;
    r.spatial_sum /= n;
    r.spatial_width /= n;
  }
  r.ingress /= n;
  r.spatial_bytes /= n;
  r.ingress_bytes /= n;
  return r;
}

struct point {
  double memory_per_switch;    // mean residual bytes per switch (the x-axis)
  bool baseline_only = false;  // above the sweep: extends the baseline curve for interpolation
  errors baseline, partition, sample, spatial;
};

// log-log interpolation of the baseline's memory at which its ARE equals `are`; NaN if outside.
double baseline_memory_at(const std::vector<point>& pts, double are) {
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    const double a0 = pts[i].baseline.are, a1 = pts[i + 1].baseline.are;
    if ((a0 >= are && are >= a1) || (a0 <= are && are <= a1)) {
      if (a0 == a1) return pts[i].memory_per_switch;
      const double t = (std::log(are) - std::log(a0)) / (std::log(a1) - std::log(a0));
      return std::exp(
          std::log(pts[i].memory_per_switch) +
          t * (std::log(pts[i + 1].memory_per_switch) - std::log(pts[i].memory_per_switch)));
    }
  }
  return NAN;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) return 2;
  const auto tree = *innet::workload::fat_tree::create(4);
  std::vector<epoch_traffic> ep;
  for (u32 e = 0; e < o.epochs; ++e)
    ep.push_back(make_epoch(tree, o, e));
  const auto shape = memory_shape(o.epochs, tree.switch_count(), o.seed);
  // Traffic of a seed no scored epoch uses: the history the first epoch is planned from.
  const epoch_traffic warmup = make_epoch(tree, o, ~u32{0});
  const std::vector<std::vector<u32>> topology = topology_paths(tree);

  // Memory level per switch, in steps of sqrt(2). Full: 24 KiB .. 1.5 MiB, where the baseline's
  // ARE goes from ~10 to ~0.01 (realistic: most flows are mice, and an ARE in the hundreds says
  // nothing); then four more baseline-only levels (up to 6 MiB) so that DiSketch's better
  // points still find the baseline's memory at equal ARE. Quick: 4 .. 64 KiB, two extra.
  std::vector<double> levels;
  const double lo = o.quick ? 4 * 1024 : 24 * 1024;
  const double hi = o.quick ? 64 * 1024 : 1536 * 1024;
  const u32 extra = o.quick ? 2 : 4;
  for (double m = lo; m <= hi * 1.01; m *= std::sqrt(2.0))
    levels.push_back(m);
  const std::size_t swept = levels.size();
  for (u32 i = 0; i < extra; ++i)
    levels.push_back(levels.back() * std::sqrt(2.0));

  std::printf(
      "DiSketch evaluation: k=4 fat tree (%u switches), %u epochs x %llu packets, %llu "
      "flows/epoch, Zipf 1.1, %s depth %u, 32-bit counters, seed %llu\n",
      tree.switch_count(), o.epochs, static_cast<unsigned long long>(o.packets),
      static_cast<unsigned long long>(o.flows), o.count_sketch ? "Count Sketch" : "Count-Min",
      o.depth, static_cast<unsigned long long>(o.seed));
  std::printf(
      "residual memory per switch per epoch: level x lognormal(mean 1, sigma 0.8); "
      "heavy hitter >= 0.05%% of an epoch's packets\n"
      "spatial = one hop per flow (default); partition / sample = every hop counts every flow\n\n");
  std::printf("%10s %10s | %9s %6s %7s | %9s %6s %5s %7s | %9s %6s %7s | %9s %6s %5s %7s\n",
              "mem/switch", "total", "base ARE", "F1", "export", "spat ARE", "F1", "k", "export",
              "part ARE", "F1", "export", "samp ARE", "F1", "k", "export");

  std::vector<point> pts;
  for (std::size_t li = 0; li < levels.size(); ++li) {
    const double level = levels[li];
    std::vector<std::vector<u64>> memory(o.epochs, std::vector<u64>(tree.switch_count()));
    double total = 0;
    for (u32 e = 0; e < o.epochs; ++e) {
      for (u32 n = 0; n < tree.switch_count(); ++n) {
        memory[e][n] = static_cast<u64>(level * shape[e][n]);
        total += static_cast<double>(memory[e][n]);
      }
    }
    point p;
    p.memory_per_switch = total / (o.epochs * tree.switch_count());
    p.baseline_only = li >= swept;
    const auto every = sk::hop_assignment::every_hop;
    if (o.count_sketch) {
      p.baseline = run_baseline<cs>(tree, ep, memory, o);
      if (!p.baseline_only) {
        p.spatial = run_disketch<cs>(tree, ep, warmup, topology, memory, o,
                                     sk::subepoch_mode::partition, sk::hop_assignment::one_hop);
        p.partition = run_disketch<cs>(tree, ep, warmup, topology, memory, o,
                                       sk::subepoch_mode::partition, every);
        p.sample = run_disketch<cs>(tree, ep, warmup, topology, memory, o,
                                    sk::subepoch_mode::sample, every);
      }
    } else {
      p.baseline = run_baseline<cm>(tree, ep, memory, o);
      if (!p.baseline_only) {
        p.spatial = run_disketch<cm>(tree, ep, warmup, topology, memory, o,
                                     sk::subepoch_mode::partition, sk::hop_assignment::one_hop);
        p.partition = run_disketch<cm>(tree, ep, warmup, topology, memory, o,
                                       sk::subepoch_mode::partition, every);
        p.sample = run_disketch<cm>(tree, ep, warmup, topology, memory, o,
                                    sk::subepoch_mode::sample, every);
      }
    }
    pts.push_back(p);
    if (p.baseline_only) {
      std::printf("%8.1fKB %8.1fKB | %9.4f %6.3f %5.0fKB | (baseline only: extends its curve)\n",
                  p.memory_per_switch / 1024, p.memory_per_switch * tree.switch_count() / 1024,
                  p.baseline.are, p.baseline.f1, p.baseline.exported_bytes / 1024);
    } else {
      std::printf(
          "%8.1fKB %8.1fKB | %9.4f %6.3f %5.0fKB | %9.4f %6.3f %5.2f %5.0fKB | %9.4f %6.3f "
          "%5.0fKB | %9.4f %6.3f %5.2f %5.0fKB\n",
          p.memory_per_switch / 1024, p.memory_per_switch * tree.switch_count() / 1024,
          p.baseline.are, p.baseline.f1, p.baseline.exported_bytes / 1024, p.spatial.are,
          p.spatial.f1, p.spatial.mean_subepochs, p.spatial.exported_bytes / 1024, p.partition.are,
          p.partition.f1, p.partition.exported_bytes / 1024, p.sample.are, p.sample.f1,
          p.sample.mean_subepochs, p.sample.exported_bytes / 1024);
    }
    std::fflush(stdout);
  }

  std::printf(
      "\n(k: mean sub-epochs per switch; export: serialized bytes sent to the collector "
      "per epoch. Counters allocated never exceed the residual memory; DiSketch %s.)\n\n",
      o.any_width ? "uses every column that fits, like the baseline"
                  : "rounds widths down to powers of two, the baseline does not");
  std::printf(
      "Baseline (the issue's): each flow answered by the best single switch on its path, one\n"
      "whole-epoch sketch per switch. The partition/every-hop column is the stronger control:\n"
      "the same fragments at every hop, min (median) over the path, so it isolates what spatial\n"
      "disaggregation adds beyond combining hops.\n\n");
  std::printf("%10s | %-34s | %-34s | %-34s\n", "", "DiSketch spatial (one hop)",
              "DiSketch partition (every hop)", "DiSketch sample (every hop)");
  std::printf("%10s | %16s %17s | %16s %17s | %16s %17s\n", "mem/switch", "mem saved @ ARE",
              "ARE ratio @ mem", "mem saved @ ARE", "ARE ratio @ mem", "mem saved @ ARE",
              "ARE ratio @ mem");
  for (const point& p : pts) {
    if (p.baseline_only) continue;
    auto saved = [&](double are) {
      const double m = baseline_memory_at(pts, are);
      if (std::isnan(m)) return std::string("(off curve)");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * (1 - p.memory_per_switch / m));
      return std::string(buf);
    };
    std::printf("%8.1fKB | %16s %16.2fx | %16s %16.2fx | %16s %16.2fx\n",
                p.memory_per_switch / 1024, saved(p.spatial.are).c_str(),
                p.baseline.are / p.spatial.are, saved(p.partition.are).c_str(),
                p.baseline.are / p.partition.are, saved(p.sample.are).c_str(),
                p.baseline.are / p.sample.are);
  }
  if (o.entropy) {
    std::printf(
        "\nEntropy relative error (network-wide flow-size entropy; UnivMon %u levels, depth %u, "
        "%u candidates/level; candidate storage %.1f KB per sketch comes out of the memory):\n",
        um_levels, o.depth, um_heavy, static_cast<double>(univmon_overhead(o.depth)) / 1024);
    std::printf("%10s | %16s %16s %10s %10s | %16s %10s\n", "mem/switch", "spatial merged",
                "spatial sum", "fold width", "used/sw", "ingress edges", "used/sw");
    for (const double level : {256.0 * 1024, 1024.0 * 1024, 4096.0 * 1024}) {
      std::vector<std::vector<u64>> memory(o.epochs, std::vector<u64>(tree.switch_count()));
      double total = 0;
      for (u32 e = 0; e < o.epochs; ++e) {
        for (u32 n = 0; n < tree.switch_count(); ++n) {
          memory[e][n] = static_cast<u64>(level * shape[e][n]);
          total += static_cast<double>(memory[e][n]);
        }
      }
      const entropy_errors r = run_entropy(tree, ep, warmup, topology, memory, o);
      // used/sw: univmon bytes actually allocated per epoch, divided by all switches (the
      // ingress contender uses edge switches only, so it leaves most memory idle).
      const double sw = tree.switch_count();
      std::printf(
          "%8.1fKB | %16.5f %16.5f %10.0f %8.1fKB | %16.5f %8.1fKB   (no univmon: %u / %u "
          "switch-epochs)\n",
          total / (o.epochs * sw) / 1024, r.spatial_merged, r.spatial_sum, r.spatial_width,
          r.spatial_bytes / sw / 1024, r.ingress, r.ingress_bytes / sw / 1024, r.spatial_missing,
          r.ingress_missing);
      std::fflush(stdout);
    }
  } else {
    std::printf("\nEntropy: run with --entropy (UnivMon; see run_entropy).\n");
  }

  if (!o.csv.empty()) {
    std::FILE* out = std::fopen(o.csv.c_str(), "w");
    if (out == nullptr) {
      std::perror(o.csv.c_str());
      return 1;
    }
    std::fprintf(out,
                 "sketch,widths,method,memory_per_switch_bytes,total_memory_bytes,allocated_bytes,"
                 "are,aae,hh_f1,"
                 "hh_precision,hh_recall,mean_subepochs,exported_bytes_per_epoch,"
                 "baseline_memory_at_equal_are\n");
    for (const point& p : pts) {
      const auto row = [&](const char* name, const errors& e, double at) {
        std::fprintf(out, "%s,%s,%s,%.1f,%.1f,%.1f,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.1f,%.1f\n",
                     o.count_sketch ? "count_sketch" : "count_min", o.any_width ? "any" : "pow2",
                     name, p.memory_per_switch, p.memory_per_switch * tree.switch_count(),
                     e.used_bytes, e.are, e.aae, e.f1, e.precision, e.recall, e.mean_subepochs,
                     e.exported_bytes, at);
      };
      row("baseline", p.baseline, p.memory_per_switch);
      if (p.baseline_only) continue;
      row("disketch_spatial", p.spatial, baseline_memory_at(pts, p.spatial.are));
      row("disketch_partition", p.partition, baseline_memory_at(pts, p.partition.are));
      row("disketch_sample", p.sample, baseline_memory_at(pts, p.sample.are));
    }
    std::fclose(out);
    std::printf("wrote %s\n", o.csv.c_str());
  }
  return 0;
}
