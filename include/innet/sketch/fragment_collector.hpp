// The DiSketch collector: ingests serialized fragments as switches export them
// (sketch/fragment.hpp) and answers queries by combining the fragments on a flow's path.
//
// Point query for a flow (key bytes), its path (node ids) and a time range [begin, end):
//
//   1. per node and epoch (temporal aggregation): the node's fragments of that epoch whose
//      represented window overlaps the range and that track the flow (every flow unless
//      sampled) each give an estimate at the node's seed; the node's estimate for the epoch is
//      their sum, each multiplied by its sampling factor (slots; 1 without sampling). Summing
//      per-fragment estimates rather than first merging the node's fragments keeps every
//      fragment at its own width (no folding needed) and, for Count-Min, is never larger than
//      the estimate of the merged sketch (a sum of row minima is at most the minimum of row
//      sums), while still never below the true count -- provided the node exported every
//      fragment of the epoch (see coverage below).
//   2. per epoch, across the path's nodes that have fragments in it (spatial aggregation):
//      Count-Min takes the minimum (each node over-estimates, so the smallest is the best),
//      Count Sketch the median (each is unbiased with independent noise, since every node
//      hashes with its own seed). A node without memory in an epoch has no fragment there and
//      simply does not vote for it. Sampled fragments (fragment.hpp) scale their count by
//      `slots`, so a sampled node's estimate is no longer an upper bound: it can miss packets
//      the flow sent outside its slot's sub-epoch, and the min then under-counts (the
//      planner's min_peb keeps nodes that are accurate enough unsampled).
//   3. the answer is the sum over the epochs in the range.
//
// Coverage (lost exports): a node's sum misses the packets of any fragment it failed to
// export, and in a min that partial sum would win. So in each epoch only the nodes whose
// fragments tracking the flow cover the epoch's whole extent within the range (the span of all
// the path's windows there) vote; if no node covers it all, the best-covered ones vote and
// point_estimate::uncovered_ns reports the shortfall. The collector knows epochs only from the
// windows it received, so an export lost by every node at an epoch's edge goes unnoticed in
// estimate(key, path, ...); the plan overload knows the epochs and reports it. Count-Min
// answers are upper bounds whenever uncovered_ns == 0.
//
// Spatial disaggregation (fragment_planner's hop_assignment::one_hop): estimate(key, path,
// begin, end, plan) answers the flow, in every epoch of the plan that the range overlaps, from
// the one node the plan assigned it to (fragment_plan::assigned_hop, from the flow's assignment
// hash): the sum of that node's fragments of the epoch overlapping the range, each at its own
// width; then the sum over epochs. No cross-hop combination: the other hops never counted the
// flow. Count-Min answers stay upper bounds (every packet of the flow in the range is in the
// assigned node's fragments). With an every_hop plan it is the plain estimate above.
//
// Only fragments of nodes on the path and overlapping the range count: fragments of other
// nodes or times are never read. A fragment overlapping the range only in part counts whole;
// queries that align with fragment windows (epochs, or a node's sub-epochs) are exact in time,
// and the answer reports the span of the windows it used.
//
// merged(node, range) is the other combination: the node's fragments in the range folded to
// their smallest width and added, one sketch (this is what heavy-hitter enumeration, moments
// and UnivMon need). Widths must be powers of two apart (the planner's default widths are
// powers of two).
//
// Heavy hitters: Count-Min and Count Sketch keep no keys, so heavy_hitters takes the candidate
// flows (e.g. the flows seen by a flow table, or every flow in a simulation) and keeps those
// whose combined estimate reaches the threshold. UnivMon moments (L1, L2, entropy) of a node's
// traffic over a range are those of merged(node, range) (a univmon folds and merges too).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/hash.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/sketch/fragment_planner.hpp"

