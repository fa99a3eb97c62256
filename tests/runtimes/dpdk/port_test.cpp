#include "innet/dpdk/port.hpp"

#include <doctest/doctest.h>

#include "environment.hpp"
#include "innet/dpdk/ring_link.hpp"

namespace innet::dpdk {
namespace {

using testing::require_ok;
using testing::test_pool;
using testing::unique_name;

TEST_CASE("port::open finds a port by name and configures it") {
  mempool pool = test_pool();
  port loop = require_ok(port::open("net_ring0", pool));
  CHECK(loop.name() == "net_ring0");
  CHECK(loop.started());
  CHECK(loop.queues() == 1);
  CHECK(loop.max_frame() == 1514);
  const link_status link = require_ok(loop.link());
  CHECK(link.up);
  CHECK(link.full_duplex);
}

TEST_CASE("port::open names the ports there are when the name is unknown") {
  mempool pool = test_pool();
  const auto missing = port::open("net_nonexistent0", pool);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message().find("net_ring0") != absl::string_view::npos);
}

TEST_CASE("a port cannot be opened twice at once") {
  mempool pool = test_pool();
  port first = require_ok(port::open("net_ring0", pool));
  const auto second = port::open("net_ring0", pool);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find("another innet::dpdk::port") != absl::string_view::npos);
  CHECK(first.started());
  CHECK(require_ok(first.link()).up);
}

TEST_CASE("port::open refuses more queues than the driver has") {
  mempool pool = test_pool();
  // net_ring0 has 16 queue pairs.
  const auto too_many = port::open("net_ring0", pool, {.queues = 17});
  CHECK(too_many.status().code() == absl::StatusCode::kInvalidArgument);
  const auto none = port::open("net_ring0", pool, {.queues = 0});
  CHECK(none.status().code() == absl::StatusCode::kInvalidArgument);
  port four = require_ok(port::open("net_ring0", pool, {.queues = 4}));
  CHECK(four.queue(3).ok());
  CHECK(four.queue(4).status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("a stopped port can be started again and a dropped one reopened") {
  mempool pool = test_pool();
  {
    port loop = require_ok(port::open("net_ring0", pool));
    require_ok(loop.stop());
    CHECK_FALSE(loop.started());
    require_ok(loop.stop());  // stopping twice is harmless
    require_ok(loop.start());
    CHECK(loop.started());
    port moved = std::move(loop);
    CHECK(moved.started());
    CHECK_FALSE(loop.started());  // NOLINT(bugprone-use-after-move): specified moved-from state
  }
  port again = require_ok(port::open("net_ring0", pool));
  CHECK(again.started());
}

TEST_CASE("port stats count what crossed the port") {
  mempool pool = test_pool();
  ring_link link = require_ok(ring_link::create(pool, {.name = unique_name("l")}));
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());
  const std::vector<std::byte> frame(100, std::byte{1});
  const std::array<std::span<const std::byte>, 3> burst{frame, frame, frame};
  REQUIRE(a.tx_burst(burst) == 3);
  std::array<packet_view, 8> views;
  REQUIRE(b.rx_burst(views) == 3);
  const port_stats sent = require_ok(link.a().stats());
  const port_stats received = require_ok(link.b().stats());
  CHECK(sent.tx_packets == 3);
  CHECK(received.rx_packets == 3);
  CHECK(sent.rx_packets == 0);
}

}  // namespace
}  // namespace innet::dpdk
