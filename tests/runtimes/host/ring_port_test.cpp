#include "innet/host/ring_port.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "conformance/packet_port_conformance.hpp"

namespace {

using innet::packet_view;
using innet::host::make_ring_port_pair;
using frame_span = std::span<const std::byte>;

innet::host::ring_port_pair make_pair(std::uint32_t slot_count, std::uint32_t max_frame) {
  auto pair = make_ring_port_pair({.slot_count = slot_count, .max_frame = max_frame});
  REQUIRE_MESSAGE(pair.ok(), pair.status().ToString());
  return std::move(*pair);
}

}  // namespace

TEST_CASE("ring_port a to b passes the packet-port conformance suite") {
  auto pair = make_pair(256, 2048);
  innet::conformance::check_packet_port(pair.a, pair.b, "host::ring_port a->b", 2048);
}

TEST_CASE("ring_port b to a passes the packet-port conformance suite") {
  auto pair = make_pair(256, 9000);
  innet::conformance::check_packet_port(pair.b, pair.a, "host::ring_port b->a", 9000);
}

TEST_CASE("a full ring accepts a prefix and lent slots stay reserved until the next rx_burst") {
  auto [a, b] = make_pair(8, 64);
  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < 12; ++i)
    frames.push_back(innet::conformance::numbered_frame(i, 64));
  const std::vector<frame_span> spans(frames.begin(), frames.end());

  CHECK(a.tx_burst(spans) == 8);
  CHECK(a.tx_burst(std::span(spans).subspan(8)) == 0);

  std::array<packet_view, 3> views{};
  REQUIRE(b.rx_burst(views) == 3);
  // Three frames are out on loan: their slots are not free yet.
  CHECK(a.tx_burst(std::span(spans).subspan(8)) == 0);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(std::vector<std::byte>(views[i].bytes.begin(), views[i].bytes.end()) == frames[i]);

  // An empty rx_burst returns the loan without taking more.
  CHECK(b.rx_burst(std::span<packet_view>{}) == 0);
  CHECK(a.tx_burst(std::span(spans).subspan(8)) == 3);

  std::array<packet_view, 16> rest{};
  REQUIRE(b.rx_burst(rest) == 8);
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(std::vector<std::byte>(rest[i].bytes.begin(), rest[i].bytes.end()) == frames[3 + i]);
  }

  const auto stats = a.stats();
  CHECK(stats.tx_packets == 11);
  CHECK(stats.tx_bytes == 11 * 64);
  CHECK(stats.tx_rejected == 4 + 4 + 4 + 1);
  CHECK(b.stats().rx_packets == 11);
}

TEST_CASE("a frame longer than max_frame is dropped as sent and empty frames are carried") {
  auto [a, b] = make_pair(16, 128);
  const std::vector<std::byte> fits(128, std::byte{1});
  const std::vector<std::byte> too_long(129, std::byte{2});
  const std::vector<std::byte> last(127, std::byte{3});
  const std::array<frame_span, 5> burst{frame_span{}, frame_span(fits), frame_span(too_long),
                                        frame_span(last), frame_span(too_long)};
  CHECK(a.tx_burst(burst) == 5);
  const auto stats = a.stats();
  CHECK(stats.tx_packets == 3);
  CHECK(stats.tx_bytes == 128 + 127);
  CHECK(stats.tx_dropped == 2);
  CHECK(stats.tx_rejected == 0);

  std::array<packet_view, 4> views{};
  REQUIRE(b.rx_burst(views) == 3);
  CHECK(views[0].bytes.empty());
  CHECK(std::vector<std::byte>(views[1].bytes.begin(), views[1].bytes.end()) == fits);
  CHECK(std::vector<std::byte>(views[2].bytes.begin(), views[2].bytes.end()) == last);
  CHECK(b.rx_burst(views) == 0);
}

