// The passive side of RDMA-CM: listens on an IP address and port and turns each
// connection request into a connected RC queue pair (connection.hpp).
//
// Each accepted connection gets its own event channel (rdma_migrate_id), so that
// its disconnect is seen on the connection, not mixed into the listener's stream of
// requests, and connections can be polled and destroyed independently.
#pragma once

#include <arpa/inet.h>
#include <rdma/rdma_cma.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/rdma/completion_queue.hpp"
#include "innet/rdma/connection.hpp"
#include "innet/rdma/detail/cm_events.hpp"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"
#include "innet/rdma/protection_domain.hpp"

namespace innet::rdma {

struct listen_options {
  std::string address = "0.0.0.0";  // a local address, or a wildcard for every device
  std::uint16_t port = 0;           // 0: an unused port, which port() reports
  int backlog = 16;
};

struct accept_options {
  std::chrono::milliseconds timeout{5000};
  // A passive region owner posts nothing itself; its queue pair only answers.
  queue_pair_options queue_pair{.max_send_wr = 1, .max_inline_data = 0};
};

class listener {
 public:
  listener(listener&&) noexcept = default;
  // Not the implicit member-wise assignment, which would destroy the old event
  // channel before the old id on it; the temporary's destructor takes the old
  // state down as a whole, id first.
  listener& operator=(listener&& other) noexcept {
    listener incoming(std::move(other));
    using std::swap;
    swap(channel_, incoming.channel_);
    swap(id_, incoming.id_);
    return *this;
  }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  ~listener() = default;

  static absl::StatusOr<listener> listen(const listen_options& options) {
    auto address = detail::socket_address(options.address, options.port);
    if (!address.ok()) return address.status();
    auto channel = detail::create_event_channel();
    if (!channel.ok()) return channel.status();
    rdma_cm_id* raw = nullptr;
    if (rdma_create_id(channel->get(), &raw, nullptr, RDMA_PS_TCP) != 0)
      return detail::errno_status(errno, "rdma_create_id");
    detail::cm_id_handle id(raw);
    const std::string where = detail::peer_name(options.address, options.port);
    if (rdma_bind_addr(id.get(), reinterpret_cast<sockaddr*>(&*address)) != 0) {
      const int error = errno;
      if (error == ENODEV || error == EADDRNOTAVAIL)
        return detail::errno_status(
            error, absl::StrCat("cannot listen on ", where),
            absl::StrCat("the address must belong to a network interface with an RDMA device "
                         "(check `rdma link show`); otherwise ",
                         detail::soft_roce_hint));
      return detail::errno_status(error, absl::StrCat("cannot listen on ", where));
    }
    if (rdma_listen(id.get(), options.backlog) != 0)
      return detail::errno_status(errno, absl::StrCat("rdma_listen on ", where));
    return listener(std::move(*channel), std::move(id));
  }

  std::uint16_t port() const noexcept { return ntohs(rdma_get_src_port(id_.get())); }

  // The device the listener is bound to, or null when bound to a wildcard address
  // (requests may then arrive through any device).
  ibv_context* context() const noexcept { return id_->verbs; }

  // Waits for one connection request and accepts it with a queue pair on `pd` and
  // `cq`, sending `private_data` back; returns once the connection is established.
  // A request that arrives through a device other than pd's is rejected and
  // reported, since its queue pair could not use pd's memory.
  absl::StatusOr<connection> accept(const protection_domain& pd, completion_queue& cq,
                                    std::span<const std::byte> private_data,
                                    const accept_options& options = {}) {
    if (private_data.size() > max_accept_private_data)
      return absl::InvalidArgumentError(absl::StrCat("accept private data is ", private_data.size(),
                                                     " bytes; at most ", max_accept_private_data,
                                                     " fit"));
    const auto until = detail::deadline_after(options.timeout);
    const std::string what = absl::StrCat("a client to connect to port ", port());
    detail::cm_event_record request;
    for (;;) {
      auto e = detail::next_event(channel_.get(), until, what);
      if (!e.ok()) return e.status();
      if (e->type == RDMA_CM_EVENT_CONNECT_REQUEST) {
        request = *e;
        break;
      }
      if (e->type == RDMA_CM_EVENT_DEVICE_REMOVAL) return detail::event_failure(*e, "listener");
    }
    // Created before the id takes ownership so that it is destroyed after it: an id
    // must not outlive its channel.
    auto channel = detail::create_event_channel();
    if (!channel.ok()) {
      (void)rdma_reject(request.id, nullptr, 0);
      (void)rdma_destroy_id(request.id);
      return channel.status();
    }
    detail::connected_id_handle id(request.id);
    if (id->verbs != pd.get()->context) {
      (void)rdma_reject(id.get(), nullptr, 0);
      return absl::FailedPreconditionError(absl::StrCat(
          "a client arrived through device ", ibv_get_device_name(id->verbs->device),
          " but the memory is registered on ", ibv_get_device_name(pd.get()->context->device),
          "; listen on an address of that device"));
    }
    if (rdma_migrate_id(id.get(), channel->get()) != 0)
      return detail::errno_status(errno, "rdma_migrate_id");
    if (auto s = connection::create_queue_pair(id.get(), pd, cq, options.queue_pair); !s.ok()) {
      (void)rdma_reject(id.get(), nullptr, 0);
      return s;
    }
    rdma_conn_param param{};
    param.private_data = private_data.empty() ? nullptr : private_data.data();
    param.private_data_len = static_cast<std::uint8_t>(private_data.size());
    // What the client asked for, capped at this device's limits.
    param.initiator_depth = RDMA_MAX_INIT_DEPTH;
    param.responder_resources = RDMA_MAX_RESP_RES;
    param.rnr_retry_count = 7;
    if (rdma_accept(id.get(), &param) != 0) return detail::errno_status(errno, "rdma_accept");
    auto established = detail::expect_event(channel->get(), RDMA_CM_EVENT_ESTABLISHED, until,
                                            "the connecting client");
    if (!established.ok()) return established.status();
    // The client's data came with the request, not with the establishment.
    return connection(std::move(*channel), std::move(id), request);
  }

 private:
  listener(detail::event_channel_handle channel, detail::cm_id_handle id) noexcept
      : channel_(std::move(channel)), id_(std::move(id)) {}

  detail::event_channel_handle channel_;
  detail::cm_id_handle id_;
};

}  // namespace innet::rdma
