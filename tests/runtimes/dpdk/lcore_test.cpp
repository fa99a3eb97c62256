// launch()/lcore_task and worker_lcores() on the test EAL (lcores 0 and 1),
// ending with a forwarder on the worker lcore checked end to end: frames go in
// at one port, through the worker, and out of another, intact and in order.
#include "innet/dpdk/lcore.hpp"

#include <doctest/doctest.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
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

unsigned the_worker() {
  testing::test_environment();
  const std::vector<unsigned> workers(worker_lcores().begin(), worker_lcores().end());
  REQUIRE(workers == std::vector<unsigned>{1});
  return workers[0];
}

TEST_CASE("worker_lcores lists the enabled lcores except the main one") {
  testing::test_environment();
  CHECK(rte_get_main_lcore() == 0);
  std::vector<unsigned> workers;
  for (unsigned id : worker_lcores())
    workers.push_back(id);
  CHECK(workers == std::vector<unsigned>{1});
}

TEST_CASE("a launched callable runs on the worker and its result comes back") {
  const unsigned worker = the_worker();
  auto task = require_ok(
      launch(worker, [] { return std::string("ran on lcore ") + std::to_string(rte_lcore_id()); }));
  CHECK(task.lcore_id() == worker);
  CHECK(task.wait() == "ran on lcore 1");
}

TEST_CASE("a callable returning void and one owning move-only state both run") {
  const unsigned worker = the_worker();
  std::atomic<unsigned> seen{0};
  require_ok(launch(worker, [&seen] { seen = rte_lcore_id(); })).wait();
  CHECK(seen == worker);

  auto owned = std::make_unique<int>(41);
  auto task = require_ok(launch(worker, [p = std::move(owned)] { return *p + 1; }));
  CHECK(task.wait() == 42);
}

TEST_CASE("an exception from the callable comes back through wait(), and the worker lives on") {
  const unsigned worker = the_worker();
  auto task = require_ok(launch(worker, []() -> int { throw std::runtime_error("from lcore"); }));
  CHECK_THROWS_WITH_AS(task.wait(), "from lcore", std::runtime_error);
  auto void_task = require_ok(launch(worker, [] { throw std::logic_error("void"); }));
  CHECK_THROWS_AS(void_task.wait(), std::logic_error);
  // A dropped task discards the exception; the worker takes the next callable.
  {
    auto dropped = require_ok(launch(worker, [] { throw 7; }));
  }
  CHECK(require_ok(launch(worker, [] { return 3; })).wait() == 3);
}

TEST_CASE("a worker runs one task at a time and a dropped task is joined") {
  const unsigned worker = the_worker();
  std::atomic<bool> release{false};
  {
    auto busy = require_ok(launch(worker, [&release] {
      while (!release.load())
        rte_pause();
      return 7;
    }));
    CHECK_FALSE(busy.done());
    const auto second = launch(worker, [] { return 8; });
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
    release = true;
  }  // ~lcore_task waits: the worker is free again
  CHECK(require_ok(launch(worker, [] { return 9; })).wait() == 9);
}

TEST_CASE("launch refuses the main lcore and lcores the EAL did not enable") {
  testing::test_environment();
  const auto on_main = launch(rte_get_main_lcore(), [] { return 0; });
  CHECK(on_main.status().code() == absl::StatusCode::kInvalidArgument);
  const auto disabled = launch(5, [] { return 0; });
  CHECK(disabled.status().code() == absl::StatusCode::kInvalidArgument);
  const auto beyond = launch(RTE_MAX_LCORE + 3, [] { return 0; });
  CHECK(beyond.status().code() == absl::StatusCode::kInvalidArgument);
}

