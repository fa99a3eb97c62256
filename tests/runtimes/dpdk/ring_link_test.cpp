#include "innet/dpdk/ring_link.hpp"

#include <doctest/doctest.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

#include "conformance/packet_port_conformance.hpp"
#include "environment.hpp"

namespace innet::dpdk {
namespace {

using testing::require_ok;
using testing::test_pool;
using testing::unique_name;

TEST_CASE("a ring_link names its ports and rings and removes them all") {
  mempool pool = test_pool();
  const std::string name = unique_name("l");
  {
    ring_link link = require_ok(ring_link::create(pool, {.name = name, .port = {.queues = 2}}));
    CHECK(link.a().name() == "net_ring_" + name + "_a");
    CHECK(link.b().name() == "net_ring_" + name + "_b");
    for (const char* suffix : {"_ab0", "_ab1", "_ba0", "_ba1"})
      CHECK(rte_ring_lookup((name + suffix).c_str()) != nullptr);

    // Frames left in flight: the link frees them with its rings.
    port_queue a = require_ok(link.a().queue());
    conformance::send_frames(a, {conformance::numbered_frame(0, 64)});
    CHECK(pool.in_use() == 1);
  }
  CHECK(pool.in_use() == 0);
  CHECK(rte_ring_lookup((name + "_ab0").c_str()) == nullptr);
  std::uint16_t id = 0;
  CHECK(rte_eth_dev_get_port_by_name(("net_ring_" + name + "_a").c_str(), &id) != 0);
}

TEST_CASE("ring_link::create refuses what net_ring cannot do") {
  mempool pool = test_pool();
  const auto zero = ring_link::create(pool, {.name = unique_name("l"), .port = {.queues = 0}});
  CHECK(zero.status().code() == absl::StatusCode::kInvalidArgument);
  const auto too_many = ring_link::create(pool, {.name = unique_name("l"), .port = {.queues = 17}});
  CHECK(too_many.status().code() == absl::StatusCode::kInvalidArgument);
  const auto not_power_of_two =
      ring_link::create(pool, {.name = unique_name("l"), .ring_size = 1000});
  CHECK(not_power_of_two.status().code() == absl::StatusCode::kInvalidArgument);

  // DPDK 22.11 formats "net_ring_<port>" into 29 bytes: 17 characters + "_a" is the
  // longest name it takes, and a longer one is refused up front, saying why.
  std::string longest = unique_name("l");
  longest.resize(ring_link::max_name_length, 'x');
  CHECK(ring_link::create(pool, {.name = longest}).ok());
  const auto too_long = ring_link::create(pool, {.name = longest + "y"});
  CHECK(too_long.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(too_long.status().message(), "characters"));
  CHECK(ring_link::create(pool, {.name = ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  const std::string name = unique_name("l");
  ring_link first = require_ok(ring_link::create(pool, {.name = name}));
  const auto duplicate = ring_link::create(pool, {.name = name});
  CHECK_FALSE(duplicate.ok());
  // The failed attempt took nothing of the first link's with it.
  port_queue a = require_ok(first.a().queue());
  port_queue b = require_ok(first.b().queue());
  conformance::send_frames(a, {conformance::numbered_frame(1, 64)});
  CHECK(conformance::receive_frames(b, 1).size() == 1);
}

}  // namespace
}  // namespace innet::dpdk
