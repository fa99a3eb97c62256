// A k-ary fat tree (Al-Fares, Loukissas and Vahdat, "A scalable, commodity data center network
// architecture", SIGCOMM 2008) with ECMP paths chosen by a hash of the flow's five-tuple.
//
// Shape, for an even k >= 2:
//
//   (k/2)^2 core switches          core(g, j), g, j in [0, k/2): group g links to aggregation g of
//         |                        every pod
//   k pods, each with k/2 aggregation switches agg(p, a) and k/2 edge switches edge(p, e); every
//         |                        edge links to every aggregation switch of its pod
//   k^3/4 hosts, k/2 per edge switch
//
// Switch ids are dense, so per-switch state can live in a vector indexed by id:
//
//   [0, k^2/2)                 edge(p, e)  = p * k/2 + e
//   [k^2/2, k^2)               agg(p, a)   = k^2/2 + p * k/2 + a
//   [k^2, k^2 + k^2/4)         core(g, j)  = k^2 + g * k/2 + j
//
// Hosts have their own dense ids [0, k^3/4): host h hangs off edge switch h / (k/2).
//
// Paths list the switches a packet crosses, source side first (hosts are not hops):
//   same edge switch   1 hop   edge
//   same pod           3 hops  edge, agg(p, a), edge                    k/2 equal-cost paths
//   different pods     5 hops  edge, agg(ps, g), core(g, j), agg(pd, g), edge   (k/2)^2 paths
// The upward choices are the only freedom (downward routes are unique in a fat tree), so one
// hash picks the whole path: index = floor(hash * n_paths / 2^64), the same high-bits range
// reduction as hash_family, which keeps the choice unbiased for any n_paths. A real switch
// hashes at each hop; picking the path once is equivalent in distribution and deterministic per
// flow, which is what ECMP guarantees (no reordering within a flow).
//
// The hash is XXH3-64 of the five-tuple's canonical 13 bytes (five_tuple::to_bytes) under a
// seed, so different seeds model different switch hash configurations.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/core/detail/mul128.hpp"
#include "innet/core/hash.hpp"
#include "innet/net/five_tuple.hpp"

namespace innet::workload {

enum class fat_tree_role : std::uint8_t { edge, aggregation, core };

// The switches of one path, source edge first. At most 5 hops in any fat tree.
struct fat_tree_path {
  std::array<std::uint32_t, 5> hops{};
  std::uint8_t length = 0;

  std::span<const std::uint32_t> switches() const noexcept { return {hops.data(), length}; }
  friend constexpr bool operator==(const fat_tree_path&, const fat_tree_path&) = default;
};

class fat_tree {
 public:
  static constexpr std::uint32_t max_k = 254;  // keeps every id and product well inside 32 bits

  // InvalidArgument unless k is even and 2 <= k <= max_k.
  static absl::StatusOr<fat_tree> create(std::uint32_t k) {
    if (k < 2 || k % 2 != 0 || k > max_k) {
      return absl::InvalidArgumentError("fat_tree: k must be even and in [2, 254]");
    }
    return fat_tree(k);
  }

  std::uint32_t k() const noexcept { return k_; }
  std::uint32_t half() const noexcept { return half_; }
  std::uint32_t pod_count() const noexcept { return k_; }
  std::uint32_t edge_count() const noexcept { return k_ * half_; }
  std::uint32_t aggregation_count() const noexcept { return k_ * half_; }
  std::uint32_t core_count() const noexcept { return half_ * half_; }
  std::uint32_t switch_count() const noexcept { return edge_count() * 2 + core_count(); }
  std::uint32_t host_count() const noexcept { return k_ * half_ * half_; }

  // Ids; arguments must be in range (pod < k, index < k/2).
  std::uint32_t edge(std::uint32_t pod, std::uint32_t e) const noexcept { return pod * half_ + e; }
  std::uint32_t aggregation(std::uint32_t pod, std::uint32_t a) const noexcept {
    return edge_count() + pod * half_ + a;
  }
  std::uint32_t core(std::uint32_t group, std::uint32_t j) const noexcept {
    return 2 * edge_count() + group * half_ + j;
  }

