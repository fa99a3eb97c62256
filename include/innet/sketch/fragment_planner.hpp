// Plans DiSketch fragments: for every epoch and node, the width of the node's fragment and how
// many sub-epochs it splits the epoch into (sketch/fragment.hpp describes fragments).
//
// Inputs: the flows' paths (lists of node ids), each node's residual memory in every epoch
// (bytes; it may change from one epoch to the next), each node's expected traffic per epoch
// (packets; e.g. last epoch's counts, or fragment_planner::loads from paths and flow sizes), and
// the sketch shape (depth, counter size).
//
// Width. The largest power of two w with depth * w * counter_bytes <= memory. Powers of two let
// a node's fragments of different epochs fold to a common width and sum (index(w/2) ==
// index(w) >> 1). A node whose memory holds less than min_width columns keeps no fragment.
// Rounding down costs up to half the memory (about 28% on average for memory spread evenly in
// log scale); point queries do not need folding (the collector sums per-fragment estimates), so
// power_of_two_widths = false uses every column that fits when merged() is not needed.
//
// Sub-epochs (the paper's error equalisation). A fragment's per-fragment error bound (PEB, the
// paper's rho) is what its estimates can be off by: for Count-Min about
//   rho = (packets the fragment summarises) / width
// (epsilon * N with epsilon = e / w, dropping the constant). On one path, nodes differ wildly in
// rho: a core switch with little free memory and all the inter-pod traffic may have a rho ten
// times an edge switch's. Taking the min (Count-Min) or median (Count Sketch) across the path
// gains little when one node is much worse than the others; it gains most when all hops are
// about equally good. So a node whose full-epoch rho_n exceeds the best rho on its paths
// splits its epoch into
//   k_n = smallest power of two >= rho_n / target_n      (capped at max_subepochs)
// sub-epochs, where target_n = min over the paths through n of the smallest full-epoch rho on
// that path (or config.target_peb when set). Each of its fragments then has rho about
// rho_n / k_n <= target_n, i.e. within 2x of the best hop: the PEBs of a path are equalised.
// Powers of two keep sub-epoch windows nested across epochs and nodes, so a time range that
// aligns with one node's windows aligns with every coarser node's. config.min_peb puts a floor
// under the target: a fragment whose rho is already about one packet per counter is nearly
// exact, and splitting it further buys nothing in partition mode and costs sampling error in
// sample mode.
//
// What the split buys depends on the mode:
// * partition: every sub-epoch fragment counts every flow. A query over a range shorter than
//   the epoch only pays for the traffic of the sub-epochs it overlaps, and the fragments of all
//   hops have the same error scale. A query over a whole epoch sums the k fragments, whose
//   errors add up to the single-sketch error: no loss, no gain for that query. Coverage is
//   exact: the node's windows tile the epoch.
// * sample: sub-epoch i of a node tracks only the flows whose fragment_slot is i, so each
//   fragment sees about 1/k of the flows for 1/k of the time, and its estimates (scaled by k)
//   stand for the whole epoch: rho_n / k for a full-epoch query, at the price of sampling error
//   for flows whose packets are not spread evenly over the epoch. This is our reading of the
//   paper's sub-epoching (each flow is hashed to one sub-epoch of a fragment); a flow is still
//   represented at every hop for the whole epoch.
//
// Spatial disaggregation (hop_assignment::one_hop, the default). The modes above let every hop
// count every flow, so each fragment carries all of its node's traffic and combining hops (min /
// median) only trims a little noise. In one_hop mode every flow is counted at exactly ONE node of
// its path, so a node's fragment holds only ~1/(path length) of the traffic it forwards and its
// noise drops accordingly; the collector answers the flow from that node's fragments alone
// (summed over the node's sub-epochs and the epochs in the range), so Count-Min answers stay
// upper bounds. Which node: every node n gets an integer assignment weight share_n (0 without a
// fragment); a flow on path (n_1 .. n_L) goes to hop i with probability
//   share_{n_i} / (share_{n_1} + ... + share_{n_L}),
// chosen by the flow's assignment hash, a 64-bit XXH3 of the flow key under
// assignment_seed(base_seed) -- its own seed, unrelated to every node's row-hash seed, so the
// choice of hop is independent of the counters the flow lands in. The hash is the same at every
// hop, so all hops agree and the flow is counted exactly once (a switch needs the path's node
// ids, known from ECMP / source routing, and the per-epoch share table the controller installs;
// the arithmetic is integer: hop = first i whose prefix sum of shares exceeds
// (hash >> 32) * total >> 32). Error equalisation picks the shares:
//   share_n ~ width_n / load_n = 1 / rho_n (full-epoch rho from last epoch's traffic),
// scaled so the largest share is 2^16. A node then receives load_n * share_n / S of the traffic,
// where S is the share sum of the flow's path, so its assigned rho is
//   load_n * share_n / (S * width_n) = 1 / S
// -- the same for every node of the path (exactly so when the node's flows all have paths with
// the same S, e.g. a single path; approximately otherwise). node_plan::peb reports the expected
// assigned rho (load_n * share_n * mean over the node's paths of 1/S, / width). Sub-epochs: the
// shares already equalise rho along a path, so the automatic target does not split (a split
// whose fragments all count the same flows only multiplies the exports: a full-epoch query sums
// them back); an explicit target_peb still splits by the rule above (min_peb as its floor), applied
// to the assigned rho, for finer time ranges. Memory may change every epoch: each epoch has its own
// widths, shares and sub-epochs, and a node's fragments are summed across them.
//
// Guarantee (checked, FailedPrecondition otherwise): in every epoch every path has at least one
// node with a fragment, so every flow is covered by fragments on its path across the whole query
// window.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/detail/freestanding.hpp"
#include "innet/core/hash.hpp"
#include "innet/sketch/fragment.hpp"

