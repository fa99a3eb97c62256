// The passive side of remote_region: exposes memory in this process for one-sided
// access by clients, and hands each client the region descriptor
// (region_descriptor.hpp) in the RDMA-CM accept.
//
// Once a client is connected the server's CPU does nothing for it: reads, writes
// and atomics are executed by the device against the registered memory. The server
// only accepts clients and notices when they leave. The memory is borrowed as
// 64-bit words so that every 8-byte-aligned offset is a valid atomic target, as
// with host::local_memory_region; it must outlive the server.
#pragma once

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/rdma/completion_queue.hpp"
#include "innet/rdma/connection.hpp"
#include "innet/rdma/detail/cm_events.hpp"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/device.hpp"
#include "innet/rdma/listener.hpp"
#include "innet/rdma/memory_registration.hpp"
#include "innet/rdma/protection_domain.hpp"
#include "innet/rdma/region_descriptor.hpp"

namespace innet::rdma {

struct region_server_options {
  std::string address = "0.0.0.0";  // listen here; a wildcard listens on every device
  std::uint16_t port = 0;           // 0: an unused port, which port() reports
  std::string device{};  // with a wildcard address: the device to serve (empty: the first)
  access permissions = remote_all;  // what clients may do
};

class region_server {
 public:
  region_server(region_server&&) noexcept = default;
  // Not the implicit member-wise assignment, which would replace the PD and the CQ
  // (EBUSY: left allocated) while the old clients' queue pairs and the old
  // registration still used them. The temporary's destructor takes the old state
  // down as a whole, clients first.
  region_server& operator=(region_server&& other) noexcept {
    region_server incoming(std::move(other));
    using std::swap;
    swap(device_, incoming.device_);
    swap(pd_, incoming.pd_);
    swap(cq_, incoming.cq_);
    swap(registration_, incoming.registration_);
    swap(listener_, incoming.listener_);
    swap(descriptor_, incoming.descriptor_);
    swap(clients_, incoming.clients_);
    return *this;
  }
  region_server(const region_server&) = delete;
  region_server& operator=(const region_server&) = delete;
  ~region_server() = default;

  static absl::StatusOr<region_server> create(std::span<std::uint64_t> words,
                                              const region_server_options& options) {
    auto listening = listener::listen({.address = options.address, .port = options.port});
    if (!listening.ok()) return listening.status();
    // Bound to one address, the listener already knows its device; a wildcard
    // leaves the choice to the options.
    absl::StatusOr<device> dev =
        listening->context() != nullptr
            ? device::open(ibv_get_device_name(listening->context()->device))
            : device::open(options.device);
    if (!dev.ok()) return dev.status();
    if (!options.device.empty() && dev->name() != options.device)
      return absl::InvalidArgumentError(absl::StrCat(options.address, " belongs to device ",
                                                     dev->name(), ", not ", options.device));
    auto pd = protection_domain::create(*dev);
    if (!pd.ok()) return pd.status();
    auto cq = completion_queue::create(*dev, 16);
    if (!cq.ok()) return cq.status();
    auto mr = memory_registration::create(*pd, std::as_writable_bytes(words), options.permissions);
    if (!mr.ok()) return mr.status();
    const region_descriptor descriptor{.base = reinterpret_cast<std::uintptr_t>(words.data()),
                                       .size = words.size_bytes(),
                                       .rkey = mr->rkey()};
    return region_server(std::move(*dev), std::move(*pd), std::move(*cq), std::move(*mr),
                         std::move(*listening), descriptor);
  }

  std::uint16_t port() const noexcept { return listener_.port(); }
  absl::string_view device_name() const noexcept { return device_.name(); }
  const region_descriptor& descriptor() const noexcept { return descriptor_; }
  std::size_t clients() const noexcept { return clients_.size(); }

  // Accepts one client; it keeps access until it disconnects or the server goes.
  absl::Status accept(std::chrono::milliseconds timeout) {
    const auto wire = encode(descriptor_);
    auto conn = listener_.accept(pd_, cq_, wire, {.timeout = timeout});
    if (!conn.ok()) return conn.status();
    clients_.push_back(std::move(*conn));
    return absl::OkStatus();
  }

  // Waits until at least one client has disconnected and forgets those that have;
  // DeadlineExceeded if none did within `timeout`.
  absl::Status wait_for_disconnect(std::chrono::milliseconds timeout) {
    if (clients_.empty()) return absl::FailedPreconditionError("no client is connected");
    const auto until = detail::deadline_after(timeout);
    for (;;) {
      std::vector<pollfd> fds;
      for (const connection& c : clients_)
        fds.push_back({.fd = c.event_fd(), .events = POLLIN, .revents = 0});
      if (::poll(fds.data(), fds.size(), detail::remaining_ms(until)) < 0 && errno != EINTR)
        return detail::errno_status(errno, "poll");
      const std::size_t before = clients_.size();
      std::erase_if(clients_, [](connection& c) { return c.disconnected(); });
      if (clients_.size() < before) return absl::OkStatus();
      if (detail::remaining_ms(until) == 0)
        return absl::DeadlineExceededError("no client disconnected in time");
    }
  }

 private:
  region_server(device dev, protection_domain pd, completion_queue cq, memory_registration mr,
                listener listening, const region_descriptor& descriptor)
      : device_(std::move(dev)),
        pd_(std::move(pd)),
        cq_(std::move(cq)),
        registration_(std::move(mr)),
        listener_(std::move(listening)),
        descriptor_(descriptor) {}

  // Clients are declared last so that their queue pairs go before the registration,
  // the CQ and the PD they use.
  device device_;
  protection_domain pd_;
  completion_queue cq_;
  memory_registration registration_;
  listener listener_;
  region_descriptor descriptor_;
  std::vector<connection> clients_;
};

}  // namespace innet::rdma