namespace innet::sketch {

enum class path_combine : u8 { min, median };

// Count-Min combines by min; every other sketch (Count Sketch, UnivMon's Count Sketches) by
// median.
template <class Sketch>
inline constexpr path_combine default_path_combine = path_combine::median;
template <class Counter>
inline constexpr path_combine default_path_combine<count_min<Counter>> = path_combine::min;

// A flow to query: its key bytes and path.
struct flow_query {
  std::span<const std::byte> key;
  std::span<const u32> path;
};

struct point_estimate {
  double value = 0;   // the combined estimate (0 if no node on the path had a fragment)
  u32 nodes = 0;      // nodes on the path that contributed
  u32 fragments = 0;  // fragments read
  u64 begin_ns = 0;   // span of the windows the fragments stand for
  u64 end_ns = 0;
  // Query time, summed over epochs, that no voting node's fragments covered (a lost or late
  // export): 0 when the answer is complete. Count-Min answers are upper bounds only then.
  u64 uncovered_ns = 0;
};

template <class Sketch, path_combine Combine = default_path_combine<Sketch>>
class fragment_collector {
 public:
  using fragment_type = fragment<Sketch>;

  // Parses and stores one exported fragment. InvalidArgument if malformed (see fragment.hpp),
  // AlreadyExists if the node already exported a fragment whose window [begin_ns, end_ns)
  // overlaps this one's (a node counts each packet in one fragment, so an overlapping window is
  // a duplicate or a bogus export, and counting both would count packets twice).
  absl::Status ingest(std::span<const std::byte> serialized) {
    absl::StatusOr<fragment_type> f = fragment_type::deserialize(serialized);
    if (!f.ok()) return f.status();
    return add(*std::move(f));
  }

  absl::Status add(fragment_type f) {
    std::vector<fragment_type>& list = by_node_[f.header().node];
    const fragment_header& h = f.header();
    // Invariant: a node's windows are sorted by begin_ns and pairwise disjoint, so only the
    // neighbours of the insertion point can overlap the new window.
    const auto pos = std::lower_bound(list.begin(), list.end(), h, before);
    const fragment_header* clash = nullptr;
    if (pos != list.end() && pos->header().begin_ns < h.end_ns) clash = &pos->header();
    if (pos != list.begin() && std::prev(pos)->header().end_ns > h.begin_ns) {
      clash = &std::prev(pos)->header();
    }
    if (clash != nullptr) {
      return absl::AlreadyExistsError(absl::StrCat(
          "fragment_collector: node ", h.node, " window [", h.begin_ns, ", ", h.end_ns,
          ") overlaps its already exported window [", clash->begin_ns, ", ", clash->end_ns, ")"));
    }
    list.insert(pos, std::move(f));
    ++count_;
    return absl::OkStatus();
  }

  usize fragment_count() const noexcept { return count_; }
  void clear() {
    by_node_.clear();
    count_ = 0;
  }

  // The node's fragments in time order (empty if none).
  std::span<const fragment_type> fragments_of(u32 node) const {
    const auto it = by_node_.find(node);
    if (it == by_node_.end()) return {};
    return it->second;
  }

  // Step 1 for one node, summed over every epoch in the range: false if none of its fragments
  // overlaps the range.
  bool node_estimate(std::span<const std::byte> key, u32 node, u64 begin, u64 end,
                     double& value) const {
    std::vector<part> parts;
    point_estimate ignored;
    accumulate(key, node, 0, begin, end, ignored, parts);
    value = 0;
    for (const part& p : parts)
      value += p.value;
    return !parts.empty();
  }