namespace innet::sketch {

enum class subepoch_mode : u8 { partition, sample };

// every_hop: each node on a flow's path counts it (the collector combines hops by min/median).
// one_hop: each flow is counted at one node of its path, chosen by its assignment hash
// (spatial disaggregation; see the file comment).
enum class hop_assignment : u8 { every_hop, one_hop };

// The seed of the flow-to-hop assignment hash: derived from base_seed like a node's seed but
// through a distinct input, so it differs from fragment_seed(base_seed, n) for every node n.
constexpr u64 assignment_seed(u64 base_seed) noexcept {
  return fragment_seed(base_seed ^ 0xA5516E3D15A66A5Dull, 0xFFFFFFFFu);
}

// The flow's assignment hash (one 64-bit XXH3 of the key bytes).
inline u64 assignment_hash(std::span<const std::byte> key, u64 base_seed) noexcept {
  return xxh3_64(key, assignment_seed(base_seed));
}

struct planner_config {
  u32 depth = 4;
  u32 counter_bytes = 4;            // 1, 2, 4 or 8
  u64 start_ns = 0;                 // epoch e is [start_ns + e * epoch_ns, + epoch_ns)
  u64 epoch_ns = 1'000'000'000;     // a multiple of max_subepochs
  u32 max_subepochs = 16;           // power of two, <= 2^15
  u32 min_width = 8;                // fewer columns than this: no fragment
  bool power_of_two_widths = true;  // false: every column that fits (no folding across widths)
  double target_peb = 0;            // > 0: equalise every node to this rho instead
  double min_peb = 0;               // never split a node below this rho (see the file comment)
  subepoch_mode mode = subepoch_mode::partition;
  hop_assignment assignment = hop_assignment::one_hop;
  u64 base_seed = 0;  // node n hashes with fragment_seed(base_seed, n)
};

struct node_plan {
  u32 width = 0;      // 0: no fragment this epoch
  u32 subepochs = 1;  // power of two
  double peb = 0;     // expected rho of each of its fragments (its packets / width)
  u32 share = 0;      // one_hop: assignment weight (0: no fragment); every_hop: unused
};

class fragment_plan {
 public:
  fragment_plan(const planner_config& config, u32 node_count, std::vector<node_plan> cells)
      : config_{config}, node_count_{node_count}, cells_{std::move(cells)} {}

