// A virtual device probed at run time, removed when the owner goes away.
//
// eal_params::vdevs creates devices for the life of the process. A vdev object
// creates one later, after the EAL is up, and removes it again: a test creates
// an af_packet port on a veth pair it has just made, a program attaches to an
// interface chosen at run time. The name's prefix picks the driver ("net_ring",
// "net_null", "net_af_packet", "net_af_xdp", "net_tap", ...); the arguments are
// the driver's own ("iface=veth0,qpairs=1").
//
// Removal (rte_vdev_uninit) closes the ethdev the driver created, so every
// innet::dpdk::port opened on it must be gone first.
#pragma once

#include <rte_bus_vdev.h>
#include <rte_errno.h>

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace innet::dpdk {

class vdev {
 public:
  static absl::StatusOr<vdev> create(absl::string_view name, absl::string_view args = "") {
    std::string owned(name);
    const std::string owned_args(args);
    rte_errno = 0;
    if (const int rc = ::rte_vdev_init(owned.c_str(), owned_args.c_str()); rc < 0) {
      // DPDK 22.11 returns -errno from its own checks but a bare -1 from drivers and
      // when no driver matches, leaving the cause in rte_errno if anywhere.
      const int error = rc != -1 ? -rc : rte_errno;
      return absl::InvalidArgumentError(absl::StrCat(
          "rte_vdev_init(\"", name, "\", \"", args,
          "\") failed: ", error != 0 ? ::rte_strerror(error) : "no driver accepted it",
          rc == -EEXIST ? "; a device of that name exists: names are unique per process"
                        : "; the name's prefix must name a driver (net_ring, net_null, "
                          "net_af_packet, ...) that accepts these arguments: the EAL log "
                          "above says which part it rejected"));
    }
    return vdev(std::move(owned));
  }

  // Takes ownership of a device something else probed by name, such as the
  // "net_ring_<name>" device rte_eth_from_rings() creates.
  static vdev adopt(std::string name) noexcept { return vdev(std::move(name)); }

  vdev(vdev&& other) noexcept : name_(std::exchange(other.name_, std::string())) {}
  vdev& operator=(vdev&& other) noexcept {
    if (this != &other) {
      release();
      name_ = std::exchange(other.name_, std::string());
    }
    return *this;
  }
  vdev(const vdev&) = delete;
  vdev& operator=(const vdev&) = delete;
  ~vdev() { release(); }

  // The device name; for the net_* drivers also the name of the ethdev port.
  const std::string& name() const noexcept { return name_; }

 private:
  explicit vdev(std::string name) noexcept : name_(std::move(name)) {}

  void release() noexcept {
    if (!name_.empty()) ::rte_vdev_uninit(name_.c_str());
    name_.clear();
  }

  std::string name_;
};

}  // namespace innet::dpdk
