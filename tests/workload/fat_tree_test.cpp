// Checks the fat tree against Al-Fares et al.'s counts, that every ECMP path is a chain of real
// links between the right edge switches, that ECMP spreads flows evenly over the equal-cost
// paths (chi-square against the uniform distribution), and that a flow's path is a pure
// function of its five-tuple and the hash seed.
#include "innet/workload/fat_tree.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "innet/core/random.hpp"
#include "innet/net/five_tuple.hpp"

namespace {

using innet::workload::fat_tree;
using innet::workload::fat_tree_path;
using innet::workload::fat_tree_role;

fat_tree make(std::uint32_t k) {
  auto t = fat_tree::create(k);
  REQUIRE(t.ok());
  return *t;
}

innet::net::five_tuple random_flow(innet::xoshiro256ss& rng) {
  innet::net::five_tuple f;
  f.src_ip = static_cast<std::uint32_t>(rng());
  f.dst_ip = static_cast<std::uint32_t>(rng());
  f.src_port = static_cast<std::uint16_t>(rng());
  f.dst_port = static_cast<std::uint16_t>(rng());
  f.protocol = 6;
  return f;
}

TEST_CASE("fat_tree rejects odd, zero and huge k") {
  CHECK_FALSE(fat_tree::create(0).ok());
  CHECK_FALSE(fat_tree::create(3).ok());
  CHECK_FALSE(fat_tree::create(256).ok());
  CHECK(fat_tree::create(2).ok());
}

TEST_CASE("fat_tree counts match Al-Fares for k 4 6 8") {
  for (std::uint32_t k : {4U, 6U, 8U}) {
    const fat_tree t = make(k);
    CAPTURE(k);
    CHECK(t.pod_count() == k);
    CHECK(t.edge_count() == k * k / 2);
    CHECK(t.aggregation_count() == k * k / 2);
    CHECK(t.core_count() == (k / 2) * (k / 2));
    CHECK(t.switch_count() == 5 * k * k / 4);
    CHECK(t.host_count() == k * k * k / 4);
    // Ids are dense and each role/pod/index round-trips.
    std::set<std::uint32_t> ids;
    for (std::uint32_t p = 0; p < k; ++p) {
      for (std::uint32_t i = 0; i < k / 2; ++i) {
        ids.insert(t.edge(p, i));
        ids.insert(t.aggregation(p, i));
        CHECK(t.role(t.edge(p, i)) == fat_tree_role::edge);
        CHECK(t.role(t.aggregation(p, i)) == fat_tree_role::aggregation);
        CHECK(t.pod_of(t.edge(p, i)) == p);
        CHECK(t.pod_of(t.aggregation(p, i)) == p);
        CHECK(t.index_of(t.aggregation(p, i)) == i);
      }
    }
    for (std::uint32_t g = 0; g < k / 2; ++g) {
      for (std::uint32_t j = 0; j < k / 2; ++j) {
        ids.insert(t.core(g, j));
        CHECK(t.role(t.core(g, j)) == fat_tree_role::core);
        CHECK(t.core_group(t.core(g, j)) == g);
      }
    }
    CHECK(ids.size() == t.switch_count());
    CHECK(*ids.rbegin() == t.switch_count() - 1);
    // Degree: every switch has k ports; edge switches use k/2 of them for hosts.
    for (std::uint32_t s = 0; s < t.switch_count(); ++s) {
      std::uint32_t degree = 0;
      for (std::uint32_t o = 0; o < t.switch_count(); ++o)
        degree += t.linked(s, o) ? 1U : 0U;
      CHECK(degree == (t.role(s) == fat_tree_role::edge   ? k / 2
                       : t.role(s) == fat_tree_role::core ? k
                                                          : k));
    }
  }
}

TEST_CASE("fat_tree every ECMP path is a chain of links between the hosts' edges") {
  for (std::uint32_t k : {2U, 4U, 6U}) {
    const fat_tree t = make(k);
    CAPTURE(k);
    for (std::uint32_t s = 0; s < t.host_count(); ++s) {
      for (std::uint32_t d = 0; d < t.host_count(); ++d) {
        const std::uint32_t n = t.path_count(s, d);
        std::set<std::vector<std::uint32_t>> distinct;
        for (std::uint32_t i = 0; i < n; ++i) {
          const fat_tree_path p = t.path_by_index(s, d, i);
          const auto hops = p.switches();
          REQUIRE(!hops.empty());
          CHECK(hops.front() == t.edge_of_host(s));
          CHECK(hops.back() == t.edge_of_host(d));
          const bool same_edge = t.edge_of_host(s) == t.edge_of_host(d);
          const bool same_pod = t.pod_of(t.edge_of_host(s)) == t.pod_of(t.edge_of_host(d));
          CHECK(hops.size() == (same_edge ? 1U : same_pod ? 3U : 5U));
          for (std::size_t h = 1; h < hops.size(); ++h)
            CHECK(t.linked(hops[h - 1], hops[h]));
          distinct.insert({hops.begin(), hops.end()});
        }
        CHECK(distinct.size() == n);  // the n equal-cost paths are all different
      }
    }
  }
}

TEST_CASE("fat_tree ECMP spreads flows evenly over inter-pod paths") {
  const fat_tree t = make(8);  // 16 inter-pod paths
  innet::xoshiro256ss rng{7};
  const std::uint32_t src = 0;
  const std::uint32_t dst = t.host_count() - 1;  // another pod
  const std::uint32_t n = t.path_count(src, dst);
  REQUIRE(n == 16);
  std::vector<std::uint32_t> hits(n, 0);
  constexpr std::uint32_t flows = 32'000;
  for (std::uint32_t i = 0; i < flows; ++i) {
    const fat_tree_path p = t.ecmp_path(src, dst, random_flow(rng), 99);
    const std::uint32_t group = t.index_of(p.hops[1]);
    const std::uint32_t j = t.index_of(p.hops[2]);
    ++hits[group * t.half() + j];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(flows) / n;
  for (auto h : hits)
    chi2 += (h - expected) * (h - expected) / expected;
  // 15 degrees of freedom: P(chi2 > 45) < 1e-4 under uniformity.
  CHECK(chi2 < 45.0);
}

TEST_CASE("fat_tree ECMP path is deterministic per flow and seed") {
  const fat_tree t = make(4);
  innet::xoshiro256ss rng{11};
  int differs_by_seed = 0;
  for (int i = 0; i < 200; ++i) {
    const auto f = random_flow(rng);
    const auto a = t.ecmp_path(1, 14, f, 5);
    const auto b = t.ecmp_path(1, 14, f, 5);
    CHECK(a == b);
    differs_by_seed += t.ecmp_path(1, 14, f, 6) == a ? 0 : 1;
  }
  // With 4 paths, a fresh seed picks another path for about 3/4 of the flows.
  CHECK(differs_by_seed > 100);
}

}  // namespace