  // The flow's estimate over [begin, end): per epoch, the combination over the path's nodes
  // that have fragments in that epoch; then the sum over epochs. Grouping by epoch keeps a node
  // that had no memory (no fragment) in one epoch from dragging a min down with a sum that
  // misses that epoch's packets. Paths longer than 64 nodes use their first 64.
  point_estimate estimate(std::span<const std::byte> key, std::span<const u32> path, u64 begin,
                          u64 end) const {
    point_estimate out;
    out.begin_ns = std::numeric_limits<u64>::max();
    std::vector<part> parts;
    const usize hops = std::min<usize>(path.size(), 64);
    for (usize i = 0; i < hops; ++i)
      accumulate(key, path[i], static_cast<u32>(i), begin, end, out, parts);
    if (out.fragments == 0) out.begin_ns = out.end_ns = 0;
    // Regroup by epoch, then hop. A hop votes once per epoch: its parts of one epoch (the
    // header's epoch need not follow window order in a hostile export) are summed first, so
    // an epoch has at most `hops` <= 64 votes.
    std::sort(parts.begin(), parts.end(), [](const part& a, const part& b) {
      return a.epoch != b.epoch ? a.epoch < b.epoch : a.hop < b.hop;
    });
    // Coverage: an epoch's extent is the span of every hop's windows in it (clipped to the
    // range); only hops whose windows cover all of it vote (a hop whose export of a sub-epoch
    // was lost would vote a partial sum and win the min). If none covers it all, the
    // best-covered hops vote and the shortfall is reported in uncovered_ns.
    u64 seen_hops = 0;
    double values[64];
    u64 covered[64];
    u32 hop_of[64];
    for (usize i = 0; i < parts.size();) {
      u32 n = 0;
      const u32 epoch = parts[i].epoch;
      u64 lo = std::numeric_limits<u64>::max(), hi = 0;
      while (i < parts.size() && parts[i].epoch == epoch) {
        const u32 hop = parts[i].hop;
        double sum = 0;
        u64 cov = 0;
        for (; i < parts.size() && parts[i].epoch == epoch && parts[i].hop == hop; ++i) {
          sum += parts[i].value;
          cov += parts[i].covered;
          lo = std::min(lo, parts[i].lo);
          hi = std::max(hi, parts[i].hi);
        }
        hop_of[n] = hop;
        covered[n] = cov;
        values[n++] = sum;  // distinct hops < 64, so n <= 64
      }
      const u64 extent = hi - lo;
      const u64 best = std::min(extent, *std::max_element(covered, covered + n));
      out.uncovered_ns += extent - best;
      u32 voters = 0;
      for (u32 j = 0; j < n; ++j) {
        if (covered[j] < best) continue;
        values[voters++] = values[j];
        seen_hops |= u64{1} << hop_of[j];
      }
      out.value += combine(values, voters);
    }
    out.nodes = static_cast<u32>(std::popcount(seen_hops));
    return out;
  }

  // The flow's estimate over [begin, end) under a one_hop plan (see the file comment).
  point_estimate estimate(std::span<const std::byte> key, std::span<const u32> path, u64 begin,
                          u64 end, const fragment_plan& plan) const {
    if (plan.config().assignment == hop_assignment::every_hop)
      return estimate(key, path, begin, end);
    point_estimate out;
    out.begin_ns = std::numeric_limits<u64>::max();
    std::vector<part> parts;
    const u64 h = assignment_hash(key, plan.config().base_seed);
    u64 seen_nodes = 0;
    for (u32 e = 0; e < plan.epoch_count(); ++e) {
      const u64 b = std::max(begin, plan.epoch_begin(e));
      const u64 en = std::min(end, plan.epoch_end(e));
      if (b >= en) continue;
      const usize hop = plan.assigned_hop(e, h, path);
      if (hop >= path.size()) {
        out.uncovered_ns += en - b;  // no node of the path counted the flow
        continue;
      }
      const usize before_parts = parts.size();
      accumulate(key, path[hop], static_cast<u32>(hop), b, en, out, parts);
      u64 cov = 0;
      for (usize i = before_parts; i < parts.size(); ++i) {
        out.value += parts[i].value;
        cov += parts[i].covered;
        if (hop < 64) seen_nodes |= u64{1} << hop;
      }
      // Only the assigned node counted the flow: a lost export of it cannot be made up.
      out.uncovered_ns += en - b - std::min(cov, en - b);
    }
    out.nodes = static_cast<u32>(std::popcount(seen_nodes));
    if (out.fragments == 0) out.begin_ns = out.end_ns = 0;
    return out;
  }

  // Indices of the candidates whose estimate over [begin, end) is at least `threshold`.
  std::vector<usize> heavy_hitters(std::span<const flow_query> candidates, u64 begin, u64 end,
                                   double threshold) const {
    std::vector<usize> out;
    for (usize i = 0; i < candidates.size(); ++i) {
      if (estimate(candidates[i].key, candidates[i].path, begin, end).value >= threshold) {
        out.push_back(i);
      }
    }
    return out;
  }

