// An ethdev port, configured and started, whose queues model the packet-port
// concept (see port_queue.hpp).
//
// DPDK's port lifecycle is a sequence of calls that must happen in order and be
// undone in reverse; the type makes it one step each way:
//
//   port::open(name, pool, params)
//     rte_eth_dev_get_port_by_name   the device exists: an EAL --vdev, a vdev
//                                    object, a ring_link, a NIC bound to DPDK
//     rte_eth_dev_configure          params.queues rx and tx queues, no offloads
//     rte_eth_{rx,tx}_queue_setup    rx buffers from `pool`
//     rte_eth_promiscuous_enable     when params.promiscuous
//     rte_eth_dev_start
//   port::queue(q)                   a port_queue for one polling thread
//   ~port                            rte_eth_dev_stop
//
// Destruction stops the port but leaves the device: a later open() on the same
// name reconfigures it. Removing the device is its creator's business (vdev,
// ring_link, or rte_eal_cleanup at exit).
//
// Lifetimes: the mempool outlives the port, which outlives its queues.
#pragma once

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/dpdk/mempool.hpp"
#include "innet/dpdk/port_queue.hpp"

namespace innet::dpdk {

struct port_params {
  // Rx/tx queue pairs; queue(q) serves pair q.
  std::uint16_t queues = 1;
  // Requested ring sizes; rte_eth_dev_adjust_nb_rx_tx_desc fits them to the driver.
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  // Receive every frame on the wire, not only those for the port's MAC address:
  // forwarders, taps and tests want all of them.
  bool promiscuous = true;
};

struct link_status {
  bool up = false;
  std::uint32_t speed_mbps = 0;  // 0 when the driver does not know
  bool full_duplex = false;
};

struct port_stats {
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_missed = 0;  // dropped by the device: rx ring full
  std::uint64_t rx_errors = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t rx_no_mbuf = 0;  // dropped for want of an mbuf in the pool
};

class port {
 public:
  static absl::StatusOr<port> open(absl::string_view name, const mempool& pool,
                                   const port_params& params = {}) {
    const std::string owned(name);
    std::uint16_t id = 0;
    if (::rte_eth_dev_get_port_by_name(owned.c_str(), &id) != 0) {
      return absl::NotFoundError(
          absl::StrCat("no ethdev named '", name, "' (ports present: ", port_names(),
                       "); create it with eal_params::vdevs, innet::dpdk::vdev or ring_link"));
    }
    port p(id, owned, pool.get(), params.queues);
    if (absl::Status s = p.configure(params); !s.ok()) return s;
    if (absl::Status s = p.start(); !s.ok()) return s;
    return p;
  }

  port(port&& other) noexcept
      : id_(other.id_),
        name_(std::move(other.name_)),
        pool_(other.pool_),
        queues_(other.queues_),
        max_frame_(other.max_frame_),
        started_(std::exchange(other.started_, false)) {}
  port& operator=(port&& other) noexcept {
    if (this != &other) {
      release();
      id_ = other.id_;
      name_ = std::move(other.name_);
      pool_ = other.pool_;
      queues_ = other.queues_;
      max_frame_ = other.max_frame_;
      started_ = std::exchange(other.started_, false);
    }
    return *this;
  }
  port(const port&) = delete;
  port& operator=(const port&) = delete;
  ~port() { release(); }

  std::uint16_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  std::uint16_t queues() const noexcept { return queues_; }
  bool started() const noexcept { return started_; }

  // The largest frame the port carries: its MTU plus the Ethernet header, and
  // no more than one mbuf of the pool holds.
  std::size_t max_frame() const noexcept { return max_frame_; }

  // Queue pair q as a packet port, sending from the port's pool.
  absl::StatusOr<port_queue> queue(std::uint16_t q = 0) const {
    if (q >= queues_) {
      return absl::OutOfRangeError(absl::StrCat("port '", name_, "' has ", queues_,
                                                " queue pairs; queue ", q, " does not exist"));
    }
    return port_queue(id_, q, pool_, max_frame_);
  }

  absl::Status start() {
    if (started_) return absl::OkStatus();
    if (const int rc = ::rte_eth_dev_start(id_); rc < 0) return error("rte_eth_dev_start", rc);
    started_ = true;
    return absl::OkStatus();
  }

  // Frames in flight on the device are dropped; queues keep what they lent.
  absl::Status stop() {
    if (!started_) return absl::OkStatus();
    started_ = false;
    if (const int rc = ::rte_eth_dev_stop(id_); rc < 0) return error("rte_eth_dev_stop", rc);
    return absl::OkStatus();
  }