  const planner_config& config() const noexcept { return config_; }
  u32 node_count() const noexcept { return node_count_; }
  u32 epoch_count() const noexcept {
    return node_count_ == 0 ? 0 : static_cast<u32>(cells_.size() / node_count_);
  }
  // The node's plan in the epoch; a node or epoch outside the plan (a path naming an unknown
  // node, a query past the last epoch) has no fragment: width 0, share 0.
  const node_plan& at(u32 epoch, u32 node) const noexcept {
    static constexpr node_plan none{};
    if (node >= node_count_ || epoch >= epoch_count()) return none;
    return cells_[usize{epoch} * node_count_ + node];
  }

  u64 epoch_begin(u32 epoch) const noexcept { return config_.start_ns + epoch * config_.epoch_ns; }
  u64 epoch_end(u32 epoch) const noexcept { return epoch_begin(epoch) + config_.epoch_ns; }

  // Bytes of counters the node holds at any moment of the epoch (one fragment at a time).
  u64 memory_bytes(u32 epoch, u32 node) const noexcept {
    return u64{config_.depth} * at(epoch, node).width * config_.counter_bytes;
  }

  // The header of the node's i-th fragment (i < subepochs) in the epoch; windows tile the epoch.
  fragment_header header(u32 epoch, u32 node, u32 i) const noexcept {
    const node_plan& p = at(epoch, node);
    fragment_header h;
    h.node = node;
    h.epoch = epoch;
    h.begin_ns = epoch_begin(epoch) + i * (config_.epoch_ns / p.subepochs);
    h.end_ns = h.begin_ns + config_.epoch_ns / p.subepochs;
    h.seed = fragment_seed(config_.base_seed, node);
    if (config_.mode == subepoch_mode::sample) {
      h.slots = static_cast<u16>(p.subepochs);
      h.slot = static_cast<u16>(i);
    }
    return h;
  }

  // one_hop: the index in `path` of the hop that counts the flow with assignment hash `h` in the
  // epoch (every_hop: 0); path.size() if no node of the path has a fragment.
  usize assigned_hop(u32 epoch, u64 h, std::span<const u32> path) const noexcept {
    if (config_.assignment == hop_assignment::every_hop) return 0;
    u64 total = 0;
    for (u32 n : path)
      total += at(epoch, n).share;
    if (total == 0) return path.size();
    const u64 r = ((h >> 32) * total) >> 32;  // uniform in [0, total) for total < 2^32
    u64 prefix = 0;
    for (usize i = 0; i < path.size(); ++i) {
      prefix += at(epoch, path[i]).share;
      if (r < prefix) return i;
    }
    return path.size();  // unreachable: r < total
  }
  usize assigned_hop(u32 epoch, std::span<const std::byte> key,
                     std::span<const u32> path) const noexcept {
    return assigned_hop(epoch, assignment_hash(key, config_.base_seed), path);
  }

  // Whether the node at hop `hop` of `path` counts the flow (hash `h`) in the epoch: it has a
  // fragment and, under one_hop, the flow is assigned to it.
  bool counts(u32 epoch, usize hop, u64 h, std::span<const u32> path) const noexcept {
    if (hop >= path.size() || at(epoch, path[hop]).width == 0) return false;
    return config_.assignment == hop_assignment::every_hop || assigned_hop(epoch, h, path) == hop;
  }

  // Which of the node's fragments a packet at offset `t` ns into the epoch goes to.
  u32 subepoch_at(u32 epoch, u32 node, u64 t) const noexcept {
    return static_cast<u32>(t / (config_.epoch_ns / at(epoch, node).subepochs));
  }

