// Spatial disaggregation (fragment_planner's hop_assignment::one_hop): each flow is counted at
// exactly one node of its path, chosen by its assignment hash with probability proportional to
// the node's share, and the collector answers it from that node's fragments alone.
//
// Checked against independent references:
//   * shares and expected rho on a hand-worked path (width / load -> 1 : 2 : 4, rho equal), and
//     the empirical split of 70000 flows over that path (packets / width equal within a few %);
//   * on a k=4 fat tree with memory that changes every epoch (some switches without any), every
//     flow is counted by exactly one hop of its path in every epoch, at a node that has a
//     fragment, with windows tiling the epoch, and the flow-weighted rho of the assigned
//     node is well below the best full-epoch rho on the path (what every-hop counting gets);
//   * the collector's answer equals the sum, over the epochs in the range, of the row minima
//     read straight from the counters of exactly the fragments of the node the flow was
//     assigned to (assignment recomputed here from the shares and the hash by hand); Count-Min
//     answers never under-count; every packet is in exactly one fragment network-wide.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/core/wire.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/sketch/fragment_collector.hpp"
#include "innet/sketch/fragment_planner.hpp"
#include "innet/workload/fat_tree.hpp"

namespace {

using innet::u32;
using innet::u64;
using innet::sketch::assignment_hash;
using innet::sketch::count_min;
using innet::sketch::fragment;
using innet::sketch::fragment_collector;
using innet::sketch::fragment_header;
using innet::sketch::fragment_plan;
using innet::sketch::fragment_planner;
using innet::sketch::hop_assignment;
using innet::sketch::planner_config;

fragment_plan planned(const planner_config& c, const std::vector<std::vector<u32>>& paths,
                      const std::vector<std::vector<u64>>& memory,
                      const std::vector<std::vector<double>>& load) {
  auto p = fragment_planner::plan(c, paths, memory, load);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return *std::move(p);
}

std::array<std::byte, 8> key_of(u64 flow) {
  std::array<std::byte, 8> k{};
  innet::store_be<u64>(k.data(), 0x5A7A000000000000ULL + flow);
  return k;
}

// The assignment, recomputed from the shares: the flow's point is floor(top 32 bits of its
// hash * total / 2^32) in [0, total); walk the hops, subtracting each one's share until the
// point falls inside one.
std::size_t hop_by_hand(const fragment_plan& p, u32 epoch, u64 h, const std::vector<u32>& path) {
  u64 total = 0;
  for (u32 n : path)
    total += p.at(epoch, n).share;
  u64 point = ((h >> 32) * total) >> 32;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const u64 s = p.at(epoch, path[i]).share;
    if (point < s) return i;
    point -= s;
  }
  return path.size();
}

double cm_by_hand(const count_min<u32>& sk, const innet::hash_family& h) {
  u32 best = ~u32{0};
  for (u32 r = 0; r < sk.depth(); ++r)
    best = std::min(best, sk.counters()[r * sk.width() + h.index(r, sk.width())]);
  return best;
}

}  // namespace

