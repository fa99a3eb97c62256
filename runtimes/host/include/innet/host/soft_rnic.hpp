// A software RNIC: one-sided READ, WRITE, FETCH_ADD and CMP_SWAP over UDP, with no
// RDMA hardware and no server application code on the data path.
//
// Two ends, as with a real RNIC:
//
//   soft_rnic                 the server side. start() binds a UDP socket and starts
//                             a NIC-like service thread; register_region() exposes
//                             memory and returns an unguessable rkey and its length.
//                             The application then does nothing: the service thread
//                             executes every request.
//   soft_rnic_region<Clock>   the client side, one per (thread, remote region), like
//                             an RC queue pair bound to one rkey. It models
//                             innet::batched_memory_region, so client code written
//                             against it runs unchanged on local memory or ibverbs.
//
//   client process                                    server process
//   soft_rnic_region ── post() ──> UDP datagrams ──> service thread ──> registered
//        ^    poll() <── completions <── responses <──   (responder)       memory
//
// Wire format: soft_rnic_wire.hpp. Responder rules: detail/soft_rnic_responder.hpp.
//
// Guarantees (UDP may drop, duplicate and, off loopback, reorder datagrams):
// - Execution order. Each datagram carries a per-session sequence number; the server
//   executes a session's requests in sequence order and nothing else, so a read
//   posted after a write sees it and completions come back in post order.
// - Exactly once. A retransmitted request is answered from the server's per-session
//   cache of its last `responder_depth` responses, byte for byte; a write or an
//   atomic is never applied twice. The client keeps at most `window` datagrams in
//   flight and connect() refuses a window larger than the server's depth, so every
//   retransmission the client can still be waiting for is in that cache.
// - Bounded waiting. A datagram unanswered for `retransmit_timeout_ns` is sent again
//   (fixed timeout, no backoff), at most `max_tries` sends in all. A gap the server
//   sees is NAKed at once and the client resends from there (go-back-N), so a single
//   loss costs one round trip, not a timeout. Those resends are not tries: the server
//   sends one NAK per gap, so a NAK shows it alive and moving forward (an RC retry
//   counter likewise counts only retries without progress). A datagram therefore
//   fails max_tries * retransmit_timeout_ns after its first send, or after the last
//   NAK that resent it, at the latest.
// - Failure is final. When a datagram's tries run out, or the server no longer knows
//   the session (it restarted, or evicted the least recently active of
//   `max_sessions`), every pending operation completes with errc::unavailable, and so
//   does every later one: like an RC queue pair in the error state, the region stays
//   broken (connected() is false) and the caller connects again. Whether an
//   operation that failed this way took effect is unknown, as the memory-region
//   contract allows. The client has no thread of its own: timers run inside post(),
//   poll() and the one-shot calls, so a caller that stops polling stops retrying.
// - Errors a real RNIC reports arrive as NAKs: an unknown or deregistered rkey is
//   errc::remote_error, a range outside the region errc::out_of_range. The client
//   checks bounds (against the registered length) and alignment itself first, so
//   that, as with local memory, a bad operation touches nothing and costs no trip.
// - Large reads and writes are split into datagrams of at most `mtu` bytes, each
//   with its own sequence number (as RoCE segments a message into packets); a read
//   is reassembled in place in the caller's buffer. Like RDMA, a multi-datagram
//   write is not atomic with respect to concurrent reads.
//
// Not thread-safe: a soft_rnic_region is used by one thread at a time (give each
// thread its own, as each would own a queue pair). soft_rnic's methods are safe to
// call from any thread; after deregister_region() returns, or the soft_rnic is
// destroyed, the service thread no longer touches that memory.
//
// Security: rkeys and session ids come from getrandom(2). This keeps a process from
// reaching memory it was not given a key for; it is not encryption or
// authentication against an attacker who can read the traffic.
#pragma once

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/clock.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/host/detail/soft_rnic_responder.hpp"
#include "innet/host/detail/soft_rnic_socket.hpp"
#include "innet/host/soft_rnic_wire.hpp"
#include "innet/host/steady_clock.hpp"

