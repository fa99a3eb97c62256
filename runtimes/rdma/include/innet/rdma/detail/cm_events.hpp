// Bounded waits on RDMA-CM event channels.
//
// rdma_get_cm_event blocks without a timeout, so a peer that never answers would
// hang the caller. Every channel the runtime creates is non-blocking and waited on
// with poll() up to a deadline. Each event is copied (its private data included)
// and acknowledged at once: the private data dies with the acknowledgement, and
// rdma_destroy_id waits for every retrieved event to be acknowledged, so holding
// one would deadlock teardown.
#pragma once

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <rdma/rdma_cma.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"

namespace innet::rdma::detail {

using deadline = std::chrono::steady_clock::time_point;

inline deadline deadline_after(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

// Milliseconds left before `d`, rounded up, for the APIs that take an int timeout.
inline int remaining_ms(deadline d) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(d - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

// IB CM reject reasons carried in an RDMA_CM_EVENT_REJECTED status (IBTA 12.6.7.2).
inline constexpr int reject_invalid_service_id = 8;  // nothing listens on that port
inline constexpr int reject_consumer = 28;           // the server's application said no

struct cm_event_record {
  rdma_cm_event_type type = RDMA_CM_EVENT_ADDR_ERROR;
  int status = 0;
  rdma_cm_id* id = nullptr;  // for CONNECT_REQUEST: the new id, owned by the caller
  std::uint8_t initiator_depth = 0;
  std::uint8_t responder_resources = 0;
  std::array<std::byte, 256> private_data{};
  std::size_t private_data_size = 0;

  std::span<const std::byte> data() const noexcept {
    return std::span(private_data).first(private_data_size);
  }
};

inline absl::StatusOr<event_channel_handle> create_event_channel() {
  errno = 0;
  event_channel_handle channel(rdma_create_event_channel());
  if (channel == nullptr) {
    const int error = errno;
    if (error == ENODEV || error == ENOSYS) return no_device_status("RDMA-CM found no device");
    return errno_status(error, "cannot open the RDMA-CM device /dev/infiniband/rdma_cm",
                        "load the rdma_ucm module (modprobe rdma_ucm) and run as a user allowed "
                        "to open it");
  }
  const int flags = fcntl(channel->fd, F_GETFL);
  if (flags < 0 || fcntl(channel->fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return errno_status(errno, "cannot make the RDMA-CM event channel non-blocking");
  return channel;
}

// The next event on `channel`, or DeadlineExceeded naming `waiting_for`.
inline absl::StatusOr<cm_event_record> next_event(rdma_event_channel* channel, deadline until,
                                                  absl::string_view waiting_for) {
  for (;;) {
    rdma_cm_event* event = nullptr;
    if (rdma_get_cm_event(channel, &event) == 0) {
      cm_event_record record;
      record.type = event->event;
      record.status = event->status;
      record.id = event->id;
      const rdma_conn_param& conn = event->param.conn;
      if (event->event == RDMA_CM_EVENT_CONNECT_REQUEST ||
          event->event == RDMA_CM_EVENT_ESTABLISHED || event->event == RDMA_CM_EVENT_REJECTED) {
        record.initiator_depth = conn.initiator_depth;
        record.responder_resources = conn.responder_resources;
        if (conn.private_data != nullptr) {
          record.private_data_size =
              std::min<std::size_t>(conn.private_data_len, record.private_data.size());
          std::memcpy(record.private_data.data(), conn.private_data, record.private_data_size);
        }
      }
      (void)rdma_ack_cm_event(event);
      return record;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return errno_status(errno, "rdma_get_cm_event");
    const int wait = remaining_ms(until);
    if (wait == 0)
      return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", waiting_for));
    pollfd p{.fd = channel->fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, wait) < 0 && errno != EINTR) return errno_status(errno, "poll");
  }
}

// Why an unexpected event ended a connection attempt to `peer`, as a Status.
inline absl::Status event_failure(const cm_event_record& e, absl::string_view peer) {
  const std::string event = absl::StrCat(rdma_event_str(e.type), " (status ", e.status, ")");
  switch (e.type) {
    case RDMA_CM_EVENT_ADDR_ERROR:
    case RDMA_CM_EVENT_ROUTE_ERROR:
      return absl::UnavailableError(absl::StrCat(
          "cannot reach ", peer, " through an RDMA device: ", event,
          "; the route to it must leave through a network interface that has an RDMA device "
          "(check `rdma link show`), else ",
          soft_roce_hint));
    case RDMA_CM_EVENT_REJECTED:
      if (e.status == reject_invalid_service_id || e.status == -ECONNREFUSED)
        return absl::UnavailableError(absl::StrCat("connection refused by ", peer,
                                                   ": nothing listens on that RDMA-CM port "
                                                   "(is the region server running?)"));
      if (e.status == reject_consumer)
        return absl::PermissionDeniedError(
            absl::StrCat(peer, " rejected the connection (the server refused this client)"));
      return absl::UnavailableError(absl::StrCat(peer, " rejected the connection: ", event));
    case RDMA_CM_EVENT_UNREACHABLE:
      return absl::UnavailableError(
          absl::StrCat(peer, " is unreachable: ", event, "; is the server up and the path open?"));
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
      return absl::UnavailableError(absl::StrCat("the RDMA device was removed: ", event));
    default:
      return absl::UnavailableError(absl::StrCat("connection to ", peer, " failed: ", event));
  }
}

// Waits for `expected`; anything else (an error event, a disconnect) fails.
inline absl::StatusOr<cm_event_record> expect_event(rdma_event_channel* channel,
                                                    rdma_cm_event_type expected, deadline until,
                                                    absl::string_view peer) {
  auto e = next_event(channel, until, absl::StrCat(rdma_event_str(expected), " from ", peer));
  if (!e.ok()) return e.status();
  if (e->type != expected) return event_failure(*e, peer);
  return e;
}

// An IPv4/IPv6 literal or host name plus port, as the sockaddr RDMA-CM takes.
inline absl::StatusOr<sockaddr_storage> socket_address(const std::string& host,
                                                       std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (host.empty() ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve address '", host, "': ", gai_strerror(rc)));
  }
  sockaddr_storage out{};
  std::memcpy(&out, found->ai_addr, std::min<std::size_t>(found->ai_addrlen, sizeof out));
  freeaddrinfo(found);
  return out;
}

inline std::string peer_name(const std::string& host, std::uint16_t port) {
  return absl::StrCat(host, ":", port);
}

}  // namespace innet::rdma::detail
