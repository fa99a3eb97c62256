// The planner: widths from memory (checked by hand), the sub-epoch rule on a hand-worked path,
// memory that changes every epoch, and the coverage guarantee on a k=4 fat tree with random
// memory (some nodes with none): every flow has fragments on its path for the whole window,
// in both sub-epoch modes with every hop counting, and a path without any memory is refused.
// (One-hop assignment: fragment_spatial_test.cpp.)
#include "innet/sketch/fragment_planner.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"
#include "innet/core/wire.hpp"
#include "innet/workload/fat_tree.hpp"

namespace {

using innet::u32;
using innet::u64;
using innet::sketch::fragment_header;
using innet::sketch::fragment_plan;
using innet::sketch::fragment_planner;
using innet::sketch::planner_config;
using innet::sketch::subepoch_mode;

fragment_plan planned(const planner_config& c, const std::vector<std::vector<u32>>& paths,
                      const std::vector<std::vector<u64>>& memory,
                      const std::vector<std::vector<double>>& load) {
  auto p = fragment_planner::plan(c, paths, memory, load);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return *std::move(p);
}

TEST_CASE("fragment_planner width is the largest power of two that fits") {
  planner_config c;
  c.depth = 4;
  c.counter_bytes = 4;
  c.min_width = 8;
  CHECK(fragment_planner::width_for(c, 4 * 4 * 1000) == 512);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 1024) == 1024);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 1024 - 1) == 512);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 8) == 8);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 8 - 1) == 0);
  CHECK(fragment_planner::width_for(c, 0) == 0);
  c.power_of_two_widths = false;
  CHECK(fragment_planner::width_for(c, 4 * 4 * 1000) == 1000);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 1000 + 15) == 1000);
  CHECK(fragment_planner::width_for(c, 4 * 4 * 8 - 1) == 0);
}

TEST_CASE("fragment_planner equalises PEBs along a path by hand") {
  planner_config c;
  c.assignment = innet::sketch::hop_assignment::every_hop;  // one_hop: fragment_spatial_test
  c.depth = 1;
  c.counter_bytes = 1;
  c.min_width = 1;
  c.max_subepochs = 8;
  c.epoch_ns = 800;
  // One path over nodes 0, 1, 2; node 3 is on no path.
  const std::vector<std::vector<u32>> paths{{0, 1, 2}};
  const std::vector<std::vector<u64>> memory{{256, 64, 16, 100}};
  const std::vector<std::vector<double>> load{{1000, 1000, 1000, 1000}};
  const fragment_plan p = planned(c, paths, memory, load);
  // rho = 1000/256 = 3.9, 1000/64 = 15.6, 1000/16 = 62.5; target 3.9:
  // ratios 1, 4, 16 -> k = 1, 4, 8 (capped).
  CHECK(p.at(0, 0).width == 256);
  CHECK(p.at(0, 1).width == 64);
  CHECK(p.at(0, 2).width == 16);
  CHECK(p.at(0, 0).subepochs == 1);
  CHECK(p.at(0, 1).subepochs == 4);
  CHECK(p.at(0, 2).subepochs == 8);
  CHECK(p.at(0, 3).subepochs == 1);  // no path: nothing to equalise with
  CHECK(p.at(0, 1).peb == doctest::Approx(1000.0 / 64 / 4));
  // Windows of node 1 tile [0, 800) in 4 pieces.
  for (u32 i = 0; i < 4; ++i) {
    const fragment_header h = p.header(0, 1, i);
    CHECK(h.begin_ns == 200 * i);
    CHECK(h.end_ns == 200 * (i + 1));
    CHECK(h.slots == 1);
    CHECK(h.seed == innet::sketch::fragment_seed(c.base_seed, 1));
  }
  CHECK(p.subepoch_at(0, 1, 399) == 1);
  CHECK(p.subepoch_at(0, 1, 400) == 2);
  // An explicit target overrides the path rule.
  c.target_peb = 1000.0 / 64;
  const fragment_plan q = planned(c, paths, memory, load);
  CHECK(q.at(0, 0).subepochs == 1);
  CHECK(q.at(0, 1).subepochs == 1);
  CHECK(q.at(0, 2).subepochs == 4);
  // A floor under the target: no fragment is split below rho 20 (node 2: 62.5 / 4 > 20 > 62.5 /
  // 8 needs 4; node 1: 15.6 < 20 stays whole).
  c.target_peb = 0;
  c.min_peb = 20;
  const fragment_plan r = planned(c, paths, memory, load);
  CHECK(r.at(0, 0).subepochs == 1);
  CHECK(r.at(0, 1).subepochs == 1);
  CHECK(r.at(0, 2).subepochs == 4);
}