namespace innet::host {

// An IPv4 address and UDP port, both in host byte order.
struct soft_rnic_endpoint {
  std::uint32_t address = 0x7F000001;  // 127.0.0.1
  std::uint16_t port = 0;
};

// What a client needs to reach one registered region (besides the endpoint). Plain
// data, so that it can be handed to another process over any channel.
struct soft_rnic_registration {
  std::uint64_t rkey = 0;
  std::uint64_t length = 0;  // bytes
};

struct soft_rnic_options {
  soft_rnic_endpoint bind{};             // default: 127.0.0.1, a port the kernel picks
  std::size_t responder_depth = 64;      // cached responses per session; a power of two
  std::size_t max_sessions = 1024;       // client sessions kept before evicting the idlest
  std::size_t receive_buffer = 4 << 20;  // SO_RCVBUF asked for (the kernel may cap it)
};

using soft_rnic_stats = detail::soft_rnic_responder_stats;

// The server side: a UDP socket and the service thread that answers on it.
class soft_rnic {
 public:
  static constexpr std::size_t max_responder_depth = 0x8000;

  // Binds the socket and starts the service thread.
  static absl::StatusOr<std::unique_ptr<soft_rnic>> start(const soft_rnic_options& options = {}) {
    const std::size_t depth = options.responder_depth;
    if (depth == 0 || depth > max_responder_depth || !std::has_single_bit(depth)) {
      return absl::InvalidArgumentError(
          absl::StrCat("soft_rnic_options::responder_depth is ", depth,
                       "; it must be a power of two between 1 and ", max_responder_depth));
    }
    if (options.max_sessions == 0)
      return absl::InvalidArgumentError("soft_rnic_options::max_sessions must be at least 1");
    auto socket = detail::open_udp_socket(options.bind.address, options.bind.port);
    if (!socket.ok()) return socket.status();
    const auto port = detail::bound_port(socket->get());
    if (!port.ok()) return port.status();
    detail::request_receive_buffer(socket->get(), options.receive_buffer);
    detail::unique_fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) {
      return absl::UnavailableError(
          absl::StrCat("soft RNIC: eventfd failed: ", detail::errno_text(errno)));
    }