  // Properties of a switch id < switch_count().
  fat_tree_role role(std::uint32_t s) const noexcept {
    if (s < edge_count()) return fat_tree_role::edge;
    if (s < 2 * edge_count()) return fat_tree_role::aggregation;
    return fat_tree_role::core;
  }
  // The pod of an edge or aggregation switch.
  std::uint32_t pod_of(std::uint32_t s) const noexcept { return (s % edge_count()) / half_; }
  // Position within its pod (edge/aggregation) or its group (core: the j of core(g, j)).
  std::uint32_t index_of(std::uint32_t s) const noexcept { return s % half_; }
  // The group g of core(g, j).
  std::uint32_t core_group(std::uint32_t s) const noexcept {
    return (s - 2 * edge_count()) / half_;
  }

  // The edge switch of a host id < host_count().
  std::uint32_t edge_of_host(std::uint32_t host) const noexcept { return host / half_; }

  // Whether two switch ids share a cable (in either order).
  bool linked(std::uint32_t a, std::uint32_t b) const noexcept {
    if (a >= switch_count() || b >= switch_count()) return false;
    if (role(a) > role(b)) return linked(b, a);
    const fat_tree_role ra = role(a);
    const fat_tree_role rb = role(b);
    if (ra == fat_tree_role::edge && rb == fat_tree_role::aggregation) {
      return pod_of(a) == pod_of(b);
    }
    if (ra == fat_tree_role::aggregation && rb == fat_tree_role::core) {
      return index_of(a) == core_group(b);
    }
    return false;
  }

  // Number of equal-cost paths between two hosts (< host_count()).
  std::uint32_t path_count(std::uint32_t src_host, std::uint32_t dst_host) const noexcept {
    const std::uint32_t se = edge_of_host(src_host);
    const std::uint32_t de = edge_of_host(dst_host);
    if (se == de) return 1;
    if (se / half_ == de / half_) return half_;
    return half_ * half_;
  }

  // The path_index-th equal-cost path (path_index < path_count). Hosts < host_count().
  fat_tree_path path_by_index(std::uint32_t src_host, std::uint32_t dst_host,
                              std::uint32_t path_index) const noexcept {
    fat_tree_path p;
    const std::uint32_t se = edge_of_host(src_host);
    const std::uint32_t de = edge_of_host(dst_host);
    const std::uint32_t sp = se / half_;
    const std::uint32_t dp = de / half_;
    if (se == de) {
      p.hops[0] = se;
      p.length = 1;
    } else if (sp == dp) {
      p.hops = {se, aggregation(sp, path_index), de, 0, 0};
      p.length = 3;
    } else {
      const std::uint32_t group = path_index / half_;
      const std::uint32_t j = path_index % half_;
      p.hops = {se, aggregation(sp, group), core(group, j), aggregation(dp, group), de};
      p.length = 5;
    }
    return p;
  }

  // The ECMP path for a 64-bit flow hash.
  fat_tree_path path(std::uint32_t src_host, std::uint32_t dst_host,
                     std::uint64_t flow_hash) const noexcept {
    const auto n = path_count(src_host, dst_host);
    return path_by_index(src_host, dst_host,
                         static_cast<std::uint32_t>(innet::detail::mul_high64(flow_hash, n)));
  }

  // The ECMP path of a five-tuple between two hosts, under a switch hash seed.
  fat_tree_path ecmp_path(std::uint32_t src_host, std::uint32_t dst_host,
                          const net::five_tuple& flow, std::uint64_t seed = 0) const noexcept {
    const auto bytes = flow.to_bytes();
    return path(src_host, dst_host, xxh3_64(std::as_bytes(std::span(bytes)), seed));
  }

 private:
  explicit fat_tree(std::uint32_t k) : k_{k}, half_{k / 2} {}

  std::uint32_t k_;
  std::uint32_t half_;
};

}  // namespace innet::workload