TEST_CASE("fragment_planner one_hop shares equalise rho along a path by hand") {
  planner_config c;  // one_hop is the default
  c.depth = 1;
  c.counter_bytes = 1;
  c.min_width = 1;
  c.max_subepochs = 8;
  c.epoch_ns = 800;
  REQUIRE(c.assignment == hop_assignment::one_hop);
  const std::vector<std::vector<u32>> paths{{0, 1, 2}};
  // Widths 64, 128, 256 with 1000 packets each: width / load = 0.064, 0.128, 0.256, so shares
  // 1 : 2 : 4 scaled to a largest of 65536. Node 3 (width 64) is on no path.
  const std::vector<std::vector<u64>> memory{{64, 128, 256, 100}};
  const std::vector<std::vector<double>> load{{1000, 1000, 1000, 1000}};
  const fragment_plan p = planned(c, paths, memory, load);
  CHECK(p.at(0, 0).share == 16384);
  CHECK(p.at(0, 1).share == 32768);
  CHECK(p.at(0, 2).share == 65536);
  CHECK(p.at(0, 3).share == 16384);
  // Node i receives 1000 * share_i / 114688 packets: 1000/7, 2000/7, 4000/7, i.e. rho = 1000 /
  // (7 * 64) at all three. Equal rho needs no sub-epochs.
  for (u32 n = 0; n < 3; ++n) {
    CHECK(p.at(0, n).peb == doctest::Approx(1000.0 / 448));
    CHECK(p.at(0, n).subepochs == 1);
  }
  CHECK(p.at(0, 3).peb == doctest::Approx(1000.0 / 64));  // on no path: full-epoch rho

  // 70000 unit flows: expected 10000, 20000, 40000 (standard deviations ~93, ~120, ~131).
  std::array<u64, 3> got{};
  for (u64 f = 0; f < 70000; ++f) {
    const auto k = key_of(f);
    const std::size_t hop = p.assigned_hop(0, k, paths[0]);
    REQUIRE(hop < 3);
    CHECK(hop == hop_by_hand(p, 0, assignment_hash(k, c.base_seed), paths[0]));
    ++got[hop];
  }
  CHECK(got[0] == doctest::Approx(10000).epsilon(0.04));
  CHECK(got[1] == doctest::Approx(20000).epsilon(0.04));
  CHECK(got[2] == doctest::Approx(40000).epsilon(0.04));
  const double rho0 = static_cast<double>(got[0]) / 64;
  CHECK(static_cast<double>(got[1]) / 128 == doctest::Approx(rho0).epsilon(0.06));
  CHECK(static_cast<double>(got[2]) / 256 == doctest::Approx(rho0).epsilon(0.06));

  // A node without memory gets share 0 and never a flow.
  const std::vector<std::vector<u64>> holes{{64, 0, 256, 100}};
  const fragment_plan q = planned(c, paths, holes, load);
  CHECK(q.at(0, 1).share == 0);
  for (u64 f = 0; f < 2000; ++f)
    CHECK(q.assigned_hop(0, key_of(f), paths[0]) != 1);
  // The hash is independent of the node seeds: the assignment seed is none of them.
  for (u32 n = 0; n < 64; ++n)
    CHECK(innet::sketch::assignment_seed(c.base_seed) !=
          innet::sketch::fragment_seed(c.base_seed, n));
}