TEST_CASE("oversize frames take no slot and a full ring still ends the burst") {
  auto [a, b] = make_pair(2, 64);
  const std::vector<std::byte> fits(64, std::byte{1});
  const std::vector<std::byte> too_long(65, std::byte{2});
  // Two slots: fits, (dropped), fits fill the ring; the next oversize frame is
  // dropped too, and the burst ends at the frame that needs a third slot.
  const std::array<frame_span, 6> burst{frame_span(fits), frame_span(too_long),
                                        frame_span(fits), frame_span(too_long),
                                        frame_span(fits), frame_span(too_long)};
  CHECK(a.tx_burst(burst) == 4);
  CHECK(a.stats().tx_dropped == 2);
  CHECK(a.stats().tx_rejected == 2);
  CHECK(a.tx_burst(std::span(burst).subspan(4)) == 0);
  CHECK(a.stats().tx_rejected == 4);

  std::array<packet_view, 4> views{};
  REQUIRE(b.rx_burst(views) == 2);
  CHECK(b.rx_burst(std::span<packet_view>{}) == 0);  // return the loan
  CHECK(a.tx_burst(std::span(burst).subspan(4)) == 2);
  CHECK(a.stats().tx_packets == 3);
  CHECK(a.stats().tx_dropped == 3);
  REQUIRE(b.rx_burst(views) == 1);
  CHECK(views[0].bytes.size() == 64);
}

TEST_CASE("received frames start on a cache line") {
  auto [a, b] = make_pair(16, 100);
  const std::vector<std::byte> frame(100, std::byte{3});
  const std::array<frame_span, 4> burst{frame_span(frame), frame_span(frame), frame_span(frame),
                                        frame_span(frame)};
  REQUIRE(a.tx_burst(burst) == 4);
  std::array<packet_view, 4> views{};
  REQUIRE(b.rx_burst(views) == 4);
  for (const packet_view& v : views)
    CHECK(reinterpret_cast<std::uintptr_t>(v.bytes.data()) % 64 == 0);
}

TEST_CASE("make_ring_port_pair refuses bad configurations with a reason") {
  for (std::uint32_t slots : {0u, 1u, 3u, 1000u, (1u << 20) + 1, 1u << 21}) {
    const auto pair = make_ring_port_pair({.slot_count = slots, .max_frame = 64});
    CHECK(pair.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(pair.status().message().find("power of two") != absl::string_view::npos);
  }
  for (std::uint32_t max_frame : {0u, (1u << 20) + 1}) {
    const auto pair = make_ring_port_pair({.slot_count = 8, .max_frame = max_frame});
    CHECK(pair.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(pair.status().message().find("max_frame") != absl::string_view::npos);
  }
  CHECK(make_ring_port_pair({.slot_count = 2, .max_frame = 1}).ok());
}

TEST_CASE("two threads move millions of frames without loss duplication or reordering") {
  constexpr std::uint64_t total = 2'000'000;
  constexpr std::size_t burst = 32;
  auto [a, b] = make_pair(1024, 64);
  // A bound on the whole exchange, so a broken ring fails the test instead of hanging.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  std::atomic<bool> give_up{false};

  std::thread producer([&, &a = a] {
    std::array<std::array<std::byte, innet::conformance::sequence_frame_max>, burst> storage{};
    std::array<frame_span, burst> spans{};
    std::uint64_t next = 0;
    while (next < total && !give_up.load(std::memory_order_relaxed)) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(burst, total - next));
      for (std::size_t i = 0; i < n; ++i)
        spans[i] = innet::conformance::fill_sequence_frame(next + i, storage[i]);
      // Retry the unaccepted tail; its frames keep their sequence numbers.
      std::size_t sent = 0;
      while (sent < n && !give_up.load(std::memory_order_relaxed)) {
        const std::size_t k = a.tx_burst(std::span(spans).subspan(sent, n - sent));
        if (k == 0) std::this_thread::yield();
        sent += k;
      }
      next += sent;
    }
  });

  std::uint64_t expected = 0;
  std::uint64_t mismatches = 0;
  std::array<packet_view, burst> views{};
  for (std::uint64_t polls = 0; expected < total; ++polls) {
    const std::size_t n = b.rx_burst(views);
    for (std::size_t i = 0; i < n; ++i) {
      if (!innet::conformance::is_sequence_frame(expected, views[i].bytes)) ++mismatches;
      ++expected;
    }
    if (n == 0) {
      if ((polls & 1023) == 0 && std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
    }
  }
  give_up.store(true);
  producer.join();

  CHECK(expected == total);
  CHECK(mismatches == 0);
  CHECK(a.stats().tx_packets == total);
  CHECK(b.stats().rx_packets == total);
  std::array<packet_view, 1> extra{};
  CHECK(b.rx_burst(extra) == 0);
}
