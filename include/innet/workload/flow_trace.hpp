// A synthetic link trace: packets of many flows with heavy-tailed flow sizes, reproducible from a
// seed on every compiler and standard library.
//
// Measurement structures (sketches, heavy-hitter detectors, flow caches) are judged on traces
// where a few elephant flows carry most packets and a long tail of mice carry the rest, with the
// packets of all flows interleaved. Real traces are large and awkward to ship, so tests and
// benchmarks generate one:
//
//   1. Flows. Each flow gets a random five-tuple, redrawn until it differs from all earlier ones:
//      85% TCP / 15% UDP, a client address in 10.0.0.0/8 and an ephemeral source port
//      (49152-65535), a public unicast server address, and a server port drawn from a small
//      table of common services (443, 80, 53, ...) or else a random registered port.
//   2. Sizes. Every flow gets one packet; the other packet_count - flow_count packets are
//      apportioned to popularity ranks in proportion to Zipf weights (r + 1)^-zipf_s by the
//      largest-remainder method: each rank takes the floor of its exact share, and the packets
//      left over (fewer than flow_count) go one each to the ranks with the largest fractional
//      parts, ties to the more popular rank. So sizes sum to exactly packet_count, every flow
//      has at least one packet, and the shape is Zipf without sampling noise. Ranks are then
//      dealt to flows by a random permutation, so a flow's index says nothing about its size.
//   3. Order. Flow indices repeated by size are Fisher-Yates shuffled: a uniformly random
//      interleaving, as if all flows were active throughout the trace.
//
// Determinism: all randomness comes from one xoshiro256ss through uniform_below, with our own
// Fisher-Yates, never std::shuffle or std distributions, whose output differs between standard
// libraries. The only floating point is step 2 (std::pow and IEEE arithmetic), which affects
// the result only if a share lands within rounding error of an integer or of another share's
// fractional part.
//
// Cost: O(packet_count) time and 4 bytes per packet; 10M packets take a fraction of a second,
// dominated by the cache misses of the shuffle.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/core/hash_family.hpp"
#include "innet/core/random.hpp"
#include "innet/net/five_tuple.hpp"
#include "innet/net/ipv4.hpp"

namespace innet::workload {

struct flow_trace_config {
  std::size_t flow_count = 10'000;
  std::size_t packet_count = 1'000'000;
  // Zipf exponent of flow size by rank; values around 1 are typical of measured link traces.
  // 0 gives equal sizes.
  double zipf_s = 1.1;
  std::uint64_t seed = 1;
};

namespace detail {

struct weighted_port {
  std::uint16_t port;  // 0: a random registered port (1024-49151)
  std::uint8_t percent;
};

// Rough service mixes for client-to-server traffic; each table sums to 100.
inline constexpr std::array<weighted_port, 8> tcp_server_ports{
    {{443, 55}, {80, 15}, {8080, 4}, {22, 3}, {25, 2}, {993, 2}, {3306, 2}, {0, 17}}};
inline constexpr std::array<weighted_port, 5> udp_server_ports{
    {{53, 40}, {443, 30}, {123, 8}, {4500, 4}, {0, 18}}};

template <std::size_t N>
std::uint16_t draw_server_port(xoshiro256ss& rng, const std::array<weighted_port, N>& table) {
  std::uint64_t u = uniform_below(rng, 100);
  for (const auto& entry : table) {
    if (u < entry.percent) {
      if (entry.port != 0) return entry.port;
      break;
    }
    u -= entry.percent;
  }
  return static_cast<std::uint16_t>(1024 + uniform_below(rng, 49152 - 1024));
}

// Excludes addresses that never appear as an Internet server: 0/8, 10/8, 100.64/10, 127/8,
// 169.254/16, 172.16/12, 192.168/16 and 224/3 (multicast and reserved).
constexpr bool is_public_unicast(std::uint32_t ip) noexcept {
  const std::uint32_t a = ip >> 24;
  const std::uint32_t b = (ip >> 16) & 0xffU;
  if (a == 0 || a == 10 || a == 127 || a >= 224) return false;
  if (a == 100 && (b & 0xc0U) == 64) return false;
  if (a == 169 && b == 254) return false;
  if (a == 172 && (b & 0xf0U) == 16) return false;
  if (a == 192 && b == 168) return false;
  return true;
}

inline net::five_tuple draw_flow(xoshiro256ss& rng) {
  net::five_tuple t;
  t.protocol = uniform_below(rng, 100) < 85 ? net::ip_protocol_tcp : net::ip_protocol_udp;
  t.src_ip = 0x0a000000U | static_cast<std::uint32_t>(uniform_below(rng, std::uint64_t{1} << 24));
  do {
    t.dst_ip = static_cast<std::uint32_t>(rng() >> 32);
  } while (!is_public_unicast(t.dst_ip));
  t.src_port = static_cast<std::uint16_t>(49152 + uniform_below(rng, 16384));
  t.dst_port = t.protocol == net::ip_protocol_tcp ? draw_server_port(rng, tcp_server_ports)
                                                  : draw_server_port(rng, udp_server_ports);
  return t;
}

// Only places tuples in flow_index_set, whose order never reaches the output, so any good mixer
// will do; MurmurHash3's finalizer is the one innet already has.
constexpr std::uint64_t hash_flow(const net::five_tuple& t) noexcept {
  const std::uint64_t ips = (std::uint64_t{t.src_ip} << 32) | t.dst_ip;
  const std::uint64_t rest =
      (std::uint64_t{t.src_port} << 24) | (std::uint64_t{t.dst_port} << 8) | t.protocol;
  return innet::detail::fmix64(ips ^ innet::detail::fmix64(rest));
}

// Open-addressing set of indices into a flow vector; only used to reject duplicate tuples, so
// its iteration order (none is exposed) cannot leak into the output.
class flow_index_set {
 public:
  explicit flow_index_set(std::size_t capacity) {
    std::size_t size = 16;
    while (size < 2 * capacity)
      size *= 2;
    slots_.assign(size, 0);
  }