  absl::StatusOr<link_status> link() const {
    rte_eth_link link{};
    if (const int rc = ::rte_eth_link_get_nowait(id_, &link); rc < 0)
      return error("rte_eth_link_get_nowait", rc);
    return link_status{link.link_status == RTE_ETH_LINK_UP,
                       link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed,
                       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX};
  }

  absl::StatusOr<port_stats> stats() const {
    rte_eth_stats s{};
    if (const int rc = ::rte_eth_stats_get(id_, &s); rc < 0) return error("rte_eth_stats_get", rc);
    return port_stats{s.ipackets, s.opackets, s.ibytes,  s.obytes,
                      s.imissed,  s.ierrors,  s.oerrors, s.rx_nombuf};
  }

 private:
  port(std::uint16_t id, std::string name, rte_mempool* pool, std::uint16_t queues) noexcept
      : id_(id), name_(std::move(name)), pool_(pool), queues_(queues) {}

  static std::string port_names() {
    std::string names;
    std::uint16_t id = 0;
    RTE_ETH_FOREACH_DEV(id) {
      char name[RTE_ETH_NAME_MAX_LEN];
      if (::rte_eth_dev_get_name_by_port(id, name) == 0)
        absl::StrAppend(&names, names.empty() ? "" : ", ", name);
    }
    return names.empty() ? "none" : names;
  }

  absl::Status error(absl::string_view call, int rc) const {
    return {absl::ErrnoToStatusCode(-rc),
            absl::StrCat(call, "(port '", name_, "') failed: ", ::rte_strerror(-rc),
                         rc == -EBUSY ? "; the port is started: is another innet::dpdk::port "
                                        "open on it?"
                                      : "")};
  }

  absl::Status configure(const port_params& params) {
    if (params.queues == 0)
      return absl::InvalidArgumentError(absl::StrCat("port '", name_, "': 0 queue pairs"));
    rte_eth_dev_info info{};
    if (const int rc = ::rte_eth_dev_info_get(id_, &info); rc < 0)
      return error("rte_eth_dev_info_get", rc);
    if (params.queues > info.max_rx_queues || params.queues > info.max_tx_queues) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port '", name_, "' (driver ", info.driver_name, ") has at most ", info.max_rx_queues,
          " rx and ", info.max_tx_queues, " tx queues; asked for ", params.queues));
    }
    const rte_eth_conf conf{};
    if (const int rc = ::rte_eth_dev_configure(id_, params.queues, params.queues, &conf); rc < 0) {
      return error("rte_eth_dev_configure", rc);
    }
    std::uint16_t rx_descriptors = params.rx_descriptors;
    std::uint16_t tx_descriptors = params.tx_descriptors;
    if (const int rc = ::rte_eth_dev_adjust_nb_rx_tx_desc(id_, &rx_descriptors, &tx_descriptors);
        rc < 0) {
      return error("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    }
    const auto socket = static_cast<unsigned>(::rte_eth_dev_socket_id(id_));
    for (std::uint16_t q = 0; q < params.queues; ++q) {
      if (const int rc = ::rte_eth_rx_queue_setup(id_, q, rx_descriptors, socket, nullptr, pool_);
          rc < 0) {
        return error("rte_eth_rx_queue_setup", rc);
      }
      if (const int rc = ::rte_eth_tx_queue_setup(id_, q, tx_descriptors, socket, nullptr);
          rc < 0) {
        return error("rte_eth_tx_queue_setup", rc);
      }
    }
    if (params.promiscuous) {
      // Some drivers (net_ring) have no promiscuous mode to switch: they pass
      // every frame anyway, and answer -ENOTSUP.
      if (const int rc = ::rte_eth_promiscuous_enable(id_); rc < 0 && rc != -ENOTSUP)
        return error("rte_eth_promiscuous_enable", rc);
    }
    std::uint16_t mtu = RTE_ETHER_MTU;
    if (const int rc = ::rte_eth_dev_get_mtu(id_, &mtu); rc < 0)
      return error("rte_eth_dev_get_mtu", rc);
    max_frame_ = std::min<std::size_t>(std::size_t{mtu} + RTE_ETHER_HDR_LEN,
                                       ::rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM);
    return absl::OkStatus();
  }

  void release() noexcept {
    if (started_) ::rte_eth_dev_stop(id_);
    started_ = false;
  }

  std::uint16_t id_;
  std::string name_;
  rte_mempool* pool_;
  std::uint16_t queues_;
  std::size_t max_frame_ = 0;
  bool started_ = false;
};

}  // namespace innet::dpdk