TEST_CASE("fragment_planner follows memory that changes every epoch") {
  planner_config c;
  c.depth = 2;
  c.counter_bytes = 4;
  c.min_width = 4;
  const std::vector<std::vector<u32>> paths{{0, 1}};
  const std::vector<std::vector<u64>> memory{{8 * 64, 8 * 64}, {8 * 16, 8 * 300}, {0, 8 * 8}};
  const std::vector<std::vector<double>> load{{100, 100}};
  const fragment_plan p = planned(c, paths, memory, load);
  REQUIRE(p.epoch_count() == 3);
  CHECK(p.at(0, 0).width == 64);
  CHECK(p.at(1, 0).width == 16);
  CHECK(p.at(1, 1).width == 256);
  CHECK(p.at(2, 0).width == 0);
  CHECK(p.at(2, 1).width == 8);
  CHECK(p.memory_bytes(1, 1) == 2 * 256 * 4);
  CHECK(p.memory_bytes(1, 1) <= memory[1][1]);
  CHECK(p.header(2, 1, 0).begin_ns == 2 * c.epoch_ns);
  CHECK(p.header(2, 1, 0).epoch == 2);
}

// The coverage guarantee on a fat tree with random memory.
void check_coverage(subepoch_mode mode) {
  const auto tree = *innet::workload::fat_tree::create(4);
  innet::xoshiro256ss rng{17};
  std::vector<std::vector<u32>> paths;
  std::vector<u64> hashes;
  for (u32 s = 0; s < tree.host_count(); ++s) {
    for (u32 d = 0; d < tree.host_count(); ++d) {
      const u64 h = rng();
      const auto path = tree.path(s, d, h);
      paths.emplace_back(path.switches().begin(), path.switches().end());
      hashes.push_back(h);
    }
  }
  planner_config c;
  c.assignment = innet::sketch::hop_assignment::every_hop;
  c.mode = mode;
  c.max_subepochs = 16;
  c.epoch_ns = 1'600'000;
  c.start_ns = 5'000'000;
  constexpr u32 epochs = 4;
  std::vector<std::vector<u64>> memory(epochs, std::vector<u64>(tree.switch_count()));
  for (auto& row : memory) {
    for (auto& m : row)
      m = innet::uniform_below(rng, 4) == 0 ? 0 : 128 + innet::uniform_below(rng, 64 * 1024);
    // Edge switches always have some memory, so every path (they all start at one) is coverable.
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
    for (std::size_t f = 0; f < paths.size(); ++f) {
      std::array<std::byte, 8> key{};
      innet::store_be<u64>(key.data(), hashes[f]);
      u32 covering_nodes = 0;
      for (u32 n : paths[f]) {
        const auto& np = p.at(e, n);
        if (np.width == 0) continue;
        CHECK(p.memory_bytes(e, n) <= memory[e][n]);
        const auto h = innet::make_hash_family(key, p.header(e, n, 0).seed);
        // The fragments that count this flow, and the time they stand for.
        u64 covered = 0;
        u64 next = p.epoch_begin(e);
        u32 tracking = 0;
        for (u32 i = 0; i < np.subepochs; ++i) {
          const fragment_header fh = p.header(e, n, i);
          CHECK(fh.begin_ns == next);  // windows tile the epoch
          next = fh.end_ns;
          if (!fh.tracks(h)) continue;
          ++tracking;
          covered += fh.represented_end() - fh.represented_begin();
          CHECK(fh.represented_begin() >= p.epoch_begin(e));
          CHECK(fh.represented_end() <= p.epoch_end(e));
        }
        CHECK(next == p.epoch_end(e));
        CHECK(covered == c.epoch_ns);  // the whole epoch, exactly once
        if (mode == subepoch_mode::sample) CHECK(tracking == 1);
        if (mode == subepoch_mode::partition) CHECK(tracking == np.subepochs);
        ++covering_nodes;
      }
      CHECK(covering_nodes >= 1);
    }
  }
}

TEST_CASE("fragment_planner covers every flow on its path in partition mode") {
  check_coverage(subepoch_mode::partition);
}

TEST_CASE("fragment_planner covers every flow on its path in sample mode") {
  check_coverage(subepoch_mode::sample);
}

TEST_CASE("fragment_planner refuses a path without memory and bad configurations") {
  planner_config c;
  const std::vector<std::vector<u32>> paths{{0, 1}, {2}};
  const std::vector<std::vector<double>> load{{1, 1, 1}};
  auto p = fragment_planner::plan(c, paths, std::vector<std::vector<u64>>{{4096, 0, 0}}, load);
  CHECK(p.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(
      fragment_planner::plan(c, paths, std::vector<std::vector<u64>>{{4096, 0, 4096}}, load).ok());
  const std::vector<std::vector<u64>> memory{{4096, 4096, 4096}};
  planner_config bad = c;
  bad.max_subepochs = 12;
  CHECK_FALSE(fragment_planner::plan(bad, paths, memory, load).ok());
  bad = c;
  bad.epoch_ns = 1000 + 1;
  CHECK_FALSE(fragment_planner::plan(bad, paths, memory, load).ok());
  bad = c;
  bad.counter_bytes = 3;
  CHECK_FALSE(fragment_planner::plan(bad, paths, memory, load).ok());
  const std::vector<std::vector<u32>> bad_paths{{0, 7}};
  CHECK_FALSE(fragment_planner::plan(c, bad_paths, memory, load).ok());
  CHECK_FALSE(fragment_planner::plan(c, paths, std::vector<std::vector<u64>>{{1, 2}}, load).ok());
}

}  // namespace