    std::unique_ptr<soft_rnic> rnic(
        new soft_rnic(std::move(*socket), std::move(wake), {options.bind.address, *port}, options));
    const int error =
        ::pthread_create(&rnic->thread_, nullptr, &soft_rnic::service_entry, rnic.get());
    if (error != 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("soft RNIC: cannot start the service thread: ", detail::errno_text(error)));
    }
    rnic->running_ = true;
    (void)::pthread_setname_np(rnic->thread_, "soft-rnic");
    return rnic;
  }

  soft_rnic(const soft_rnic&) = delete;
  soft_rnic& operator=(const soft_rnic&) = delete;

  ~soft_rnic() {
    if (!running_) return;
    stopping_.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    ::pthread_join(thread_, nullptr);
  }

  // Where clients reach this RNIC (the bound address and the actual port).
  soft_rnic_endpoint endpoint() const noexcept { return endpoint_; }

  // Exposes `words` to remote clients until deregister_region() or destruction. The
  // memory stays the caller's: it must outlive the registration, and local code may
  // keep using it (with std::atomic_ref for words that remote atomics also touch).
  absl::StatusOr<soft_rnic_registration> register_region(std::span<std::uint64_t> words) {
    for (;;) {
      const auto rkey = detail::unguessable_u64();
      if (!rkey.ok()) return rkey.status();
      const std::lock_guard lock(mutex_);
      if (responder_.add_region(*rkey, words))
        return soft_rnic_registration{.rkey = *rkey, .length = words.size_bytes()};
    }
  }

  // Stops serving the region; later requests with its rkey get errc::remote_error.
  absl::Status deregister_region(std::uint64_t rkey) {
    const std::lock_guard lock(mutex_);
    if (responder_.remove_region(rkey)) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("soft RNIC: no registered region has rkey 0x",
                                            absl::Hex(rkey), "; was it deregistered already?"));
  }

  soft_rnic_stats stats() const {
    const std::lock_guard lock(mutex_);
    soft_rnic_stats s = responder_.stats();
    s.failed = failed_;
    return s;
  }

 private:
  // Datagrams taken per recvmmsg/sendmmsg: amortises the system calls over a burst
  // from pipelined clients.
  static constexpr std::size_t batch = 32;

  soft_rnic(detail::unique_fd socket, detail::unique_fd wake, soft_rnic_endpoint endpoint,
            const soft_rnic_options& options)
      : socket_(std::move(socket)),
        wake_(std::move(wake)),
        endpoint_(endpoint),
        responder_(options.responder_depth, options.max_sessions) {}

  static void* service_entry(void* self) {
    static_cast<soft_rnic*>(self)->serve();
    return nullptr;
  }

  // The NIC: receive a burst, answer it under the registration lock, send the
  // answers; block in ppoll only when the socket is empty.
  void serve() {
    std::vector<std::byte> rx(batch * soft_rnic_max_datagram);
    std::vector<std::byte> tx(batch * soft_rnic_max_datagram);
    std::array<sockaddr_in, batch> peers{};
    std::array<iovec, batch> rx_iov{};
    std::array<mmsghdr, batch> rx_msgs{};
    std::array<iovec, batch> tx_iov{};
    std::array<mmsghdr, batch> tx_msgs{};
    std::array<pollfd, 2> fds{{{.fd = socket_.get(), .events = POLLIN, .revents = 0},
                               {.fd = wake_.get(), .events = POLLIN, .revents = 0}}};
    while (!stopping_.load(std::memory_order_acquire)) {
      for (std::size_t i = 0; i < batch; ++i) {
        rx_iov[i] = {.iov_base = rx.data() + i * soft_rnic_max_datagram,
                     .iov_len = soft_rnic_max_datagram};
        rx_msgs[i] = {};
        rx_msgs[i].msg_hdr.msg_name = &peers[i];
        rx_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
        rx_msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int received = ::recvmmsg(socket_.get(), rx_msgs.data(), batch, MSG_DONTWAIT, nullptr);
      if (received <= 0) {
        (void)::ppoll(fds.data(), fds.size(), nullptr, nullptr);
        continue;
      }
      std::size_t replies = 0;
      {
        const std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) {
          // A datagram longer than any valid request was cut short: drop it.
          if ((rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
          const auto request =
              std::span(rx).subspan(i * soft_rnic_max_datagram, rx_msgs[i].msg_len);
          const auto out =
              std::span(tx).subspan(replies * soft_rnic_max_datagram, soft_rnic_max_datagram);
          // An exception (std::bad_alloc for a new session) must not end the service
          // thread, which would be std::terminate: drop the datagram, as a NIC out of
          // buffers would; the client retransmits.
          std::size_t n = 0;
          try {
            n = responder_.handle(request, out);
          } catch (...) {
            ++failed_;
            continue;
          }
          if (n == 0) continue;
          tx_iov[replies] = {.iov_base = out.data(), .iov_len = n};
          tx_msgs[replies] = {};
          tx_msgs[replies].msg_hdr.msg_name = &peers[i];
          tx_msgs[replies].msg_hdr.msg_namelen = rx_msgs[i].msg_hdr.msg_namelen;
          tx_msgs[replies].msg_hdr.msg_iov = &tx_iov[replies];
          tx_msgs[replies].msg_hdr.msg_iovlen = 1;
          ++replies;
        }
      }
      // A reply the kernel will not take now is a lost datagram: the client's
      // retransmission is answered from the response cache.
      for (std::size_t sent = 0; sent < replies;) {
        const int n = ::sendmmsg(socket_.get(), tx_msgs.data() + sent,
                                 static_cast<unsigned>(replies - sent), MSG_DONTWAIT);
        if (n > 0) {
          sent += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          ++sent;  // skip the datagram that failed and try the rest
        }
      }
    }
  }

  detail::unique_fd socket_;
  detail::unique_fd wake_;
  soft_rnic_endpoint endpoint_;
  pthread_t thread_{};
  bool running_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  detail::soft_rnic_responder responder_;  // guarded by mutex_
  std::uint64_t failed_ = 0;               // guarded by mutex_
};

struct soft_rnic_region_options {
  std::size_t mtu = 1472;         // largest datagram sent, in UDP payload bytes
  std::size_t window = 32;        // datagrams in flight; at most the server's responder depth
  std::size_t queue_depth = 256;  // work requests posted and not yet polled
  std::uint64_t retransmit_timeout_ns = 20'000'000;
  unsigned max_tries = 5;                  // sends of one datagram before errc::unavailable
  std::uint64_t poll_wait_ns = 1'000'000;  // how long poll() with nothing ready waits; 0: never
};

struct soft_rnic_region_stats {
  std::uint64_t datagrams_sent = 0;   // retransmissions included
  std::uint64_t retransmissions = 0;  // after a timeout or a sequence_error NAK
  std::uint64_t sequence_naks = 0;
  std::uint64_t ignored = 0;  // malformed, duplicate or stale responses
  std::size_t max_in_flight = 0;
};

// The client side; see the top of this file. Clock measures retransmission
// timeouts (innet::clock, nanoseconds). The calls that wait (the one-shot operations,
// connect, and poll() with poll_wait_ns) wait in real time for the durations Clock
// measures, so a manual clock suits tests that drive post()/poll() and advance it.
template <innet::clock Clock = steady_clock>
class soft_rnic_region {
 public:
  static constexpr std::size_t min_mtu = 128;

  // Opens a session with the soft RNIC at `server` for the region `region` names.
  // The rkey is not checked here: as with RDMA, a wrong one fails each operation.
  static absl::StatusOr<soft_rnic_region> connect(soft_rnic_endpoint server,
                                                  soft_rnic_registration region,
                                                  const soft_rnic_region_options& options = {},
                                                  Clock clock = Clock{}) {
    if (const absl::Status s = validate(options); !s.ok()) return s;
    auto socket = detail::open_udp_socket(0, 0);
    if (!socket.ok()) return socket.status();
    const sockaddr_in peer = detail::to_sockaddr(server.address, server.port);
    if (::connect(socket->get(), reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) {
      const int error = errno;  // before endpoint_text allocates
      return absl::UnavailableError(absl::StrCat("soft RNIC: cannot reach ",
                                                 detail::endpoint_text(server.address, server.port),
                                                 ": ", detail::errno_text(error)));
    }
    detail::request_receive_buffer(socket->get(), 2 * options.window * options.mtu);
    const auto session = detail::unguessable_u64();
    if (!session.ok()) return session.status();

    soft_rnic_region r(std::move(*socket), *session, region, options, std::move(clock));
    if (const absl::Status s = r.handshake(server); !s.ok()) return s;
    return r;
  }

  std::uint64_t size() const noexcept { return length_; }
  // False once the session is lost (see the top of this file); every operation then
  // fails with errc::unavailable.
  bool connected() const noexcept { return !broken_; }
  const soft_rnic_region_stats& stats() const noexcept { return stats_; }
  Clock& clock() noexcept { return clock_; }

  // One-shot operations: post, then wait for that completion. They are ordered after
  // every operation posted before them and leave those completions to poll().
  errc read(std::uint64_t offset, std::span<std::byte> dst) noexcept {
    return run({.opcode = memory_opcode::read, .offset = offset, .local = dst}).status;
  }

  errc write(std::uint64_t offset, std::span<const std::byte> src) noexcept {
    // A write only reads `local`; memory_op has one span type for both directions.
    const std::span<std::byte> bytes(const_cast<std::byte*>(src.data()), src.size());
    return run({.opcode = memory_opcode::write, .offset = offset, .local = bytes}).status;
  }

  result<std::uint64_t> fetch_add(std::uint64_t offset, std::uint64_t add) noexcept {
    const memory_completion c =
        run({.opcode = memory_opcode::fetch_add, .offset = offset, .operand = add});
    if (c.status != errc::ok) return c.status;
    return c.old_value;
  }

  result<std::uint64_t> compare_swap(std::uint64_t offset, std::uint64_t expected,
                                     std::uint64_t desired) noexcept {
    const memory_completion c = run({.opcode = memory_opcode::compare_swap,
                                     .offset = offset,
                                     .operand = expected,
                                     .swap = desired});
    if (c.status != errc::ok) return c.status;
    return c.old_value;
  }

  // Queues work requests (up to queue_depth posted and not yet polled) and sends
  // as many datagrams as the window allows. Returns how many were accepted.
  std::size_t post(std::span<const memory_op> ops) noexcept {
    std::size_t accepted = 0;
    for (const memory_op& op : ops) {
      if (user_requests_ + cq_count_ == options_.queue_depth) break;
      enqueue(op, false);
      ++user_requests_;
      ++accepted;
    }
    retire();  // what failed its local checks completes at once, in order
    pump();
    flush();
    return accepted;
  }

  // Makes progress (responses, retransmissions, further datagrams) and returns up to
  // size(out) completions in post order. With none ready and work outstanding it
  // first waits up to poll_wait_ns for one.
  std::size_t poll(std::span<memory_completion> out) noexcept {
    progress();
    if (cq_count_ == 0 && sq_head_ != sq_tail_ && options_.poll_wait_ns > 0) {
      wait(options_.poll_wait_ns);
      progress();
    }
    std::size_t n = 0;
    while (n < out.size() && cq_count_ > 0) {
      out[n++] = cq_[cq_head_];
      cq_head_ = (cq_head_ + 1) % cq_.size();
      --cq_count_;
    }
    return n;
  }

 private:
  // A posted operation: a work queue entry.
  struct work_request {
    memory_op op{};
    bool internal = false;     // a one-shot call's own: retired to sync_, not the CQ
    std::uint64_t chunks = 0;  // datagrams it needs; 0 when it failed locally
    std::uint64_t sent = 0;    // datagrams given a sequence number so far
    std::uint64_t answered = 0;
    errc status = errc::ok;  // the first error of any datagram
    std::uint64_t old_value = 0;
    bool done() const noexcept { return answered == chunks; }
  };

  // One request datagram awaiting its response.
  struct datagram {
    std::uint64_t request = 0;  // absolute index of its work_request
    std::uint64_t offset = 0;   // of this chunk within the operation's bytes
    std::uint32_t length = 0;
    soft_rnic_opcode opcode = soft_rnic_opcode::read;
    bool answered = false;
    unsigned tries = 0;
    std::uint64_t sent_at = 0;
    std::size_t header_size = 0;
    std::array<std::byte, soft_rnic_max_header_size> header{};
  };

  static constexpr std::size_t receive_batch = 16;
  static constexpr std::uint64_t no_deadline = std::numeric_limits<std::uint64_t>::max();

  soft_rnic_region(detail::unique_fd socket, std::uint64_t session, soft_rnic_registration region,
                   const soft_rnic_region_options& options, Clock clock)
      : clock_(std::move(clock)),
        socket_(std::move(socket)),
        session_(session),
        rkey_(region.rkey),
        length_(region.length),
        options_(options),
        sq_(options.queue_depth + 1),
        cq_(options.queue_depth),
        in_flight_(options.window),
        rx_(receive_batch * options.mtu) {
    tx_.reserve(2 * options.window);
  }

  static absl::Status validate(const soft_rnic_region_options& o) {
    if (o.mtu < min_mtu || o.mtu > soft_rnic_max_datagram) {
      return absl::InvalidArgumentError(absl::StrCat("soft_rnic_region_options::mtu is ", o.mtu,
                                                     "; it must be between ", min_mtu, " and ",
                                                     soft_rnic_max_datagram, " bytes"));
    }
    if (o.window == 0 || o.queue_depth == 0 || o.max_tries == 0 || o.retransmit_timeout_ns == 0) {
      return absl::InvalidArgumentError(
          "soft_rnic_region_options: window, queue_depth, max_tries and "
          "retransmit_timeout_ns must all be at least 1");
    }
    return absl::OkStatus();
  }

  // Sequence 0 opens the session; the server answers with its limits.
  absl::Status handshake(soft_rnic_endpoint server) {
    const soft_rnic_message hello{.opcode = soft_rnic_opcode::connect, .session = session_};
    std::array<std::byte, soft_rnic_connect_size> request{};
    (void)encode_soft_rnic_message(request, hello);
    for (unsigned attempt = 0; attempt < options_.max_tries; ++attempt) {
      (void)::send(socket_.get(), request.data(), request.size(), MSG_DONTWAIT);
      ++stats_.datagrams_sent;
      const std::uint64_t deadline = clock_.now() + options_.retransmit_timeout_ns;
      for (std::uint64_t now = clock_.now(); now < deadline; now = clock_.now()) {
        wait_readable(deadline - now);
        std::array<std::byte, soft_rnic_max_header_size> reply{};
        const ssize_t n = ::recv(socket_.get(), reply.data(), reply.size(), MSG_DONTWAIT);
        if (n <= 0) continue;
        const auto m = parse_soft_rnic_message(std::span(reply).first(static_cast<std::size_t>(n)));
        if (!m || m->opcode != soft_rnic_opcode::connect_response || m->session != session_ ||
            m->sequence != 0) {
          ++stats_.ignored;
          continue;
        }
        if (m->syndrome != soft_rnic_syndrome::ok) {
          return absl::UnavailableError(
              absl::StrCat("soft RNIC at ", detail::endpoint_text(server.address, server.port),
                           " refused the connection"));
        }
        if (options_.window > m->responder_depth) {
          return absl::FailedPreconditionError(
              absl::StrCat("soft_rnic_region_options::window is ", options_.window,
                           " but the soft RNIC keeps only ", m->responder_depth,
                           " responses per session; lower the window or raise "
                           "soft_rnic_options::responder_depth on the server"));
        }
        if (options_.mtu > m->max_datagram) {
          return absl::FailedPreconditionError(
              absl::StrCat("soft_rnic_region_options::mtu is ", options_.mtu,
                           " but the soft RNIC accepts datagrams of at most ", m->max_datagram,
                           " bytes; lower the mtu"));
        }
        return absl::OkStatus();
      }
    }
    return absl::UnavailableError(absl::StrCat(
        "no soft RNIC answered at ", detail::endpoint_text(server.address, server.port), " after ",
        options_.max_tries, " tries ", options_.retransmit_timeout_ns / 1000,
        " us apart; start the server (innet::host::soft_rnic::start) or check the "
        "address and port"));
  }

  // --- local checks and chunking -------------------------------------------------

  // Data bytes one datagram carries for `opcode` (a read's travel in the response).
  std::uint64_t chunk_capacity(memory_opcode opcode) const noexcept {
    switch (opcode) {
      case memory_opcode::read:
        return options_.mtu - soft_rnic_ack_size;
      case memory_opcode::write:
        return options_.mtu - soft_rnic_access_size;
      default:
        return 8;
    }
  }

  static soft_rnic_opcode wire_opcode(memory_opcode opcode) noexcept {
    switch (opcode) {
      case memory_opcode::read:
        return soft_rnic_opcode::read;
      case memory_opcode::write:
        return soft_rnic_opcode::write;
      case memory_opcode::fetch_add:
        return soft_rnic_opcode::fetch_add;
      case memory_opcode::compare_swap:
        return soft_rnic_opcode::compare_swap;
    }
    return soft_rnic_opcode::read;
  }

  // --- queues ----------------------------------------------------------------------
  //
  // The send queue holds work requests from posting until their turn to complete
  // (absolute indices sq_head_ <= sq_send_ <= sq_tail_; sq_send_ is the first with
  // datagrams still to send). Datagrams in flight occupy a ring of `window` slots in
  // sequence order; datagram number p (from 0) carries sequence p + 1, since the
  // handshake used 0. Completed user requests move, in order, to the completion
  // queue; one slot of the send queue beyond queue_depth is kept for a one-shot call.

  work_request& request_at(std::uint64_t index) noexcept { return sq_[index % sq_.size()]; }
  datagram& datagram_at(std::uint64_t number) noexcept {
    return in_flight_[number % in_flight_.size()];
  }
  static std::uint32_t sequence_of(std::uint64_t number) noexcept {
    return static_cast<std::uint32_t>(number + 1);
  }

  void enqueue(const memory_op& op, bool internal) noexcept {
    work_request& w = request_at(sq_tail_++);
    w = work_request{.op = op, .internal = internal};
    w.status = broken_ ? errc::unavailable : check_memory_op(length_, op);
    if (w.status == errc::ok) {
      const std::uint64_t bytes =
          op.opcode == memory_opcode::read || op.opcode == memory_opcode::write ? op.local.size()
                                                                                : 8;
      const std::uint64_t capacity = chunk_capacity(op.opcode);
      w.chunks = bytes == 0 ? 1 : (bytes + capacity - 1) / capacity;
    }
  }

  // Gives sequence numbers to further datagrams while the window has room.
  void pump() noexcept {
    while (in_flight_count_ < in_flight_.size() && sq_send_ != sq_tail_) {
      work_request& w = request_at(sq_send_);
      if (w.sent == w.chunks) {
        ++sq_send_;
        continue;
      }
      const std::uint64_t number = in_flight_head_ + in_flight_count_++;
      datagram& d = datagram_at(number);
      const std::uint64_t capacity = chunk_capacity(w.op.opcode);
      d = datagram{.request = sq_send_, .offset = w.sent * capacity};
      d.opcode = wire_opcode(w.op.opcode);
      soft_rnic_message m{.opcode = d.opcode,
                          .sequence = sequence_of(number),
                          .session = session_,
                          .rkey = rkey_,
                          .offset = w.op.offset + d.offset,
                          .length = 8};
      if (is_atomic(d.opcode)) {
        m.operand = w.op.operand;
        m.swap = d.opcode == soft_rnic_opcode::compare_swap ? w.op.swap : 0;
      } else {
        d.length = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(capacity, w.op.local.size() - d.offset));
        m.length = d.length;
        if (d.opcode == soft_rnic_opcode::write) m.payload = w.op.local.subspan(d.offset, d.length);
      }
      d.header_size = encode_soft_rnic_header(d.header, m).value_or(0);
      ++w.sent;
      stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_count_);
      transmit(number, send_reason::first);
    }
  }

  enum class send_reason { first, timeout, sequence_nak };

  // Queues datagram `number` for the next flush().
  void transmit(std::uint64_t number, send_reason why) noexcept {
    datagram& d = datagram_at(number);
    d.sent_at = clock_.now();
    if (why != send_reason::sequence_nak) ++d.tries;
    if (why != send_reason::first) ++stats_.retransmissions;
    next_deadline_ = std::min(next_deadline_, d.sent_at + options_.retransmit_timeout_ns);
    tx_.push_back(number);
  }

  // Sends everything queued, gathering write data from the caller's buffer. A
  // datagram the kernel refuses (a full buffer, an ICMP error from a dead server) is
  // treated as lost: its timer resends it.
  void flush() noexcept {
    // A retransmission queued before its response arrived may have retired since, and
    // its slot may hold a newer datagram (queued itself, if so): send only live ones.
    std::erase_if(tx_, [this](std::uint64_t number) { return number < in_flight_head_; });
    if (tx_.empty()) return;
    tx_iov_.resize(2 * tx_.size());
    tx_msgs_.resize(tx_.size());
    for (std::size_t i = 0; i < tx_.size(); ++i) {
      datagram& d = datagram_at(tx_[i]);
      work_request& w = request_at(d.request);
      tx_iov_[2 * i] = {.iov_base = d.header.data(), .iov_len = d.header_size};
      tx_msgs_[i] = {};
      tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[2 * i];
      tx_msgs_[i].msg_hdr.msg_iovlen = 1;
      if (d.opcode == soft_rnic_opcode::write && d.length > 0) {
        tx_iov_[2 * i + 1] = {.iov_base = w.op.local.data() + d.offset, .iov_len = d.length};
        tx_msgs_[i].msg_hdr.msg_iovlen = 2;
      }
    }
    for (std::size_t sent = 0; sent < tx_.size();) {
      const int n = ::sendmmsg(socket_.get(), tx_msgs_.data() + sent,
                               static_cast<unsigned>(tx_.size() - sent), MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        ++sent;
      }
    }
    stats_.datagrams_sent += tx_.size();
    tx_.clear();
  }

  // --- responses and timers --------------------------------------------------------

  // Retiring before pumping lets a window that one receive() emptied refill at once
  // instead of at the next timer deadline.
  void progress() noexcept {
    receive();
    check_timers();
    retire();
    pump();
    flush();
  }

  void receive() noexcept {
    std::array<iovec, receive_batch> iov{};
    std::array<mmsghdr, receive_batch> msgs{};
    for (;;) {
      if (broken_) return;
      for (std::size_t i = 0; i < receive_batch; ++i) {
        iov[i] = {.iov_base = rx_.data() + i * options_.mtu, .iov_len = options_.mtu};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = ::recvmmsg(socket_.get(), msgs.data(), receive_batch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        // ECONNREFUSED reports an ICMP error for an earlier send; the timers deal
        // with the loss, so keep draining.
        if (errno == EINTR || errno == ECONNREFUSED) continue;
        return;
      }
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
          ++stats_.ignored;
          continue;
        }
        on_response(std::span(rx_).subspan(i * options_.mtu, msgs[i].msg_len));
      }
      if (static_cast<std::size_t>(n) < receive_batch) return;
    }
  }

  // The datagram number `sequence` names, if it is in flight.
  std::optional<std::uint64_t> find(std::uint32_t sequence) const noexcept {
    const std::uint32_t distance = sequence - sequence_of(in_flight_head_);
    if (distance >= in_flight_count_) return std::nullopt;
    return in_flight_head_ + distance;
  }

  void on_response(std::span<const std::byte> bytes) noexcept {
    const auto parsed = parse_soft_rnic_message(bytes);
    if (!parsed || !is_response(parsed->opcode) || parsed->session != session_) {
      ++stats_.ignored;
      return;
    }
    const soft_rnic_message& m = *parsed;
    if (m.syndrome == soft_rnic_syndrome::unknown_session) {
      fail();
      return;
    }
    if (m.syndrome == soft_rnic_syndrome::sequence_error) {
      go_back(m.sequence);
      return;
    }
    const auto number = find(m.sequence);
    if (!number) {
      ++stats_.ignored;
      return;
    }
    datagram& d = datagram_at(*number);
    if (d.answered || m.opcode != response_to(d.opcode)) {
      ++stats_.ignored;
      return;
    }
    work_request& w = request_at(d.request);
    errc status = to_errc(m.syndrome);
    if (status == errc::ok) {
      if (d.opcode == soft_rnic_opcode::read) {
        if (m.payload.size() == d.length) {
          std::copy(m.payload.begin(), m.payload.end(),
                    w.op.local.begin() + static_cast<std::ptrdiff_t>(d.offset));
        } else {
          status = errc::remote_error;
        }
      } else if (is_atomic(d.opcode)) {
        w.old_value = m.original;
      }
    }
    if (w.status == errc::ok) w.status = status;
    d.answered = true;
    ++w.answered;
  }

  // The server saw a gap and expects `sequence` next: resend it and everything after
  // it that is still unanswered (the server dropped those), without waiting for their
  // timers. Not a try: the NAK itself is the server making progress.
  void go_back(std::uint32_t sequence) noexcept {
    ++stats_.sequence_naks;
    const auto first = find(sequence);
    if (!first) return;
    for (std::uint64_t p = *first; p < in_flight_head_ + in_flight_count_; ++p) {
      datagram& d = datagram_at(p);
      if (d.answered) continue;
      transmit(p, send_reason::sequence_nak);
    }
  }

  void check_timers() noexcept {
    const std::uint64_t now = clock_.now();
    if (now < next_deadline_) return;
    next_deadline_ = no_deadline;
    for (std::uint64_t p = in_flight_head_; p < in_flight_head_ + in_flight_count_; ++p) {
      datagram& d = datagram_at(p);
      if (d.answered) continue;
      const std::uint64_t deadline = d.sent_at + options_.retransmit_timeout_ns;
      if (now < deadline) {
        next_deadline_ = std::min(next_deadline_, deadline);
        continue;
      }
      if (d.tries >= options_.max_tries) {
        fail();
        return;
      }
      transmit(p, send_reason::timeout);
    }
  }

  // The session is lost: complete everything with errc::unavailable, for good.
  void fail() noexcept {
    broken_ = true;
    for (std::uint64_t i = sq_head_; i != sq_tail_; ++i) {
      work_request& w = request_at(i);
      if (w.done()) continue;
      if (w.status == errc::ok) w.status = errc::unavailable;
      w.chunks = w.sent = w.answered;
    }
    in_flight_head_ += in_flight_count_;
    in_flight_count_ = 0;
    sq_send_ = sq_tail_;
    tx_.clear();
    next_deadline_ = no_deadline;
  }

  // Frees answered datagrams and completes finished requests, both in order.
  void retire() noexcept {
    while (in_flight_count_ > 0 && datagram_at(in_flight_head_).answered) {
      ++in_flight_head_;
      --in_flight_count_;
    }
    while (sq_head_ != sq_tail_ && request_at(sq_head_).done()) {
      const work_request& w = request_at(sq_head_++);
      const memory_completion c{.id = w.op.id, .status = w.status, .old_value = w.old_value};
      if (w.internal) {
        sync_ = c;
      } else {
        cq_[(cq_head_ + cq_count_) % cq_.size()] = c;
        ++cq_count_;
        --user_requests_;
      }
    }
    sq_send_ = std::max(sq_send_, sq_head_);
  }

  // Waits for a datagram, at most `limit_ns` and never past the next retransmission.
  void wait(std::uint64_t limit_ns) noexcept {
    const std::uint64_t now = clock_.now();
    std::uint64_t ns = limit_ns;
    if (next_deadline_ != no_deadline)
      ns = std::min(ns, next_deadline_ > now ? next_deadline_ - now : 0);
    wait_readable(ns);
  }

  void wait_readable(std::uint64_t ns) noexcept {
    pollfd fd{.fd = socket_.get(), .events = POLLIN, .revents = 0};
    const timespec timeout{.tv_sec = static_cast<time_t>(ns / 1'000'000'000),
                           .tv_nsec = static_cast<long>(ns % 1'000'000'000)};
    (void)::ppoll(&fd, 1, &timeout, nullptr);
  }

  memory_completion run(const memory_op& op) noexcept {
    if (const errc e = broken_ ? errc::unavailable : check_memory_op(length_, op); e != errc::ok)
      return {.id = op.id, .status = e};
    sync_.reset();
    enqueue(op, true);
    progress();
    while (!sync_) {
      wait(options_.retransmit_timeout_ns);
      progress();
    }
    return *sync_;
  }

  Clock clock_;
  detail::unique_fd socket_;
  std::uint64_t session_;
  std::uint64_t rkey_;
  std::uint64_t length_;
  soft_rnic_region_options options_;
  bool broken_ = false;

  std::vector<work_request> sq_;
  std::uint64_t sq_head_ = 0, sq_send_ = 0, sq_tail_ = 0;
  std::size_t user_requests_ = 0;  // user (not one-shot) requests in the send queue

  std::vector<memory_completion> cq_;
  std::size_t cq_head_ = 0, cq_count_ = 0;

  std::vector<datagram> in_flight_;
  std::uint64_t in_flight_head_ = 0;
  std::size_t in_flight_count_ = 0;
  std::uint64_t next_deadline_ = no_deadline;

  std::vector<std::uint64_t> tx_;  // datagram numbers to send at the next flush()
  std::vector<iovec> tx_iov_;
  std::vector<mmsghdr> tx_msgs_;
  std::vector<std::byte> rx_;
  std::optional<memory_completion> sync_;
  soft_rnic_region_stats stats_;
};

static_assert(innet::batched_memory_region<soft_rnic_region<>>);

}  // namespace innet::host