TEST_CASE("fragment_planner one_hop counts every flow exactly once with changing memory") {
  const auto tree = *innet::workload::fat_tree::create(4);
  innet::xoshiro256ss rng{23};
  std::vector<std::vector<u32>> paths;
  for (u32 s = 0; s < tree.host_count(); ++s) {
    for (u32 d = 0; d < tree.host_count(); ++d) {
      const auto path = tree.path(s, d, rng());
      paths.emplace_back(path.switches().begin(), path.switches().end());
    }
  }
  planner_config c;
  c.epoch_ns = 1'600'000;
  c.start_ns = 5'000'000;
  constexpr u32 epochs = 4;
  std::vector<std::vector<u64>> memory(epochs, std::vector<u64>(tree.switch_count()));
  for (auto& row : memory) {
    for (auto& m : row)
      m = innet::uniform_below(rng, 4) == 0 ? 0 : 128 + innet::uniform_below(rng, 64 * 1024);
    for (u32 e = 0; e < tree.edge_count(); ++e)
      row[e] = std::max<u64>(row[e], 4096);
  }
  std::vector<double> weights(paths.size());
  for (auto& w : weights)
    w = 1.0 + static_cast<double>(innet::uniform_below(rng, 1000));
  const std::vector<std::vector<double>> load{
      fragment_planner::loads(tree.switch_count(), paths, weights)};
  const fragment_plan p = planned(c, paths, memory, load);

  for (u32 e = 0; e < epochs; ++e) {
    std::vector<double> assigned(tree.switch_count(), 0.0);
    for (std::size_t f = 0; f < paths.size(); ++f) {
      const auto k = key_of(f);
      const u64 h = assignment_hash(k, c.base_seed);
      // Each hop decides on its own, as a switch would.
      u32 counting = 0;
      std::size_t which = 0;
      for (std::size_t i = 0; i < paths[f].size(); ++i) {
        if (p.counts(e, i, h, paths[f])) {
          ++counting;
          which = i;
        }
      }
      CHECK(counting == 1);
      CHECK(which == hop_by_hand(p, e, h, paths[f]));
      const u32 n = paths[f][which];
      CHECK(p.at(e, n).width > 0);
      CHECK(p.memory_bytes(e, n) <= memory[e][n]);
      // Its windows tile the epoch, so the flow is covered for the whole epoch.
      u64 next = p.epoch_begin(e);
      for (u32 i = 0; i < p.at(e, n).subepochs; ++i) {
        CHECK(p.header(e, n, i).begin_ns == next);
        next = p.header(e, n, i).end_ns;
      }
      CHECK(next == p.epoch_end(e));
      assigned[n] += weights[f];
    }
    // What equalisation buys: the error scale a flow sees is the realised rho (assigned
    // weight / width) of its one node; every hop counting, the best it can get is the smallest
    // full rho (load / width) on its path. Weighted by flow, the first is several times lower
    // (paths are 1 to 5 switches long, and 3 to 5 here for most flows; measured 2.4 to 3.3x).
    double spatial = 0, best_full = 0;
    for (std::size_t f = 0; f < paths.size(); ++f) {
      const u64 h = assignment_hash(key_of(f), c.base_seed);
      const u32 n = paths[f][p.assigned_hop(e, h, paths[f])];
      double best = 1e300;
      for (u32 m : paths[f])
        if (p.at(e, m).width > 0) best = std::min(best, load[0][m] / p.at(e, m).width);
      spatial += weights[f] * assigned[n] / p.at(e, n).width;
      best_full += weights[f] * best;
    }
    CAPTURE(e);
    CHECK(spatial < 0.5 * best_full);
  }
}