// The loop a forwarding lcore runs: receive a burst, send it on, retry what the
// output did not take. Returns how many frames it forwarded.
template <packet_port In, packet_port Out>
std::size_t forward(In& in, Out& out, const std::atomic<bool>& stop) {
  std::array<packet_view, 32> views;
  std::array<std::span<const std::byte>, 32> frames;
  std::size_t forwarded = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const std::size_t n = in.rx_burst(views);
    for (std::size_t i = 0; i < n; ++i)
      frames[i] = views[i].bytes;
    for (std::size_t sent = 0; sent < n && !stop.load(std::memory_order_relaxed);)
      sent += out.tx_burst(std::span(frames).subspan(sent, n - sent));
    forwarded += n;
  }
  return forwarded;
}

std::vector<std::vector<std::byte>> test_frames(std::size_t count, std::size_t max_frame) {
  std::vector<std::vector<std::byte>> frames;
  for (std::uint32_t i = 0; i < count; ++i)
    frames.push_back(numbered_frame(i, 60 + (i * 37) % (max_frame - 59)));
  return frames;
}

std::vector<std::vector<std::byte>> slice(const std::vector<std::vector<std::byte>>& frames,
                                          std::size_t first, std::size_t count) {
  return std::vector<std::vector<std::byte>>(
      frames.begin() + static_cast<std::ptrdiff_t>(first),
      frames.begin() + static_cast<std::ptrdiff_t>(first + count));
}

TEST_CASE("a worker lcore forwards between two ring_links end to end") {
  const unsigned worker = the_worker();
  mempool pool = test_pool();
  ring_link in = require_ok(ring_link::create(pool, {.name = unique_name("in")}));
  ring_link out = require_ok(ring_link::create(pool, {.name = unique_name("out")}));
  port_queue source = require_ok(in.a().queue());
  port_queue sink = require_ok(out.b().queue());

  std::atomic<bool> stop{false};
  // The worker's queues are made here: doctest assertions belong to this thread.
  auto forwarder = require_ok(launch(
      worker, [&stop, from = require_ok(in.b().queue()),
               to = require_ok(out.a().queue())]() mutable { return forward(from, to, stop); }));
  const auto frames = test_frames(5000, 1514);
  std::vector<std::vector<std::byte>> got;
  // Send in slices, receiving in between, so no ring ever holds everything.
  for (std::size_t first = 0; first < frames.size(); first += 500) {
    send_frames(source, slice(frames, first, 500));
    for (auto& frame : receive_frames(sink, 500))
      got.push_back(std::move(frame));
  }
  stop = true;
  CHECK(forwarder.wait() == frames.size());
  CHECK(got == frames);
}

TEST_CASE("a worker lcore forwards from a ring_link onto a veth pair end to end") {
  const unsigned worker = the_worker();
  const testing::veth_pair* veth = testing::require_veth();
  if (veth == nullptr) return;
  mempool pool = test_pool();
  ring_link in = require_ok(ring_link::create(pool, {.name = unique_name("in")}));
  vdev dev0 = require_ok(vdev::create(unique_name("net_af_packet"), "iface=" + veth->a()));
  vdev dev1 = require_ok(vdev::create(unique_name("net_af_packet"), "iface=" + veth->b()));
  port wire0 = require_ok(port::open(dev0.name(), pool));
  port wire1 = require_ok(port::open(dev1.name(), pool));
  port_queue source = require_ok(in.a().queue());
  port_queue sink = require_ok(wire1.queue());

  std::atomic<bool> stop{false};
  auto forwarder = require_ok(launch(
      worker, [&stop, from = require_ok(in.b().queue()), to = require_ok(wire0.queue())]() mutable {
        return forward(from, to, stop);
      }));
  // af_packet's receive ring holds 512 frames; slices of 200 stay below it.
  const auto frames = test_frames(2000, wire0.max_frame());
  std::vector<std::vector<std::byte>> got;
  for (std::size_t first = 0; first < frames.size(); first += 200) {
    send_frames(source, slice(frames, first, 200));
    for (auto& frame : receive_frames(sink, 200))
      got.push_back(std::move(frame));
  }
  stop = true;
  CHECK(forwarder.wait() == frames.size());
  CHECK(got == frames);
}

}  // namespace
}  // namespace innet::dpdk
