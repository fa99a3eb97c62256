// A connected RC queue pair, set up through RDMA-CM.
//
// Why RDMA-CM rather than exchanging QP number, PSN and GID over a TCP socket: on
// RoCE the right GID index, the path MTU and the source port come from the IP route
// and the neighbour table, which the kernel's connection manager already consults;
// an out-of-band exchange would have to reimplement that choice per transport (IB,
// RoCE v1/v2, iWARP) and still needs a socket on the side. RDMA-CM moves the QP
// through INIT/RTR/RTS with the negotiated read/atomic depths, carries up to 56
// bytes of private data with the request and 196 with the accept (the region
// descriptor travels there, region_descriptor.hpp), and reports a refused or
// unreachable peer as an event, which keeps every wait bounded.
//
// A client calls connection::connect; a server gets its connections from
// listener::accept. The protection domain and completion queue passed in must
// outlive the connection; the device they belong to must be the one the route to
// the peer uses (device::route_to finds it).
#pragma once

#include <arpa/inet.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <rdma/rdma_cma.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/rdma/completion_queue.hpp"
#include "innet/rdma/detail/cm_events.hpp"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"
#include "innet/rdma/protection_domain.hpp"

namespace innet::rdma {

// Private-data limits of the IB CM messages RDMA-CM sends on RoCE and IB, after
// RDMA-CM's own header: REQ (connect) and REP (accept).
inline constexpr std::size_t max_connect_private_data = 56;
inline constexpr std::size_t max_accept_private_data = 196;

struct queue_pair_options {
  std::uint32_t max_send_wr = 16;      // outstanding work requests on the send queue
  std::uint32_t max_inline_data = 64;  // writes up to this size skip registration
};

struct connect_options {
  std::string address{};  // the server: IPv4/IPv6 literal or host name
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{5000};  // address, route and connection, in total
  queue_pair_options queue_pair{};
  // How long a request waits for its ACK before it is retransmitted, as the IB
  // exponent: 4.096 us * 2^ack_timeout (14: 67 ms). After 7 retransmissions the
  // request fails with a retry-exceeded completion, which is how a peer that
  // vanished without disconnecting is noticed. 0: RDMA-CM's choice from the path
  // (on RoCE 19, about 2 s, so some 17 s until failure).
  std::uint8_t ack_timeout = 0;
};

class listener;

class connection {
 public:
  connection(connection&&) noexcept = default;
  // Not the implicit member-wise assignment: it would replace channel_ (destroying
  // the old event channel) while the old id_ still used it, and then disconnect and
  // destroy that id on a freed channel. The old state goes as a whole instead, by
  // the temporary's destructor, in reverse declaration order.
  connection& operator=(connection&& other) noexcept {
    connection incoming(std::move(other));
    swap_state(incoming);
    return *this;
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() = default;

  static absl::StatusOr<connection> connect(const protection_domain& pd, completion_queue& cq,
                                            const connect_options& options,
                                            std::span<const std::byte> private_data = {}) {
    const std::string peer = detail::peer_name(options.address, options.port);
    if (private_data.size() > max_connect_private_data)
      return absl::InvalidArgumentError(absl::StrCat("connect private data is ",
                                                     private_data.size(), " bytes; at most ",
                                                     max_connect_private_data, " fit"));
    auto address = detail::socket_address(options.address, options.port);
    if (!address.ok()) return address.status();
    auto channel = detail::create_event_channel();
    if (!channel.ok()) return channel.status();
    rdma_cm_id* raw = nullptr;
    if (rdma_create_id(channel->get(), &raw, nullptr, RDMA_PS_TCP) != 0)
      return detail::errno_status(errno, "rdma_create_id");
    detail::connected_id_handle id(raw);
    const auto until = detail::deadline_after(options.timeout);
    if (options.ack_timeout != 0) {
      std::uint8_t exponent = options.ack_timeout;
      if (rdma_set_option(id.get(), RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &exponent,
                          sizeof exponent) != 0)
        return detail::errno_status(errno, "rdma_set_option(RDMA_OPTION_ID_ACK_TIMEOUT)");
    }

    if (rdma_resolve_addr(id.get(), nullptr, reinterpret_cast<sockaddr*>(&*address),
                          detail::remaining_ms(until)) != 0)
      return detail::errno_status(errno, absl::StrCat("rdma_resolve_addr(", peer, ")"));
    if (auto e = detail::expect_event(channel->get(), RDMA_CM_EVENT_ADDR_RESOLVED, until, peer);
        !e.ok())
      return e.status();
    if (id->verbs != pd.get()->context)
      return absl::FailedPreconditionError(absl::StrCat(
          peer, " is reached through device ", ibv_get_device_name(id->verbs->device),
          " but the protection domain belongs to ", ibv_get_device_name(pd.get()->context->device),
          "; open the device with device::route_to(address)"));
    if (rdma_resolve_route(id.get(), detail::remaining_ms(until)) != 0)
      return detail::errno_status(errno, absl::StrCat("rdma_resolve_route(", peer, ")"));
    if (auto e = detail::expect_event(channel->get(), RDMA_CM_EVENT_ROUTE_RESOLVED, until, peer);
        !e.ok())
      return e.status();
    if (auto s = create_queue_pair(id.get(), pd, cq, options.queue_pair); !s.ok()) return s;

    rdma_conn_param param{};
    param.private_data = private_data.empty() ? nullptr : private_data.data();
    param.private_data_len = static_cast<std::uint8_t>(private_data.size());
    // The device's maxima: READs and atomics in flight are bounded by these.
    param.initiator_depth = RDMA_MAX_INIT_DEPTH;
    param.responder_resources = RDMA_MAX_RESP_RES;
    param.retry_count = 7;
    param.rnr_retry_count = 7;
    if (rdma_connect(id.get(), &param) != 0)
      return detail::errno_status(errno, absl::StrCat("rdma_connect(", peer, ")"));
    auto established = detail::expect_event(channel->get(), RDMA_CM_EVENT_ESTABLISHED, until, peer);
    if (!established.ok()) return established.status();
    return connection(std::move(*channel), std::move(id), *established);
  }

  ibv_qp* qp() const noexcept { return id_->qp; }
  ibv_context* context() const noexcept { return id_->verbs; }
  std::uint32_t max_send_wr() const noexcept { return max_send_wr_; }
  std::uint32_t max_inline_data() const noexcept { return max_inline_data_; }

  // The private data the peer sent: the accept's for a client, the connect
  // request's for a server. The IB CM may pad it with zeros to a fixed size.
  std::span<const std::byte> peer_data() const noexcept {
    return std::span(peer_data_).first(peer_data_size_);
  }

  // Non-blocking: the event channel's descriptor, readable when an event (such as
  // the peer's disconnect) is pending; for poll() over many connections.
  int event_fd() const noexcept { return channel_->fd; }

  // Non-blocking: true once the peer has disconnected (or the device went away).
  // One read() of the event channel; cheap enough for a poll loop to ask now and then.
  bool disconnected() noexcept {
    rdma_cm_event* event = nullptr;
    while (!disconnected_ && rdma_get_cm_event(channel_.get(), &event) == 0) {
      const rdma_cm_event_type type = event->event;
      (void)rdma_ack_cm_event(event);
      disconnected_ = type == RDMA_CM_EVENT_DISCONNECTED || type == RDMA_CM_EVENT_DEVICE_REMOVAL ||
                      type == RDMA_CM_EVENT_TIMEWAIT_EXIT;
    }
    return disconnected_;
  }

  // OK once the peer has disconnected; DeadlineExceeded if it is still connected
  // after `timeout`.
  absl::Status wait_for_disconnect(std::chrono::milliseconds timeout) {
    const auto until = detail::deadline_after(timeout);
    for (;;) {
      if (disconnected()) return absl::OkStatus();
      const int wait = detail::remaining_ms(until);
      if (wait == 0) return absl::DeadlineExceededError("the peer is still connected");
      pollfd p{.fd = channel_->fd, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, wait) < 0 && errno != EINTR) return detail::errno_status(errno, "poll");
    }
  }

