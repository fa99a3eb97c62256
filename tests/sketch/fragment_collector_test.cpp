// The collector's answer for a flow equals the combination computed here by hand from exactly
// the fragments on its path that overlap the range: per fragment, the row minimum (Count-Min)
// or the median of signed row counters (Count Sketch) read straight from the counters; per
// node, their sum (times the sampling factor); across nodes, the min or the median. Fragments of
// nodes off the path (empty, so they would win a min) and of other times (full of the flow's
// packets, so they would inflate a sum) are present and must be ignored. Also: merged() equals
// a sketch built directly at the smallest width over the same packets, heavy hitters equal the
// exact set when sketches are collision-free, and duplicates and corrupt exports are refused.
#include "innet/sketch/fragment_collector.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/core/wire.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/sketch/univmon.hpp"

namespace {

using innet::u16;
using innet::u32;
using innet::u64;
using innet::sketch::count_min;
using innet::sketch::count_sketch;
using innet::sketch::fragment;
using innet::sketch::fragment_collector;
using innet::sketch::fragment_header;
using innet::sketch::fragment_seed;

constexpr u64 base_seed = 77;

std::array<std::byte, 8> key_of(u32 flow) {
  std::array<std::byte, 8> k{};
  innet::store_be<u64>(k.data(), 0xF10E000000000000ULL + flow);
  return k;
}

// A fragment to build: node, window, width, sampling.
struct plan_entry {
  u32 node;
  u32 epoch;
  u64 begin;
  u64 end;
  u32 width;
  u16 slots = 1;
  u16 slot = 0;
};

struct packet {
  u64 time;
  u32 flow;
};

template <class Sketch>
struct scenario {
  std::vector<fragment<Sketch>> fragments;
  std::vector<std::vector<u32>> paths;  // per flow
  std::vector<packet> packets;
};

// Feeds every packet to the fragments of the nodes on its flow's path whose window holds it.
template <class Sketch>
scenario<Sketch> build(const std::vector<plan_entry>& entries, u32 depth,
                       std::vector<std::vector<u32>> paths, std::vector<packet> packets) {
  scenario<Sketch> s;
  s.paths = std::move(paths);
  s.packets = std::move(packets);
  for (const plan_entry& e : entries) {
    fragment_header h;
    h.node = e.node;
    h.epoch = e.epoch;
    h.begin_ns = e.begin;
    h.end_ns = e.end;
    h.seed = fragment_seed(base_seed, e.node);
    h.slots = e.slots;
    h.slot = e.slot;
    auto f = fragment<Sketch>::create(h, *Sketch::create(depth, e.width, h.seed));
    REQUIRE(f.ok());
    s.fragments.push_back(*std::move(f));
  }
  for (const packet& p : s.packets) {
    const auto k = key_of(p.flow);
    for (auto& f : s.fragments) {
      const auto& path = s.paths[p.flow];
      if (std::find(path.begin(), path.end(), f.header().node) == path.end()) continue;
      if (p.time < f.header().begin_ns || p.time >= f.header().end_ns) continue;
      (void)f.update(innet::make_hash_family(k, f.header().seed), 1);
    }
  }
  return s;
}

template <class Sketch>
fragment_collector<Sketch> collect(const scenario<Sketch>& s) {
  fragment_collector<Sketch> c;
  for (const auto& f : s.fragments)
    REQUIRE(c.ingest(f.serialize()).ok());
  CHECK(c.fragment_count() == s.fragments.size());
  return c;
}

// Per-fragment estimates straight from the counters.
double cm_by_hand(const count_min<u32>& sk, const innet::hash_family& h) {
  u32 best = ~u32{0};
  for (u32 r = 0; r < sk.depth(); ++r)
    best = std::min(best, sk.counters()[r * sk.width() + h.index(r, sk.width())]);
  return best;
}

double cs_by_hand(const count_sketch<std::int32_t>& sk, const innet::hash_family& h) {
  std::vector<std::int32_t> rows;
  for (u32 r = 0; r < sk.depth(); ++r)
    rows.push_back(h.sign(r) * sk.counters()[r * sk.width() + h.index(r, sk.width())]);
  std::sort(rows.begin(), rows.end());
  return rows[rows.size() / 2];  // depth is odd in these tests
}

// Per epoch: per node, the sum over its overlapping fragments; across nodes, min or median;
// then the sum over epochs.
template <class Sketch, class PerFragment>
double expected(const scenario<Sketch>& s, u32 flow, u64 begin, u64 end, bool use_min,
                PerFragment per_fragment) {
  const auto k = key_of(flow);
  double total = 0;
  bool any_epoch = false;
  for (u32 epoch = 0; epoch < 8; ++epoch) {
    std::vector<double> per_node;
    for (u32 node : s.paths[flow]) {
      bool any = false;
      double sum = 0;
      for (const auto& f : s.fragments) {
        const fragment_header& h = f.header();
        if (h.node != node || h.epoch != epoch) continue;
        const u64 len = h.end_ns - h.begin_ns;
        const u64 rb = h.begin_ns - h.slot * len;  // sampled: the whole epoch
        const u64 re = rb + h.slots * len;
        if (!(rb < end && begin < re)) continue;
        any = true;
        const auto hf = innet::make_hash_family(k, h.seed);
        if (h.slots > 1 && hf.index(innet::sketch::fragment_slot_row, h.slots) != h.slot) {
          continue;
        }
        sum += h.slots * per_fragment(f.sketch(), hf);
      }
      if (any) per_node.push_back(sum);
    }
    if (per_node.empty()) continue;
    any_epoch = true;
    std::sort(per_node.begin(), per_node.end());
    const std::size_t n = per_node.size();
    total += use_min      ? per_node.front()
             : n % 2 == 1 ? per_node[n / 2]
                          : (per_node[n / 2 - 1] + per_node[n / 2]) / 2;
  }
  REQUIRE(any_epoch);
  return total;
}

// 40 flows with skewed sizes over [0, 2000): even flows cross nodes 0, 1, 2; odd ones 0, 1.
// Node 3 is on no path; node 4 carries every flow but is on no queried path either.
std::vector<std::vector<u32>> two_paths() {
  std::vector<std::vector<u32>> paths(40);
  for (u32 f = 0; f < 40; ++f)
    paths[f] = f % 2 == 0 ? std::vector<u32>{0, 1, 2} : std::vector<u32>{0, 1};
  return paths;
}

std::vector<packet> skewed_packets(u64 until) {
  innet::xoshiro256ss rng{5};
  std::vector<packet> out;
  for (u32 f = 0; f < 40; ++f) {
    const u32 size = 400 / (f + 1) + 1;
    for (u32 i = 0; i < size; ++i)
      out.push_back({innet::uniform_below(rng, until), f});
  }
  return out;
}

// Widths differ across nodes and epochs; node 1 splits epoch 0 in four; node 2 has no memory
// in epoch 1; node 0 also has a fragment for [2000, 3000), outside the queried ranges, which
// the packets below fill with the flows' traffic; node 3 (off every path) has empty fragments.
std::vector<plan_entry> layout() {
  return {{0, 0, 0, 1000, 64},   {0, 1, 1000, 2000, 32},  {0, 2, 2000, 3000, 16},
          {1, 0, 0, 250, 16},    {1, 0, 250, 500, 16},    {1, 0, 500, 750, 16},
          {1, 0, 750, 1000, 16}, {1, 1, 1000, 2000, 128}, {2, 0, 0, 1000, 8},
          {3, 0, 0, 1000, 64},   {3, 1, 1000, 2000, 64}};
}

TEST_CASE("fragment_collector Count-Min answer is the min over path nodes of summed fragments") {
  const auto s = build<count_min<u32>>(layout(), 3, two_paths(), skewed_packets(3000));
  const auto c = collect(s);
  const std::array<std::array<u64, 2>, 5> ranges{
      {{0, 2000}, {0, 1000}, {1000, 2000}, {250, 500}, {600, 1200}}};
  for (u32 flow = 0; flow < 40; ++flow) {
    for (const auto& r : ranges) {
      CAPTURE(flow);
      CAPTURE(r[0]);
      const auto k = key_of(flow);
      const auto got = c.estimate(k, s.paths[flow], r[0], r[1]);
      CHECK(got.value == expected(s, flow, r[0], r[1], true, cm_by_hand));
      // Count-Min never under-counts the packets in the range (every node's windows of an
      // epoch cover the range's part of it).
      u64 truth = 0;
      for (const packet& p : s.packets)
        truth += p.flow == flow && p.time >= r[0] && p.time < r[1] ? 1 : 0;
      CHECK(got.value >= static_cast<double>(truth));
    }
  }
  // Node 3 is empty: on a path, its zero would win the min; off the path it must not matter.
  const auto k = key_of(0);
  const std::vector<u32> with_3{0, 1, 2, 3};
  CHECK(c.estimate(k, with_3, 0, 2000).value == 0);
  CHECK(c.estimate(k, s.paths[0], 0, 2000).value > 0);
  // The span reported is that of the windows used.
  const auto got = c.estimate(k, s.paths[0], 250, 500);
  CHECK(got.begin_ns == 0);
  CHECK(got.end_ns == 1000);
  CHECK(got.nodes == 3);
  CHECK(got.fragments == 3);  // node 0 [0,1000), node 1 [250,500), node 2 [0,1000)
  // No fragment at all in the range: no nodes, value 0.
  CHECK(c.estimate(k, s.paths[0], 5000, 6000).nodes == 0);
}

TEST_CASE("fragment_collector Count Sketch answer is the median over path nodes") {
  const auto s = build<count_sketch<std::int32_t>>(layout(), 5, two_paths(), skewed_packets(3000));
  const auto c = collect(s);
  for (u32 flow = 0; flow < 40; ++flow) {
    for (const auto& r : std::array<std::array<u64, 2>, 3>{{{0, 2000}, {0, 1000}, {300, 400}}}) {
      CAPTURE(flow);
      CAPTURE(r[0]);
      const auto k = key_of(flow);
      CHECK(c.estimate(k, s.paths[flow], r[0], r[1]).value ==
            expected(s, flow, r[0], r[1], false, cs_by_hand));
    }
  }
}

TEST_CASE("fragment_collector scales sampled fragments by their slot count") {
  // Node 0 samples: sub-epoch i of [0, 1000) tracks slot i of 4. Node 1 keeps one fragment.
  const std::vector<plan_entry> entries{{0, 0, 0, 250, 64, 4, 0},
                                        {0, 0, 250, 500, 64, 4, 1},
                                        {0, 0, 500, 750, 64, 4, 2},
                                        {0, 0, 750, 1000, 64, 4, 3},
                                        {1, 0, 0, 1000, 8, 1, 0}};
  std::vector<std::vector<u32>> paths(40, std::vector<u32>{0, 1});
  const auto s = build<count_min<u32>>(entries, 3, paths, skewed_packets(1000));
  const auto c = collect(s);
  for (u32 flow = 0; flow < 40; ++flow) {
    const auto k = key_of(flow);
    CHECK(c.estimate(k, s.paths[flow], 0, 1000).value ==
          expected(s, flow, 0, 1000, true, cm_by_hand));
    double node0 = 0;
    REQUIRE(c.node_estimate(k, 0, 600, 700, node0));  // every sampled fragment stands for [0,1000)
    double by_hand = 0;
    for (const auto& f : s.fragments) {
      if (f.header().node != 0) continue;
      const auto h = innet::make_hash_family(k, f.header().seed);
      if (f.header().tracks(h)) by_hand += 4 * cm_by_hand(f.sketch(), h);
    }
    CHECK(node0 == by_hand);
  }
  // Sampled fragments hold only some flows: merging them is refused.
  CHECK(c.merged(0, 0, 1000).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("fragment_collector merged folds a node's fragments to one sketch") {
  const auto s = build<count_min<u32>>(layout(), 3, two_paths(), skewed_packets(3000));
  const auto c = collect(s);
  auto m = c.merged(0, 0, 2000);  // widths 64 and 32
  REQUIRE(m.ok());
  const u64 seed = fragment_seed(base_seed, 0);
  auto direct = *count_min<u32>::create(3, 32, seed);
  for (const packet& p : s.packets) {
    if (p.time < 2000) direct.update(key_of(p.flow), 1);  // every flow crosses node 0
  }
  CHECK(*m == direct);
  CHECK(c.merged(9, 0, 2000).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("fragment_collector heavy hitters equal the exact set without collisions") {
  const std::vector<plan_entry> entries{{0, 0, 0, 1000, 1 << 14}, {1, 0, 0, 1000, 1 << 14}};
  std::vector<std::vector<u32>> paths(40, std::vector<u32>{0, 1});
  const auto s = build<count_min<u32>>(entries, 4, paths, skewed_packets(1000));
  const auto c = collect(s);
  std::vector<std::array<std::byte, 8>> keys;
  for (u32 f = 0; f < 40; ++f)
    keys.push_back(key_of(f));
  std::vector<innet::sketch::flow_query> candidates;
  for (u32 f = 0; f < 40; ++f)
    candidates.push_back({keys[f], s.paths[f]});
  const auto hh = c.heavy_hitters(candidates, 0, 1000, 20);
  std::set<std::size_t> got(hh.begin(), hh.end());
  std::set<std::size_t> exact;
  for (u32 f = 0; f < 40; ++f) {
    if (400 / (f + 1) + 1 >= 20) exact.insert(f);
  }
  CHECK(got == exact);
}

TEST_CASE("fragment_collector refuses duplicates and corrupt exports") {
  const auto s = build<count_min<u32>>(layout(), 3, two_paths(), skewed_packets(3000));
  fragment_collector<count_min<u32>> c;
  const auto bytes = s.fragments[0].serialize();
  CHECK(c.ingest(bytes).ok());
  CHECK(c.ingest(bytes).code() == absl::StatusCode::kAlreadyExists);
  auto bad = s.fragments[1].serialize();
  bad[bad.size() / 2] ^= std::byte{1};
  CHECK(c.ingest(bad).code() == absl::StatusCode::kInvalidArgument);
  CHECK(c.fragment_count() == 1);
  CHECK(c.fragments_of(0).size() == 1);
  CHECK(c.fragments_of(1).empty());
}

}  // namespace

namespace {

TEST_CASE("fragment_collector merges UnivMon fragments into a node's moments") {
  using um = innet::sketch::univmon<std::int32_t>;
  const u64 seed = fragment_seed(base_seed, 0);
  std::vector<fragment<um>> frags;
  for (const auto& [begin, end, width] :
       std::vector<std::array<u64, 3>>{{0, 1000, 1024}, {1000, 2000, 512}}) {
    fragment_header h;
    h.node = 0;
    h.epoch = static_cast<u32>(begin / 1000);
    h.begin_ns = begin;
    h.end_ns = end;
    h.seed = seed;
    um::config cfg;
    cfg.levels = 8;
    cfg.depth = 5;
    cfg.width = static_cast<u32>(width);
    cfg.heavy_hitters = 64;
    cfg.seed = seed;
    auto f = fragment<um>::create(h, *um::create(cfg));
    REQUIRE(f.ok());
    frags.push_back(*std::move(f));
  }
  const auto packets = skewed_packets(2000);
  std::vector<double> exact(40, 0);
  for (const packet& p : packets) {
    const auto k = key_of(p.flow);
    CHECK(frags[p.time < 1000 ? 0 : 1].update(std::span<const std::byte>(k), 1));
    exact[p.flow] += 1;
  }
  fragment_collector<um> c;
  for (const auto& f : frags)
    REQUIRE(c.ingest(f.serialize()).ok());
  auto m = c.merged(0, 0, 2000);
  REQUIRE(m.ok());
  CHECK(m->width() == 512);
  CHECK(m->total_weight() == packets.size());
  // Exact entropy of the flow sizes: log2(N) - sum f log2 f / N.
  double n = 0, flog = 0;
  for (double f : exact) {
    n += f;
    flog += f * std::log2(f);
  }
  const double entropy = std::log2(n) - flog / n;
  // 40 keys, 64 candidates per level, 512 columns: the G-sum sees every key nearly exactly.
  CHECK(m->l1() == doctest::Approx(n).epsilon(0.01));
  CHECK(m->entropy() == doctest::Approx(entropy).epsilon(0.01));
  // Point estimates through the collector: one node, so its level-0 estimate summed over epochs.
  for (u32 flow = 0; flow < 40; ++flow) {
    const auto k = key_of(flow);
    const std::vector<u32> path{0};
    double by_hand = 0;
    for (const auto& f : frags)
      by_hand += f.sketch().estimate(k);
    CHECK(c.estimate(k, path, 0, 2000).value == by_hand);
  }
}

}  // namespace

// Adversarial exports: a collector takes bytes from the network and must neither crash nor count
// a packet twice.
namespace {

// A Count-Min fragment of `node` over [begin, end) in `epoch` holding `count` packets of key 0.
fragment<count_min<u32>> lone(u32 node, u32 epoch, u64 begin, u64 end, u32 count) {
  fragment_header h;
  h.node = node;
  h.epoch = epoch;
  h.begin_ns = begin;
  h.end_ns = end;
  h.seed = fragment_seed(5, node);
  auto cm = count_min<u32>::create(2, 8, h.seed).value();
  cm.update(innet::object_bytes(u32{0}), count);
  return fragment<count_min<u32>>::create(h, std::move(cm)).value();
}

TEST_CASE("fragment_collector gives a hop one vote per epoch whatever the header epochs say") {
  // 200 disjoint windows of node 0 whose header epochs alternate 0, 1: once sorted by time, an
  // epoch's fragments are not adjacent. Each holds 1 packet of the key (one flow: exact).
  fragment_collector<count_min<u32>> c;
  for (u32 i = 0; i < 200; ++i)
    REQUIRE(c.ingest(lone(0, i % 2, u64{i} * 10, u64{i} * 10 + 10, 1).serialize()).ok());
  const u32 path[] = {0};
  const auto got = c.estimate(innet::object_bytes(u32{0}), path, 0, 2000);
  CHECK(got.value == 200);
  CHECK(got.fragments == 200);
  CHECK(got.nodes == 1);
  // A second hop (node 1) with 3 packets, all in epoch 0.
  REQUIRE(c.ingest(lone(1, 0, 0, 2000, 3).serialize()).ok());
  const u32 two[] = {0, 1};
  // Epoch 0: hop 0 sums 100, hop 1 has 3 -> 3; epoch 1: hop 0 only -> 100.
  CHECK(c.estimate(innet::object_bytes(u32{0}), two, 0, 2000).value == 103);
}

TEST_CASE("fragment_collector refuses windows overlapping a node's earlier export") {
  fragment_collector<count_min<u32>> c;
  REQUIRE(c.ingest(lone(0, 0, 100, 200, 1).serialize()).ok());
  const auto code = [&](u64 b, u64 e) { return c.ingest(lone(0, 0, b, e, 1).serialize()).code(); };
  CHECK(code(150, 250) == absl::StatusCode::kAlreadyExists);  // starts inside
  CHECK(code(50, 101) == absl::StatusCode::kAlreadyExists);   // ends inside
  CHECK(code(100, 150) == absl::StatusCode::kAlreadyExists);  // same begin, shorter
  CHECK(code(120, 130) == absl::StatusCode::kAlreadyExists);  // nested
  CHECK(code(0, 1000) == absl::StatusCode::kAlreadyExists);   // covers it
  CHECK(code(200, 300) == absl::StatusCode::kOk);             // adjacent after
  CHECK(code(0, 100) == absl::StatusCode::kOk);               // adjacent before
  CHECK(code(299, 301) == absl::StatusCode::kAlreadyExists);  // overlaps the new neighbour
  CHECK(c.ingest(lone(1, 0, 150, 250, 1).serialize()).ok());  // another node: independent
  CHECK(c.fragment_count() == 4);
  const u32 path[] = {0};
  CHECK(c.estimate(innet::object_bytes(u32{0}), path, 0, 1000).value == 3);  // 3 windows, 1 each
}

TEST_CASE("fragment_collector one_hop query ignores path nodes and epochs outside the plan") {
  innet::sketch::planner_config pc;
  pc.epoch_ns = 1024;
  pc.min_width = 1;
  pc.base_seed = 5;
  const std::vector<std::vector<u32>> paths{{0, 1}};
  const std::vector<std::vector<u64>> memory{{4096, 4096}};
  const std::vector<std::vector<double>> load{{10, 10}};
  const auto plan = innet::sketch::fragment_planner::plan(pc, paths, memory, load).value();
  REQUIRE(plan.config().assignment == innet::sketch::hop_assignment::one_hop);
  CHECK(plan.at(0, 7).width == 0);
  CHECK(plan.at(0, 7).share == 0);
  CHECK(plan.at(3, 0).width == 0);
  CHECK(plan.memory_bytes(3, 0) == 0);
  fragment_collector<count_min<u32>> c;
  REQUIRE(c.ingest(lone(0, 0, 0, 1024, 4).serialize()).ok());
  // Node 7 is not in the plan (share 0), so hop 0 counts the flow.
  const u32 path[] = {0, 7};
  CHECK(plan.assigned_hop(0, innet::object_bytes(u32{0}), path) == 0);
  const auto got = c.estimate(innet::object_bytes(u32{0}), path, 0, 4096, plan);
  CHECK(got.value == 4);
  CHECK(got.nodes == 1);
  const u32 unknown[] = {9, 7};
  CHECK(plan.assigned_hop(0, innet::object_bytes(u32{0}), unknown) == 2);
  CHECK(c.estimate(innet::object_bytes(u32{0}), unknown, 0, 4096, plan).value == 0);
}

}  // namespace

namespace {

// lone() with `slots` sampling slots.
fragment<count_min<u32>> sampled(u32 node, u64 begin, u64 end, u16 slot, u16 slots, u32 count) {
  fragment_header h;
  h.node = node;
  h.begin_ns = begin;
  h.end_ns = end;
  h.seed = fragment_seed(5, node);
  h.slot = slot;
  h.slots = slots;
  auto cm = count_min<u32>::create(2, 8, h.seed).value();
  if (h.tracks(innet::make_hash_family(innet::object_bytes(u32{0}), h.seed))) {
    cm.update(innet::object_bytes(u32{0}), count);
  }
  return fragment<count_min<u32>>::create(h, std::move(cm)).value();
}

TEST_CASE("fragment_collector drops a hop that lost an export from the min and reports it") {
  // The flow sends 10 packets in each quarter of [0, 1000). Node 0 exports quarters, but the
  // second one is lost; node 1 exports the whole epoch. One flow: every fragment is exact.
  const u32 path[] = {0, 1};
  static const u32 zero = 0;
  const auto key = [] { return innet::object_bytes(zero); };
  fragment_collector<count_min<u32>> c;
  for (u64 q : {0, 2, 3})
    REQUIRE(c.ingest(lone(0, 0, q * 250, q * 250 + 250, 10).serialize()).ok());
  REQUIRE(c.ingest(lone(1, 0, 0, 1000, 40).serialize()).ok());
  auto got = c.estimate(key(), path, 0, 1000);
  CHECK(got.value == 40);  // not node 0's partial 30
  CHECK(got.uncovered_ns == 0);
  CHECK(got.nodes == 1);
  // With node 1 gone, node 0's partial sum is all there is, and the gap is reported.
  const u32 alone[] = {0};
  got = c.estimate(key(), alone, 0, 1000);
  CHECK(got.value == 30);
  CHECK(got.uncovered_ns == 250);
  // A range inside the covered quarters is complete.
  got = c.estimate(key(), alone, 500, 1000);
  CHECK(got.value == 20);
  CHECK(got.uncovered_ns == 0);

  // Sampling: node 2 splits [0, 1000) into 4 slots; the export of the flow's slot is lost, so
  // node 2 knows nothing of the flow and must not vote 0.
  const u32 slot =
      innet::sketch::fragment_slot(innet::make_hash_family(key(), fragment_seed(5, 2)), 4);
  for (u16 i = 0; i < 4; ++i) {
    if (i == slot) continue;
    REQUIRE(c.ingest(sampled(2, i * 250, i * 250 + 250, i, 4, 10).serialize()).ok());
  }
  const u32 with_sampled[] = {2, 1};
  got = c.estimate(key(), with_sampled, 0, 1000);
  CHECK(got.value == 40);
  CHECK(got.nodes == 1);
  CHECK(got.uncovered_ns == 0);
  // With the flow's slot present (10 packets there, times 4 slots), node 2 votes 40 too.
  REQUIRE(c.ingest(sampled(2, slot * 250, slot * 250 + 250, static_cast<innet::u16>(slot), 4, 10)
                       .serialize())
              .ok());
  got = c.estimate(key(), with_sampled, 0, 1000);
  CHECK(got.value == 40);
  CHECK(got.nodes == 2);
}

TEST_CASE("fragment_collector one_hop query reports the assigned node's lost export") {
  innet::sketch::planner_config pc;
  pc.epoch_ns = 1024;
  pc.min_width = 1;
  pc.base_seed = 5;
  const std::vector<std::vector<u32>> paths{{0, 1}};
  const std::vector<std::vector<u64>> memory{{4096, 4096}, {4096, 4096}};
  const std::vector<std::vector<double>> load{{10, 10}};
  const auto plan = innet::sketch::fragment_planner::plan(pc, paths, memory, load).value();
  const u32 path[] = {0, 1};
  static const u32 zero = 0;
  const auto key = [] { return innet::object_bytes(zero); };
  fragment_collector<count_min<u32>> c;
  // Epoch 0 exported by its assigned node; epoch 1's export is lost.
  const u32 node0 = path[plan.assigned_hop(0, key(), path)];
  REQUIRE(c.ingest(lone(node0, 0, 0, 1024, 6).serialize()).ok());
  auto got = c.estimate(key(), path, 0, 2048, plan);
  CHECK(got.value == 6);
  CHECK(got.uncovered_ns == 1024);
  got = c.estimate(key(), path, 0, 1024, plan);
  CHECK(got.uncovered_ns == 0);
}

}  // namespace
