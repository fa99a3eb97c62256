// Checks the invariants flow_trace promises (exact packet total, every flow present, packets
// consistent with sizes, distinct plausible flows), that sizes are heavy-tailed in a way a
// uniform split would fail, and that a seed pins the whole trace.
#include "innet/workload/flow_trace.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "innet/net/five_tuple.hpp"

namespace {

using innet::net::five_tuple;
using innet::workload::flow_trace;
using innet::workload::flow_trace_config;

// The trace a valid configuration must yield.
flow_trace generated(const flow_trace_config& config) {
  auto trace = flow_trace::generate(config);
  INFO(trace.status().ToString());
  REQUIRE(trace.ok());
  return *std::move(trace);
}

// A rejected configuration: InvalidArgument, with a message that names the problem.
void check_rejected(const flow_trace_config& config, absl::string_view problem) {
  const absl::Status status = flow_trace::generate(config).status();
  INFO(status.ToString());
  CAPTURE(problem);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), problem));
}

// The large trace of the task statement, generated once for the checks that need its size.
const flow_trace& big_trace() {
  static const flow_trace trace =
      generated({.flow_count = 100'000, .packet_count = 10'000'000, .zipf_s = 1.1, .seed = 2024});
  return trace;
}

// FNV-1a over everything the trace contains, to compare whole traces cheaply.
std::uint64_t fingerprint(const flow_trace& t) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&h](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      h ^= (v >> (8 * i)) & 0xffU;
      h *= 0x100000001b3ULL;
    }
  };
  for (const auto& f : t.flows) {
    for (const auto b : f.to_bytes())
      mix(std::to_integer<std::uint64_t>(b), 1);
  }
  for (const auto s : t.sizes)
    mix(s, 4);
  for (const auto p : t.packets)
    mix(p, 4);
  return h;
}

void check_invariants(const flow_trace& t, const flow_trace_config& c) {
  REQUIRE(t.flows.size() == c.flow_count);
  REQUIRE(t.sizes.size() == c.flow_count);
  REQUIRE(t.packets.size() == c.packet_count);

  std::uint64_t total = 0;
  for (const auto s : t.sizes) {
    REQUIRE(s >= 1);
    total += s;
  }
  CHECK(total == c.packet_count);

  // Brute-force recount of the packets of every flow.
  std::vector<std::uint32_t> counted(c.flow_count, 0);
  for (const auto f : t.packets) {
    REQUIRE(f < c.flow_count);
    ++counted[f];
  }
  CHECK(counted == t.sizes);

  // Distinct flows: sort the canonical byte strings and look for neighbours that are equal.
  std::vector<std::array<std::byte, 13>> keys;
  keys.reserve(t.flows.size());
  for (const auto& f : t.flows)
    keys.push_back(f.to_bytes());
  std::sort(keys.begin(), keys.end());
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
}

// Share of all packets carried by the largest `fraction` of flows.
double top_share(const flow_trace& t, double fraction) {
  std::vector<std::uint32_t> sorted = t.sizes;
  std::sort(sorted.begin(), sorted.end(), std::greater<>{});
  const auto top =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  const double carried =
      std::accumulate(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top), 0.0);
  return carried / static_cast<double>(t.packets.size());
}

}  // namespace

TEST_CASE("five_tuple bytes are in network order") {
  const five_tuple t{.src_ip = 0x0a000001,  // 10.0.0.1
                     .dst_ip = 0xc0a80102,  // 192.168.1.2
                     .src_port = 1234,
                     .dst_port = 80,
                     .protocol = 6};
  constexpr std::array<unsigned, 13> want{0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01,
                                          0x02, 0x04, 0xd2, 0x00, 0x50, 0x06};
  const auto bytes = t.to_bytes();
  for (std::size_t i = 0; i < 13; ++i)
    CHECK(std::to_integer<unsigned>(bytes[i]) == want[i]);
  static_assert(five_tuple{1, 2, 3, 4, 5} == five_tuple{1, 2, 3, 4, 5});
  static_assert(five_tuple{1, 2, 3, 4, 5} != five_tuple{1, 2, 3, 4, 6});
  static_assert(five_tuple{1, 2, 3, 4, 5}.to_bytes()[12] == std::byte{5});
}