TEST_CASE("fragment_collector one_hop answer comes from exactly the assigned fragments") {
  planner_config c;
  c.depth = 3;
  c.counter_bytes = 4;
  c.min_width = 1;
  c.epoch_ns = 1000;
  c.max_subepochs = 4;
  c.target_peb = 0.5;  // splits some nodes into sub-epochs, whose fragments are summed
  c.base_seed = 99;
  const std::vector<std::vector<u32>> paths{{0, 1, 2}, {3, 1}};
  // Memory changes between the two epochs (widths 64/32/128/64, then 16/256/32/8).
  const u64 col = u64{c.depth} * c.counter_bytes;
  const std::vector<std::vector<u64>> memory{{64 * col, 32 * col, 128 * col, 64 * col},
                                             {16 * col, 256 * col, 32 * col, 8 * col}};
  const std::vector<std::vector<double>> load{{800, 1600, 800, 800}};
  const fragment_plan p = planned(c, paths, memory, load);
  u32 split = 0;
  for (u32 e = 0; e < 2; ++e)
    for (u32 n = 0; n < 4; ++n)
      split += p.at(e, n).subepochs > 1 ? 1 : 0;
  REQUIRE(split > 0);

  // Flows 0..59: even ones on path 0, odd ones on path 1; packets at random times.
  constexpr u32 flows = 60;
  struct packet {
    u32 flow;
    u64 time;
  };
  innet::xoshiro256ss rng{5};
  std::vector<packet> packets;
  for (u32 f = 0; f < flows; ++f) {
    const u64 n = 1 + innet::uniform_below(rng, 40);
    for (u64 i = 0; i < n; ++i)
      packets.push_back({f, innet::uniform_below(rng, 2 * c.epoch_ns)});
  }
  // The switches: each fragment of the plan, fed the packets of the flows assigned to its node.
  std::vector<std::vector<std::vector<fragment<count_min<u32>>>>> frags(
      2, std::vector<std::vector<fragment<count_min<u32>>>>(4));
  for (u32 e = 0; e < 2; ++e) {
    for (u32 n = 0; n < 4; ++n) {
      for (u32 i = 0; i < p.at(e, n).subepochs; ++i) {
        const fragment_header h = p.header(e, n, i);
        frags[e][n].push_back(*fragment<count_min<u32>>::create(
            h, *count_min<u32>::create(c.depth, p.at(e, n).width, h.seed)));
      }
    }
  }
  for (const packet& pk : packets) {
    const u32 e = static_cast<u32>(pk.time / c.epoch_ns);
    const auto& path = paths[pk.flow % 2];
    const auto k = key_of(pk.flow);
    const u64 ah = assignment_hash(k, c.base_seed);
    for (std::size_t hop = 0; hop < path.size(); ++hop) {
      if (!p.counts(e, hop, ah, path)) continue;
      const u32 n = path[hop];
      const u32 i = p.subepoch_at(e, n, pk.time - p.epoch_begin(e));
      (void)frags[e][n][i].update(innet::make_hash_family(k, frags[e][n][i].header().seed), 1);
    }
  }
  // Every packet is in exactly one fragment, network-wide.
  u64 counted = 0;
  fragment_collector<count_min<u32>> collector;
  for (const auto& per_epoch : frags) {
    for (const auto& per_node : per_epoch) {
      for (const auto& f : per_node) {
        counted += f.sketch().total_weight();
        REQUIRE(collector.ingest(f.serialize()).ok());
      }
    }
  }
  CHECK(counted == packets.size());
  // An off-path node's fragment full of every flow, and a fragment of a later epoch: ignored.
  {
    fragment_header h = p.header(0, 0, 0);
    h.node = 9;
    h.seed = innet::sketch::fragment_seed(c.base_seed, 9);
    auto junk = *fragment<count_min<u32>>::create(h, *count_min<u32>::create(3, 8, h.seed));
    fragment_header later = p.header(1, 1, 0);
    later.epoch = 2;
    later.begin_ns += 2 * c.epoch_ns;
    later.end_ns += 2 * c.epoch_ns;
    auto future =
        *fragment<count_min<u32>>::create(later, *count_min<u32>::create(3, 8, later.seed));
    for (u32 f = 0; f < flows; ++f) {
      (void)junk.update(innet::make_hash_family(key_of(f), h.seed), 1000);
      (void)future.update(innet::make_hash_family(key_of(f), later.seed), 1000);
    }
    REQUIRE(collector.ingest(junk.serialize()).ok());
    REQUIRE(collector.ingest(future.serialize()).ok());
  }

  const std::array<std::array<u64, 2>, 4> ranges{{{0, 2000}, {0, 1000}, {1000, 2000}, {0, 1500}}};
  for (u32 f = 0; f < flows; ++f) {
    const auto& path = paths[f % 2];
    const auto k = key_of(f);
    const u64 ah = assignment_hash(k, c.base_seed);
    for (const auto& r : ranges) {
      CAPTURE(f);
      CAPTURE(r[0]);
      CAPTURE(r[1]);
      double want = 0;
      u64 truth = 0;
      for (u32 e = 0; e < 2; ++e) {
        const std::size_t hop = hop_by_hand(p, e, ah, path);
        REQUIRE(hop < path.size());
        for (const auto& fr : frags[e][path[hop]]) {
          if (!fr.header().overlaps(r[0], r[1])) continue;
          want += cm_by_hand(fr.sketch(), innet::make_hash_family(k, fr.header().seed));
        }
      }
      for (const packet& pk : packets)
        truth += pk.flow == f && pk.time >= r[0] && pk.time < r[1] ? 1 : 0;
      const auto got = collector.estimate(k, path, r[0], r[1], p);
      CHECK(got.value == want);
      CHECK(got.value >= static_cast<double>(truth));
    }
  }
  // An every_hop plan falls back to the min across hops.
  planner_config every = c;
  every.assignment = hop_assignment::every_hop;
  const fragment_plan q = planned(every, paths, memory, load);
  CHECK(collector.estimate(key_of(0), paths[0], 0, 2000, q).value ==
        collector.estimate(key_of(0), paths[0], 0, 2000).value);
}
