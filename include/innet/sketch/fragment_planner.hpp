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
#include "innet/sketch/fragment.hpp"

namespace innet::sketch {

enum class subepoch_mode : u8 { partition, sample };

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
  u64 base_seed = 0;  // node n hashes with fragment_seed(base_seed, n)
};

struct node_plan {
  u32 width = 0;      // 0: no fragment this epoch
  u32 subepochs = 1;  // power of two
  double peb = 0;     // expected rho of each of its fragments (load / (subepochs * width))
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
  const node_plan& at(u32 epoch, u32 node) const noexcept {
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
        const double t =
            std::max(config.target_peb > 0 ? config.target_peb : target[n], config.min_peb);
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