 private:
  planner_config config_;
  u32 node_count_;
  std::vector<node_plan> cells_;  // [epoch * node_count + node]
};

class fragment_planner {
 public:
  // memory[e][n]: residual bytes of node n in epoch e (every row the same length: the node
  // count). load[e][n]: expected packets at node n in epoch e; a single row is used for every
  // epoch. Paths list node ids < node count.
  static absl::StatusOr<fragment_plan> plan(const planner_config& config,
                                            std::span<const std::vector<u32>> paths,
                                            std::span<const std::vector<u64>> memory,
                                            std::span<const std::vector<double>> load) {
    if (absl::Status s = check(config, paths, memory, load); !s.ok()) return s;
    const u32 nodes = memory.empty() ? 0 : static_cast<u32>(memory[0].size());
    std::vector<node_plan> cells(memory.size() * nodes);
    constexpr double inf = std::numeric_limits<double>::infinity();
    for (u32 e = 0; e < memory.size(); ++e) {
      const std::vector<double>& l = load.size() == 1 ? load[0] : load[e];
      node_plan* row = cells.data() + usize{e} * nodes;
      std::vector<double> rho(nodes, inf);
      for (u32 n = 0; n < nodes; ++n) {
        row[n].width = width_for(config, memory[e][n]);
        if (row[n].width != 0) rho[n] = std::max(l[n], 0.0) / row[n].width;
      }
      if (config.assignment == hop_assignment::one_hop) assign(row, nodes, l, paths, rho);
      std::vector<double> target(nodes, inf);
      for (usize p = 0; p < paths.size(); ++p) {
        double best = inf;
        for (u32 n : paths[p])
          best = std::min(best, rho[n]);
        if (best == inf) {
          return absl::FailedPreconditionError(
              absl::StrCat("fragment_planner: in epoch ", e, " no node of path ", p,
                           " has memory for a fragment of ", config.min_width, " columns"));
        }
        for (u32 n : paths[p])
          target[n] = std::min(target[n], best);
      }
      for (u32 n = 0; n < nodes; ++n) {
        if (row[n].width == 0) continue;
        // one_hop: the shares already equalise rho along paths, and splitting a node whose
        // fragments all count the same flows only multiplies its exports (a full-epoch query
        // sums them back), so only an explicit target splits.
        const bool automatic = config.assignment == hop_assignment::every_hop;
        const double t =
            std::max(config.target_peb > 0 ? config.target_peb : (automatic ? target[n] : inf),
                     config.min_peb);
        u32 k = 1;
        if (t > 0 && t != inf) {
          while (k < config.max_subepochs && rho[n] > t * k)
            k *= 2;
        }
        row[n].subepochs = k;
        row[n].peb = rho[n] / k;
      }
    }
    return fragment_plan(config, nodes, std::move(cells));
  }

  // one_hop: sets every node's share (~ width / load, the largest 2^16) and replaces rho with
  // the expected assigned rho (see the file comment).
  static void assign(node_plan* row, u32 nodes, const std::vector<double>& load,
                     std::span<const std::vector<u32>> paths, std::vector<double>& rho) {
    std::vector<double> a(nodes, 0.0);
    double a_max = 0;
    for (u32 n = 0; n < nodes; ++n) {
      if (row[n].width == 0) continue;
      // A node that saw no traffic last epoch can take a lot: treat it as one packet.
      a[n] = row[n].width / std::max(load[n], 1.0);
      a_max = std::max(a_max, a[n]);
    }
    for (u32 n = 0; n < nodes; ++n) {
      if (row[n].width == 0) continue;
      row[n].share =
          static_cast<u32>(std::clamp<long>(std::lround(a[n] / a_max * 65536.0), 1, 65536));
    }
    // Mean of 1/S over the paths through each node.
    std::vector<double> inv_s(nodes, 0.0);
    std::vector<u32> through(nodes, 0);
    for (const std::vector<u32>& p : paths) {
      u64 total = 0;
      for (u32 n : p)
        total += row[n].share;
      if (total == 0) continue;
      for (u32 n : p) {
        inv_s[n] += 1.0 / static_cast<double>(total);
        ++through[n];
      }
    }
    for (u32 n = 0; n < nodes; ++n) {
      if (row[n].width == 0) continue;
      if (through[n] == 0) continue;  // on no path: it keeps its full-epoch rho
      rho[n] = std::max(load[n], 0.0) * row[n].share * (inv_s[n] / through[n]) / row[n].width;
    }
  }