TEST_CASE("large trace: invariants and heavy tail") {
  const flow_trace_config config{
      .flow_count = 100'000, .packet_count = 10'000'000, .zipf_s = 1.1, .seed = 2024};
  const auto& t = big_trace();
  check_invariants(t, config);

  // Zipf(1.1) over 100k flows puts ~74% of packets in the top 1% of flows; a uniform split puts
  // 1% there, and even an exponential-tailed one stays far below 30%.
  CHECK(top_share(t, 0.01) >= 0.30);
  CHECK(top_share(t, 0.10) >= 0.60);
  // The largest flow is the rank-0 share of the packets beyond the first of each flow.
  const double extra = static_cast<double>(config.packet_count - config.flow_count);
  double weights = 0.0;
  for (std::size_t r = config.flow_count; r-- > 0;)
    weights += std::pow(r + 1.0, -config.zipf_s);
  const auto largest = *std::max_element(t.sizes.begin(), t.sizes.end());
  CHECK(std::fabs(static_cast<double>(largest) - (1.0 + extra / weights)) <= 1.0);
  // Mice exist too: the median flow is tiny compared with the largest.
  std::vector<std::uint32_t> sorted = t.sizes;
  std::nth_element(sorted.begin(), sorted.begin() + 50'000, sorted.end());
  CHECK(sorted[50'000] * 1000 < largest);
}

TEST_CASE("large trace: flows look like Internet traffic") {
  const auto& t = big_trace();
  std::uint64_t tcp = 0;
  for (const auto& f : t.flows) {
    REQUIRE((f.protocol == 6 || f.protocol == 17));
    REQUIRE((f.src_ip >> 24) == 10);
    REQUIRE(innet::workload::detail::is_public_unicast(f.dst_ip));
    REQUIRE(f.src_port >= 49152);
    REQUIRE(f.dst_port >= 1);
    tcp += f.protocol == 6;
  }
  // 85% TCP, within 5 binomial sigma.
  const double n = static_cast<double>(t.flows.size());
  CHECK(std::fabs(static_cast<double>(tcp) - 0.85 * n) < 5.0 * std::sqrt(n * 0.85 * 0.15));
}

TEST_CASE("large trace: packets are interleaved, not grouped by flow") {
  const auto& t = big_trace();
  const auto biggest = static_cast<std::uint32_t>(std::max_element(t.sizes.begin(), t.sizes.end()) -
                                                  t.sizes.begin());
  // Under a uniform shuffle each packet of a flow is in the first half with probability 1/2.
  const std::size_t half = t.packets.size() / 2;
  const auto first_half = static_cast<double>(std::count(
      t.packets.begin(), t.packets.begin() + static_cast<std::ptrdiff_t>(half), biggest));
  const double k = t.sizes[biggest];
  CHECK(std::fabs(first_half - k / 2.0) < 5.0 * std::sqrt(k / 4.0));
  // Consecutive packets rarely belong to the same flow (runs would betray grouping).
  std::size_t repeats = 0;
  for (std::size_t i = 1; i < t.packets.size(); ++i)
    repeats += t.packets[i] == t.packets[i - 1];
  CHECK(static_cast<double>(repeats) < 0.05 * static_cast<double>(t.packets.size()));
}

TEST_CASE("packet_tuples iterates the packets as five-tuples") {
  auto t = generated({.flow_count = 50, .packet_count = 2000, .seed = 3});
  const auto view = t.packet_tuples();
  CHECK(view.size() == t.packets.size());
  std::size_t i = 0;
  for (const five_tuple& f : view) {
    REQUIRE(i < t.packets.size());
    REQUIRE(f == t.flows[t.packets[i]]);
    REQUIRE(&f == &t.packet(i));
    REQUIRE(&view[i] == &t.packet(i));
    ++i;
  }
  CHECK(i == t.packets.size());
  // A moved trace keeps its buffers, so a view taken before the move still works.
  const flow_trace moved = std::move(t);
  CHECK(&view[0] == &moved.packet(0));
  CHECK(&*view.begin() == &moved.packet(0));
}

TEST_CASE("same seed, same trace, and a different seed, different trace") {
  const flow_trace_config config{.flow_count = 2000, .packet_count = 100'000, .seed = 99};
  const auto a = generated(config);
  const auto b = generated(config);
  CHECK(a.flows == b.flows);
  CHECK(a.sizes == b.sizes);
  CHECK(a.packets == b.packets);
  check_invariants(a, config);

  auto other = config;
  other.seed = 100;
  const auto c = generated(other);
  CHECK(c.flows != a.flows);
  CHECK(c.packets != a.packets);
  // The size multiset is the Zipf apportionment, which the seed does not change; only which
  // flow gets which size does.
  auto sa = a.sizes, sc = c.sizes;
  std::sort(sa.begin(), sa.end());
  std::sort(sc.begin(), sc.end());
  CHECK(sa == sc);
  CHECK(a.sizes != c.sizes);

  // Pins the stream itself so that a change of algorithm, or of compiler or standard library,
  // that alters the output is noticed (value from this implementation, g++ 12 and clang++ 14).
  CHECK(fingerprint(a) == 0xC6124D9185A6A287ULL);
}

TEST_CASE("edge cases") {
  const auto empty = generated({.flow_count = 0, .packet_count = 0});
  CHECK(empty.flows.empty());
  CHECK(empty.packets.empty());

  const auto singles = generated({.flow_count = 1000, .packet_count = 1000});
  check_invariants(singles, {.flow_count = 1000, .packet_count = 1000});
  CHECK(std::all_of(singles.sizes.begin(), singles.sizes.end(), [](auto s) { return s == 1; }));

  const auto one = generated({.flow_count = 1, .packet_count = 777});
  CHECK(one.sizes == std::vector<std::uint32_t>{777});

  // s = 0: equal shares, so sizes differ by at most one.
  const flow_trace_config flat{.flow_count = 300, .packet_count = 100'000, .zipf_s = 0.0};
  const auto even = generated(flat);
  check_invariants(even, flat);
  const auto [lo, hi] = std::minmax_element(even.sizes.begin(), even.sizes.end());
  CHECK(*hi - *lo <= 1);

  // A steep skew still leaves every flow one packet.
  const flow_trace_config steep{.flow_count = 5000, .packet_count = 20'000, .zipf_s = 3.0};
  check_invariants(generated(steep), steep);
}

TEST_CASE("invalid configurations are rejected") {
  check_rejected({.flow_count = 10, .packet_count = 9}, "every flow needs a packet");
  check_rejected({.flow_count = 0, .packet_count = 9}, "packets need at least one flow");
  check_rejected({.flow_count = 1, .packet_count = 9, .zipf_s = -1.0},
                 "zipf_s must be finite and >= 0");
  check_rejected(
      {.flow_count = 1, .packet_count = 9, .zipf_s = std::numeric_limits<double>::infinity()},
      "zipf_s must be finite and >= 0");
  check_rejected({.flow_count = 1, .packet_count = std::size_t{1} << 32},
                 "packet_count must fit in 32 bits");
}
