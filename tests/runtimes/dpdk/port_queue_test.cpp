// port_queue against the shared packet-port conformance suite, over three
// wires: a ring_link (two net_ring ports crossed), the EAL's net_ring0 (one
// port looped back on itself) and af_packet on a veth pair in the test's own
// network namespace. Then what the suite does not cover: lending across
// calls, frames the port cannot carry, chained mbufs, and mbuf accounting.
#include "innet/dpdk/port_queue.hpp"

#include <doctest/doctest.h>
#include <rte_mbuf.h>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "conformance/packet_port_conformance.hpp"
#include "environment.hpp"
#include "innet/dpdk/port.hpp"
#include "innet/dpdk/ring_link.hpp"
#include "innet/dpdk/vdev.hpp"

namespace innet::dpdk {
namespace {

using conformance::numbered_frame;
using conformance::receive_frames;
using conformance::send_frames;
using testing::require_ok;
using testing::test_pool;
using testing::unique_name;
using frame_list = std::vector<std::vector<std::byte>>;

ring_link make_link(const mempool& pool, std::uint16_t queues = 1) {
  return require_ok(
      ring_link::create(pool, {.name = unique_name("l"), .port = {.queues = queues}}));
}

TEST_CASE("a ring_link conforms to the packet-port contract in both directions") {
  mempool pool = test_pool();
  {
    ring_link link = make_link(pool);
    CHECK(link.a().max_frame() == 1514);  // MTU 1500 plus the Ethernet header
    port_queue a = require_ok(link.a().queue());
    port_queue b = require_ok(link.b().queue());
    SUBCASE("a to b") {
      conformance::check_packet_port(a, b, "dpdk ring_link a->b", 1514);
    }
    SUBCASE("b to a") {
      conformance::check_packet_port(b, a, "dpdk ring_link b->a", 1514);
    }
  }
  CHECK(pool.in_use() == 0);  // every mbuf came back: lent, sent and in-ring ones
}

TEST_CASE("the EAL vdev net_ring0 is a loopback port that conforms") {
  mempool pool = test_pool();
  {
    port loop = require_ok(port::open("net_ring0", pool));
    port_queue q = require_ok(loop.queue());
    conformance::check_packet_port(q, q, "dpdk net_ring0 loopback", loop.max_frame());
    // A loopback keeps what nobody received; drain it for the next subcase.
    std::array<packet_view, 32> views;
    while (q.rx_burst(views) > 0) {
    }
  }
  CHECK(pool.in_use() == 0);
}

TEST_CASE("af_packet ports on a veth pair conform in both directions") {
  const testing::veth_pair* veth = testing::require_veth();
  if (veth == nullptr) return;
  mempool pool = test_pool();
  {
    // Created here rather than in eal_params: vdev removal is part of the test.
    const std::string name0 = unique_name("net_af_packet");
    const std::string name1 = unique_name("net_af_packet");
    vdev dev0 = require_ok(vdev::create(name0, "iface=" + veth->a()));
    vdev dev1 = require_ok(vdev::create(name1, "iface=" + veth->b()));
    port p0 = require_ok(port::open(dev0.name(), pool));
    port p1 = require_ok(port::open(dev1.name(), pool));
    CHECK(require_ok(p0.link()).up);
    REQUIRE(p0.max_frame() == 1514);
    port_queue q0 = require_ok(p0.queue());
    port_queue q1 = require_ok(p1.queue());
    SUBCASE("veth0 to veth1") {
      conformance::check_packet_port(q0, q1, "dpdk af_packet", 1514);
    }
    SUBCASE("veth1 to veth0") {
      conformance::check_packet_port(q1, q0, "dpdk af_packet", 1514);
    }
  }
  CHECK(pool.in_use() == 0);
}

TEST_CASE("rx_burst lends at most max_burst frames and frees them on the next call") {
  mempool pool = test_pool();
  ring_link link = make_link(pool);
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());

  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < 100; ++i)
    frames.push_back(numbered_frame(i, 64));
  send_frames(a, frames);
  CHECK(pool.in_use() == 100);  // in the a->b ring

  std::array<packet_view, 128> views;
  const std::size_t first = b.rx_burst(views);
  CHECK(first == port_queue::max_burst);
  CHECK(pool.in_use() == 100);  // 64 lent, 36 in the ring
  const std::size_t second = b.rx_burst(views);
  CHECK(second == 100 - port_queue::max_burst);
  CHECK(pool.in_use() == 100 - port_queue::max_burst);  // the first batch went back
  for (std::size_t i = 0; i < second; ++i) {
    CHECK(std::vector<std::byte>(views[i].bytes.begin(), views[i].bytes.end()) ==
          frames[first + i]);
  }
  CHECK(b.rx_burst(std::span<packet_view>{}) == 0);  // an empty burst still returns the loan
  CHECK(pool.in_use() == 0);
}

TEST_CASE("a consumer with room for one frame per call still gets every frame in order") {
  mempool pool = test_pool();
  ring_link link = make_link(pool);
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());

  frame_list frames;
  for (std::uint32_t i = 0; i < 10; ++i)
    frames.push_back(numbered_frame(i, 64 + i));
  send_frames(a, frames);
  std::array<packet_view, 1> one;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    REQUIRE(b.rx_burst(one) == 1);
    CHECK(std::vector<std::byte>(one[0].bytes.begin(), one[0].bytes.end()) == frames[i]);
    CHECK(pool.in_use() == frames.size() - i);  // the earlier ones went back
  }
  CHECK(b.rx_burst(one) == 0);
  CHECK(pool.in_use() == 0);
}