 private:
  friend class listener;

  connection(detail::event_channel_handle channel, detail::connected_id_handle id,
             const detail::cm_event_record& established) noexcept
      : channel_(std::move(channel)),
        id_(std::move(id)),
        peer_data_(established.private_data),
        peer_data_size_(established.private_data_size) {
    ibv_qp_attr attr{};
    ibv_qp_init_attr init{};
    if (ibv_query_qp(id_->qp, &attr, IBV_QP_CAP, &init) == 0) {
      max_send_wr_ = init.cap.max_send_wr;
      max_inline_data_ = init.cap.max_inline_data;
    }
  }

  void swap_state(connection& other) noexcept {
    using std::swap;
    swap(channel_, other.channel_);
    swap(id_, other.id_);
    swap(peer_data_, other.peer_data_);
    swap(peer_data_size_, other.peer_data_size_);
    swap(max_send_wr_, other.max_send_wr_);
    swap(max_inline_data_, other.max_inline_data_);
    swap(disconnected_, other.disconnected_);
  }

  static absl::Status create_queue_pair(rdma_cm_id* id, const protection_domain& pd,
                                        completion_queue& cq, const queue_pair_options& options) {
    ibv_qp_init_attr attr{};
    attr.send_cq = cq.get();
    attr.recv_cq = cq.get();
    attr.qp_type = IBV_QPT_RC;
    attr.sq_sig_all = 1;  // every request completes visibly, in order, with its id
    attr.cap.max_send_wr = options.max_send_wr;
    attr.cap.max_recv_wr = 1;  // one-sided only: nothing is ever received
    attr.cap.max_send_sge = 1;
    attr.cap.max_recv_sge = 1;
    attr.cap.max_inline_data = options.max_inline_data;
    if (rdma_create_qp(id, pd.get(), &attr) != 0)
      return detail::errno_status(
          errno,
          absl::StrCat("rdma_create_qp (RC, ", options.max_send_wr, " send requests, ",
                       options.max_inline_data, " bytes inline)"),
          "lower the queue-pair sizes to the device's limits (ibv_devinfo -v)");
    return absl::OkStatus();
  }

  // Declared first so that it is destroyed last: the id belongs to the channel.
  detail::event_channel_handle channel_;
  detail::connected_id_handle id_;
  std::array<std::byte, 256> peer_data_{};
  std::size_t peer_data_size_ = 0;
  std::uint32_t max_send_wr_ = 0;
  std::uint32_t max_inline_data_ = 0;
  bool disconnected_ = false;
};

}  // namespace innet::rdma
