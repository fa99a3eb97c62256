// Two ethdev ports joined back to back by rte_rings: a virtual cable inside the
// process, with the net_ring driver's ethdev API at both ends.
//
//                 rings "<name>_ab<q>"
//     port a  tx ======================> rx  port b
//             rx <====================== tx
//                 rings "<name>_ba<q>"
//
// What a sends on queue q, b receives on queue q, and back: the configuration
// that tests a forwarder or a protocol end to end without a NIC. An EAL
// "--vdev=net_ring0" is different: one port whose tx and rx share each ring,
// a loopback. The mbufs travel by pointer, so both ends must use pools that
// outlive the link.
//
// Each ring has one producer (a's or b's tx queue q) and one consumer (the
// other end's rx queue q), so the rings are single-producer/single-consumer:
// like every queue, each end's queue q belongs to one thread at a time.
//
// Teardown runs in reverse: stop the ports, remove the two net_ring devices,
// free the mbufs still in the rings, free the rings.
#pragma once

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/dpdk/mempool.hpp"
#include "innet/dpdk/port.hpp"
#include "innet/dpdk/vdev.hpp"

namespace innet::dpdk {

struct ring_link_params {
  // Names the rings "<name>_ab<q>"/"<name>_ba<q>" and the ports
  // "net_ring_<name>_a"/"net_ring_<name>_b"; unique per process, at most
  // max_name_length characters: DPDK 22.11's rte_eth_from_rings formats
  // "net_ring_<port name>" into a 29-byte buffer and fails beyond it.
  std::string name = "link";
  // Frames each direction of each queue holds; a power of two.
  unsigned ring_size = 1024;
  // Applied to both ends; queues sets the number of ring pairs.
  port_params port{};
};

class ring_link {
 public:
  static constexpr std::size_t max_name_length = 17;  // + "_a" fits net_ring's 28 characters

  static absl::StatusOr<ring_link> create(const mempool& pool,
                                          const ring_link_params& params = {}) {
    if (params.name.empty() || params.name.size() > max_name_length) {
      return absl::InvalidArgumentError(absl::StrCat("ring_link name '", params.name, "' has ",
                                                     params.name.size(), " characters; use 1 to ",
                                                     max_name_length));
    }
    const std::uint16_t queues = params.port.queues;
    if (queues == 0 || queues > RTE_PMD_RING_MAX_RX_RINGS) {
      return absl::InvalidArgumentError(absl::StrCat("ring_link '", params.name, "': ", queues,
                                                     " queue pairs; net_ring takes 1 to ",
                                                     RTE_PMD_RING_MAX_RX_RINGS));
    }
    ring_link link;
    const std::array<std::pair<const char*, ring_vector*>, 2> directions{
        {{"ab", &link.a_to_b_}, {"ba", &link.b_to_a_}}};
    for (std::uint16_t q = 0; q < queues; ++q) {
      for (const auto& [direction, rings] : directions) {
        const std::string name = absl::StrCat(params.name, "_", direction, q);
        rte_ring* ring = ::rte_ring_create(name.c_str(), params.ring_size, SOCKET_ID_ANY,
                                           RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ring == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("ring_link '", params.name, "': rte_ring_create(\"", name, "\", ",
                           params.ring_size, ") failed: ", ::rte_strerror(rte_errno),
                           "; ring sizes are powers of two and names unique and short"));
        }
        rings->emplace_back(ring);
      }
    }
    absl::StatusOr<vdev> a = from_rings(params.name + "_a", link.b_to_a_, link.a_to_b_);
    if (!a.ok()) return a.status();
    link.vdev_a_.emplace(std::move(*a));
    absl::StatusOr<vdev> b = from_rings(params.name + "_b", link.a_to_b_, link.b_to_a_);
    if (!b.ok()) return b.status();
    link.vdev_b_.emplace(std::move(*b));

    absl::StatusOr<port> port_a = port::open(link.vdev_a_->name(), pool, params.port);
    if (!port_a.ok()) return port_a.status();
    link.a_ = std::make_unique<port>(std::move(*port_a));
    absl::StatusOr<port> port_b = port::open(link.vdev_b_->name(), pool, params.port);
    if (!port_b.ok()) return port_b.status();
    link.b_ = std::make_unique<port>(std::move(*port_b));
    return link;
  }

  ring_link(ring_link&&) noexcept = default;
  ring_link& operator=(ring_link&& other) noexcept {
    if (this != &other) {
      release();
      a_to_b_ = std::move(other.a_to_b_);
      b_to_a_ = std::move(other.b_to_a_);
      vdev_a_ = std::move(other.vdev_a_);
      vdev_b_ = std::move(other.vdev_b_);
      a_ = std::move(other.a_);
      b_ = std::move(other.b_);
    }
    return *this;
  }
  ring_link(const ring_link&) = delete;
  ring_link& operator=(const ring_link&) = delete;
  ~ring_link() { release(); }

  port& a() noexcept { return *a_; }
  port& b() noexcept { return *b_; }

 private:
  // Frees the mbufs left in the ring, then the ring.
  struct ring_deleter {
    void operator()(rte_ring* ring) const noexcept {
      std::array<void*, 64> left;
      while (const unsigned n = ::rte_ring_dequeue_burst(ring, left.data(), left.size(), nullptr))
        ::rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(left.data()), n);
      ::rte_ring_free(ring);
    }
  };
  using ring_vector = std::vector<std::unique_ptr<rte_ring, ring_deleter>>;

  ring_link() = default;

  static absl::StatusOr<vdev> from_rings(const std::string& name, const ring_vector& rx,
                                         const ring_vector& tx) {
    std::vector<rte_ring*> rx_rings;
    std::vector<rte_ring*> tx_rings;
    for (const auto& ring : rx)
      rx_rings.push_back(ring.get());
    for (const auto& ring : tx)
      tx_rings.push_back(ring.get());
    if (::rte_eth_from_rings(name.c_str(), rx_rings.data(), static_cast<unsigned>(rx_rings.size()),
                             tx_rings.data(), static_cast<unsigned>(tx_rings.size()),
                             ::rte_socket_id()) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("rte_eth_from_rings(\"", name,
                                                     "\") failed: ", ::rte_strerror(rte_errno),
                                                     "; is the name already in use?"));
    }
    return vdev::adopt(absl::StrCat("net_ring_", name));
  }

  void release() noexcept {
    a_.reset();
    b_.reset();
    vdev_a_.reset();
    vdev_b_.reset();
    a_to_b_.clear();
    b_to_a_.clear();
  }

  // Declaration order is teardown order, reversed: ports, devices, rings.
  ring_vector a_to_b_;
  ring_vector b_to_a_;
  std::optional<vdev> vdev_a_;
  std::optional<vdev> vdev_b_;
  std::unique_ptr<port> a_;
  std::unique_ptr<port> b_;
};

}  // namespace innet::dpdk