  // Expected packets per node: the sum of weights[f] over the flows f whose path crosses it.
  static std::vector<double> loads(u32 node_count, std::span<const std::vector<u32>> paths,
                                   std::span<const double> weights) {
    std::vector<double> out(node_count, 0.0);
    for (usize f = 0; f < paths.size() && f < weights.size(); ++f) {
      for (u32 n : paths[f]) {
        if (n < node_count) out[n] += weights[f];
      }
    }
    return out;
  }

  // The fragment width for `bytes` of memory (0 if below min_width columns).
  static u32 width_for(const planner_config& config, u64 bytes) noexcept {
    const u64 columns = bytes / (u64{config.depth} * config.counter_bytes);
    if (columns < config.min_width || columns == 0) return 0;
    if (!config.power_of_two_widths) return static_cast<u32>(std::min<u64>(columns, u64{1} << 31));
    u64 w = 1;
    while (w * 2 <= columns && w * 2 <= (u64{1} << 31))
      w *= 2;
    return static_cast<u32>(w);
  }

 private:
  static absl::Status check(const planner_config& c, std::span<const std::vector<u32>> paths,
                            std::span<const std::vector<u64>> memory,
                            std::span<const std::vector<double>> load) {
    if (c.depth == 0 || c.depth > 64) {
      return absl::InvalidArgumentError("fragment_planner: depth must be in [1, 64]");
    }
    if (c.counter_bytes != 1 && c.counter_bytes != 2 && c.counter_bytes != 4 &&
        c.counter_bytes != 8) {
      return absl::InvalidArgumentError("fragment_planner: counter_bytes must be 1, 2, 4 or 8");
    }
    if (c.max_subepochs == 0 || (c.max_subepochs & (c.max_subepochs - 1)) != 0 ||
        c.max_subepochs > (1U << 15)) {
      return absl::InvalidArgumentError(
          "fragment_planner: max_subepochs must be a power of two <= 32768");
    }
    if (c.epoch_ns == 0 || c.epoch_ns % c.max_subepochs != 0) {
      return absl::InvalidArgumentError(
          "fragment_planner: epoch_ns must be a positive multiple of max_subepochs");
    }
    if (memory.empty()) return absl::InvalidArgumentError("fragment_planner: no epochs");
    const usize nodes = memory[0].size();
    for (const auto& row : memory) {
      if (row.size() != nodes) {
        return absl::InvalidArgumentError(
            "fragment_planner: every epoch needs a memory entry per node");
      }
    }
    if (load.size() != 1 && load.size() != memory.size()) {
      return absl::InvalidArgumentError("fragment_planner: load needs one row, or one per epoch");
    }
    for (const auto& row : load) {
      if (row.size() != nodes) {
        return absl::InvalidArgumentError("fragment_planner: every load row needs one per node");
      }
    }
    const u64 epochs_end = c.start_ns + memory.size() * c.epoch_ns;
    if (epochs_end < c.start_ns || (epochs_end - c.start_ns) / c.epoch_ns != memory.size()) {
      return absl::InvalidArgumentError("fragment_planner: epochs overflow 64-bit time");
    }
    for (usize p = 0; p < paths.size(); ++p) {
      if (paths[p].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("fragment_planner: path ", p, " is empty"));
      }
      for (u32 n : paths[p]) {
        if (n >= nodes) {
          return absl::InvalidArgumentError(
              absl::StrCat("fragment_planner: path ", p, " names node ", n, " of ", nodes));
        }
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace innet::sketch