TEST_CASE("tx_burst drops frames the port cannot carry and counts them as sent") {
  mempool pool = test_pool();
  ring_link link = make_link(pool);
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());

  const auto small = numbered_frame(1, 60);
  const auto largest = numbered_frame(2, a.max_frame());
  const std::vector<std::byte> too_large(a.max_frame() + 1, std::byte{0x5A});
  const std::array<std::span<const std::byte>, 5> burst{
      std::span<const std::byte>{}, std::span<const std::byte>(small),
      std::span<const std::byte>(too_large), std::span<const std::byte>(largest),
      std::span<const std::byte>(too_large)};
  CHECK(a.tx_burst(burst) == burst.size());
  CHECK(a.counters().tx_dropped_invalid == 3);
  const auto got = receive_frames(b, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == small);
  CHECK(got[1] == largest);
}

TEST_CASE("tx_burst returns the accepted prefix when the ring is full") {
  mempool pool = test_pool();
  ring_link link = require_ok(ring_link::create(pool, {.name = unique_name("l"), .ring_size = 64}));
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());

  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < 100; ++i)
    frames.push_back(numbered_frame(i, 64));
  std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
  // An rte_ring of size 64 holds 63.
  CHECK(a.tx_burst(spans) == 63);
  CHECK(pool.in_use() == 63);  // the 37 refused mbufs went straight back
  CHECK(a.tx_burst(std::span(spans).subspan(63)) == 0);
  const auto got = receive_frames(b, 63);
  CHECK(got == std::vector(frames.begin(), frames.begin() + 63));
  CHECK(a.tx_burst(std::span(spans).subspan(63)) == 37);
}

TEST_CASE("tx_burst sends what the pool holds when mbufs run short") {
  mempool pool = test_pool(127);  // 127 mbufs, no more
  ring_link link = make_link(pool);
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());

  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < 200; ++i)
    frames.push_back(numbered_frame(i, 64));
  std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
  const std::size_t sent = a.tx_burst(spans);
  CHECK(sent > 0);
  CHECK(sent <= 127);
  CHECK(a.counters().tx_no_mbuf == 1);
  CHECK(receive_frames(b, sent) == std::vector(frames.begin(), frames.begin() + sent));
}

TEST_CASE("rx_burst refuses chained mbufs and counts them") {
  mempool pool = test_pool();
  ring_link link = make_link(pool);
  port_queue b = require_ok(link.b().queue());

  // Two segments, put on the wire with the raw ethdev call.
  rte_mbuf* head = rte_pktmbuf_alloc(pool.get());
  rte_mbuf* tail = rte_pktmbuf_alloc(pool.get());
  REQUIRE(head != nullptr);
  REQUIRE(tail != nullptr);
  REQUIRE(rte_pktmbuf_append(head, 40) != nullptr);
  REQUIRE(rte_pktmbuf_append(tail, 40) != nullptr);
  REQUIRE(rte_pktmbuf_chain(head, tail) == 0);
  REQUIRE(rte_eth_tx_burst(link.a().id(), 0, &head, 1) == 1);
  // A single-segment frame behind it still arrives.
  port_queue a = require_ok(link.a().queue());
  const auto frame = numbered_frame(3, 80);
  send_frames(a, {frame});

  const auto got = receive_frames(b, 1);
  CHECK(got == frame_list{frame});
  CHECK(b.counters().rx_dropped_segmented == 1);
}

TEST_CASE("queue pairs of a multi-queue ring_link are separate wires") {
  mempool pool = test_pool();
  ring_link link = make_link(pool, 2);
  CHECK_FALSE(link.a().queue(2).ok());
  port_queue a0 = require_ok(link.a().queue(0));
  port_queue a1 = require_ok(link.a().queue(1));
  port_queue b0 = require_ok(link.b().queue(0));
  port_queue b1 = require_ok(link.b().queue(1));
  send_frames(a0, {numbered_frame(0, 64)});
  send_frames(a1, {numbered_frame(1, 64)});
  CHECK(receive_frames(b1, 1) == frame_list{numbered_frame(1, 64)});
  CHECK(receive_frames(b0, 1) == frame_list{numbered_frame(0, 64)});
}

TEST_CASE("a moved-from queue owns no loan") {
  mempool pool = test_pool();
  ring_link link = make_link(pool);
  port_queue a = require_ok(link.a().queue());
  port_queue b = require_ok(link.b().queue());
  send_frames(a, {numbered_frame(0, 64), numbered_frame(1, 64)});
  std::array<packet_view, 2> views;
  REQUIRE(b.rx_burst(views) == 2);  // a ring delivers at once
  port_queue moved = std::move(b);
  CHECK(pool.in_use() == 2);  // the loan moved with the queue
  moved = require_ok(link.b().queue());
  CHECK(pool.in_use() == 0);  // and was returned when replaced
}

}  // namespace
}  // namespace innet::dpdk