  // Inserts flows[index] unless an equal tuple is present; returns whether it was inserted.
  bool insert(std::span<const net::five_tuple> flows, std::uint32_t index) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash_flow(flows[index]) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == 0) {
        slots_[i] = index + 1;
        return true;
      }
      if (flows[slots_[i] - 1] == flows[index]) return false;
    }
  }

 private:
  std::vector<std::uint32_t> slots_;  // index + 1; 0 = empty
};

inline void fisher_yates(std::span<std::uint32_t> values, xoshiro256ss& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    std::swap(values[i - 1], values[static_cast<std::size_t>(uniform_below(rng, i))]);
  }
}

// Sizes by popularity rank (rank 0 largest), summing to exactly `packets`, each >= 1; see step 2
// of the file comment.
inline std::vector<std::uint32_t> zipf_apportion(std::size_t flows, std::size_t packets, double s) {
  std::vector<std::uint32_t> size(flows, 1);
  if (flows == 0) return size;
  const std::uint64_t extra = packets - flows;
  std::vector<double> share(flows);  // the weight, then the exact share, then its fraction
  double total = 0.0;
  for (std::size_t r = flows; r-- > 0;) {  // smallest first, for an accurate sum
    share[r] = std::pow(static_cast<double>(r + 1), -s);
    total += share[r];
  }
  std::uint64_t assigned = 0;
  for (std::size_t r = 0; r < flows; ++r) {
    const double exact = static_cast<double>(extra) * (share[r] / total);
    const double whole = std::floor(exact);
    size[r] += static_cast<std::uint32_t>(whole);
    share[r] = exact - whole;
    assigned += static_cast<std::uint64_t>(whole);
  }
  if (assigned <= extra) {
    // In exact arithmetic fewer than `flows` packets are left; rounding could add a few more.
    std::uint64_t left = extra - assigned;
    if (left >= flows) {
      for (auto& x : size)
        x += static_cast<std::uint32_t>(left / flows);
      left %= flows;
    }
    std::vector<std::uint32_t> order(flows);
    std::iota(order.begin(), order.end(), 0U);
    // A strict total order, so the chosen set is unique whatever nth_element's algorithm.
    const auto larger_fraction = [&share](std::uint32_t a, std::uint32_t b) {
      return share[a] > share[b] || (share[a] == share[b] && a < b);
    };
    const auto cut = order.begin() + static_cast<std::ptrdiff_t>(left);
    std::nth_element(order.begin(), cut, order.end(), larger_fraction);
    for (auto it = order.begin(); it != cut; ++it)
      ++size[*it];
  } else {
    // Rounding overshot (only conceivable with huge counts): trim the largest flows.
    std::uint64_t excess = assigned - extra;
    for (std::size_t r = 0; excess > 0; ++r) {
      const std::uint64_t take = std::min<std::uint64_t>(excess, size[r] - 1U);
      size[r] -= static_cast<std::uint32_t>(take);
      excess -= take;
    }
  }
  return size;
}

}  // namespace detail