  // The node's unsampled fragments overlapping [begin, end), folded to the smallest width among
  // them and merged into one sketch. NotFound if there is none; FailedPrecondition if widths
  // are not powers of two apart, seeds differ, or a fragment is sampled (a sampled fragment
  // holds only some flows and cannot be added to the others).
  absl::StatusOr<Sketch> merged(u32 node, u64 begin, u64 end) const {
    const auto it = by_node_.find(node);
    std::vector<const fragment_type*> parts;
    if (it != by_node_.end()) {
      for (const fragment_type& f : it->second) {
        if (f.header().overlaps(begin, end)) parts.push_back(&f);
      }
    }
    if (parts.empty()) {
      return absl::NotFoundError(
          absl::StrCat("fragment_collector: node ", node, " has no fragment in the range"));
    }
    u32 width = std::numeric_limits<u32>::max();
    for (const fragment_type* f : parts) {
      if (f->header().slots != 1) {
        return absl::FailedPreconditionError(
            "fragment_collector: cannot merge sampled fragments (slots > 1)");
      }
      width = std::min(width, f->sketch().width());
    }
    std::optional<Sketch> acc;
    for (const fragment_type* f : parts) {
      u32 halvings = 0;
      while ((u64{width} << halvings) < f->sketch().width())
        ++halvings;
      if ((u64{width} << halvings) != f->sketch().width()) {
        return absl::FailedPreconditionError(absl::StrCat("fragment_collector: widths ", width,
                                                          " and ", f->sketch().width(),
                                                          " are not a power of two apart"));
      }
      absl::StatusOr<Sketch> folded =
          halvings == 0 ? absl::StatusOr<Sketch>(f->sketch()) : f->sketch().fold(halvings);
      if (!folded.ok()) return folded.status();
      if (!acc) {
        acc.emplace(*std::move(folded));
      } else if (absl::Status s = acc->merge(*folded); !s.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("fragment_collector: node ", node, ": ", s.message()));
      }
    }
    return *std::move(acc);
  }

 private:
  // One node's sum over one epoch, and the query time its tracking fragments cover.
  struct part {
    u32 epoch;
    u32 hop;
    double value;
    u64 covered = 0;  // summed length of the windows, clipped to the query range
    u64 lo = std::numeric_limits<u64>::max();  // their clipped extent
    u64 hi = 0;
  };

  // Appends to parts the node's per-epoch sums over the fragments overlapping [begin, end).
  void accumulate(std::span<const std::byte> key, u32 node, u32 hop, u64 begin, u64 end,
                  point_estimate& out, std::vector<part>& parts) const {
    const auto it = by_node_.find(node);
    if (it == by_node_.end()) return;
    u64 seed = 0;
    hash_family h{hash128{0, 0}};
    bool hashed = false;
    for (const fragment_type& f : it->second) {
      const fragment_header& fh = f.header();
      if (!fh.overlaps(begin, end)) continue;
      if (!hashed || fh.seed != seed) {
        h = make_hash_family(key, fh.seed);
        seed = fh.seed;
        hashed = true;
      }
      // A sampled fragment that does not track the flow says nothing about it: no part, no
      // coverage (else its 0 would vote).
      if (!fh.tracks(h)) continue;
      // Fragments are in time order, so one epoch's fragments are usually adjacent; estimate()
      // merges a hop's parts of the same epoch in any case.
      if (parts.empty() || parts.back().hop != hop || parts.back().epoch != fh.epoch) {
        parts.push_back({fh.epoch, hop, 0.0});
      }
      // UnivMon estimates by key bytes: it derives its levels' hashes itself.
      double e = 0;
      if constexpr (requires { f.sketch().estimate(h); }) {
        e = static_cast<double>(f.sketch().estimate(h));
      } else {
        e = static_cast<double>(f.sketch().estimate(key));
      }
      part& p = parts.back();
      p.value += static_cast<double>(fh.slots) * e;
      const u64 lo = std::max(begin, fh.represented_begin());
      const u64 hi = std::min(end, fh.represented_end());
      p.covered += hi - lo;  // overlaps(): lo < hi
      p.lo = std::min(p.lo, lo);
      p.hi = std::max(p.hi, hi);
      ++out.fragments;
      out.begin_ns = std::min(out.begin_ns, fh.represented_begin());
      out.end_ns = std::max(out.end_ns, fh.represented_end());
    }
  }

  static double combine(double* values, u32 n) {
    if (n == 0) return 0;
    if constexpr (Combine == path_combine::min) {
      return *std::min_element(values, values + n);
    } else {
      std::sort(values, values + n);
      return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
  }

  static bool before(const fragment_type& f, const fragment_header& h) {
    return f.header().begin_ns < h.begin_ns;
  }

  std::map<u32, std::vector<fragment_type>> by_node_;
  usize count_ = 0;
};

}  // namespace innet::sketch