struct flow_trace {
  std::vector<net::five_tuple> flows;  // distinct
  std::vector<std::uint32_t> sizes;    // packets of flows[i]
  std::vector<std::uint32_t> packets;  // flow index of each packet, in trace order

  // InvalidArgument if packet_count does not fit in 32 bits, flow_count > packet_count, there
  // are packets but no flows, or zipf_s is negative or not finite.
  static absl::StatusOr<flow_trace> generate(const flow_trace_config& config) {
    constexpr std::size_t max_count = std::numeric_limits<std::uint32_t>::max();
    if (config.packet_count > max_count) {
      return absl::InvalidArgumentError("flow_trace: packet_count must fit in 32 bits");
    }
    if (config.flow_count > config.packet_count) {
      return absl::InvalidArgumentError(
          "flow_trace: every flow needs a packet (flow_count > packets)");
    }
    if (config.flow_count == 0 && config.packet_count != 0) {
      return absl::InvalidArgumentError("flow_trace: packets need at least one flow");
    }
    if (!(config.zipf_s >= 0.0) || !std::isfinite(config.zipf_s)) {
      return absl::InvalidArgumentError("flow_trace: zipf_s must be finite and >= 0");
    }

    xoshiro256ss rng{config.seed};
    flow_trace trace;
    const std::size_t flow_count = config.flow_count;

    trace.flows.reserve(flow_count);
    detail::flow_index_set seen{flow_count};
    while (trace.flows.size() < flow_count) {
      trace.flows.push_back(detail::draw_flow(rng));
      if (!seen.insert(trace.flows, static_cast<std::uint32_t>(trace.flows.size() - 1))) {
        trace.flows.pop_back();
      }
    }

    const auto by_rank = detail::zipf_apportion(flow_count, config.packet_count, config.zipf_s);
    std::vector<std::uint32_t> flow_of_rank(flow_count);
    std::iota(flow_of_rank.begin(), flow_of_rank.end(), 0U);
    detail::fisher_yates(flow_of_rank, rng);
    trace.sizes.resize(flow_count);
    for (std::size_t r = 0; r < flow_count; ++r)
      trace.sizes[flow_of_rank[r]] = by_rank[r];

    trace.packets.resize(config.packet_count);
    auto out = trace.packets.begin();
    for (std::size_t f = 0; f < flow_count; ++f) {
      out = std::fill_n(out, trace.sizes[f], static_cast<std::uint32_t>(f));
    }
    detail::fisher_yates(trace.packets, rng);
    return trace;
  }

  const net::five_tuple& packet(std::size_t i) const { return flows[packets[i]]; }

  // The packets as five-tuples, in trace order, without materialising them. A hand-written view
  // rather than std::views::transform, which clang 14 cannot compile against libstdc++ 12. It
  // points into the vectors' buffers, so it stays valid while they are not resized (moving the
  // trace is fine).
  class packet_view {
   public:
    class iterator {
     public:
      using iterator_category = std::forward_iterator_tag;
      using value_type = net::five_tuple;
      using difference_type = std::ptrdiff_t;
      using pointer = const net::five_tuple*;
      using reference = const net::five_tuple&;

      iterator() = default;
      iterator(const std::uint32_t* position, const net::five_tuple* flows)
          : position_{position}, flows_{flows} {}

      reference operator*() const { return flows_[*position_]; }
      pointer operator->() const { return &flows_[*position_]; }
      iterator& operator++() {
        ++position_;
        return *this;
      }
      iterator operator++(int) {
        iterator old = *this;
        ++position_;
        return old;
      }
      friend bool operator==(const iterator& a, const iterator& b) {
        return a.position_ == b.position_;
      }

     private:
      const std::uint32_t* position_ = nullptr;
      const net::five_tuple* flows_ = nullptr;
    };

    packet_view(std::span<const std::uint32_t> packets, std::span<const net::five_tuple> flows)
        : packets_{packets}, flows_{flows} {}

    iterator begin() const { return {packets_.data(), flows_.data()}; }
    iterator end() const { return {packets_.data() + packets_.size(), flows_.data()}; }
    std::size_t size() const noexcept { return packets_.size(); }
    const net::five_tuple& operator[](std::size_t i) const { return flows_[packets_[i]]; }

   private:
    std::span<const std::uint32_t> packets_;
    std::span<const net::five_tuple> flows_;
  };

  packet_view packet_tuples() const { return {packets, flows}; }
};

}  // namespace innet::workload
