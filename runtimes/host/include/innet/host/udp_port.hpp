// A packet port over a connected, non-blocking UDP socket: the host runtime's
// network-facing port, usable on loopback, between network namespaces, or across
// real links. A frame is one UDP payload; the kernel adds the IP and UDP headers.
//
// Bursts map onto recvmmsg(2)/sendmmsg(2), one system call per burst rather than
// per datagram. The port owns `burst` receive buffers of max_frame bytes each;
// rx_burst lends them until the next rx_burst, when the kernel writes over them.
// tx_burst hands a prefix of the frames to the kernel and returns its length: it
// stops short only on a condition that passes: a full send queue (EAGAIN,
// ENOBUFS) or EINTR. A frame longer than max_frame is never sent: it is dropped, counted
// in tx_dropped and reported as sent, as the packet-port contract asks, and the
// frames after it go on. A frame the kernel refuses with any other error
// (ENETUNREACH, EHOSTUNREACH, EPERM from a firewall, EMSGSIZE, EDESTADDRREQ with no
// peer) is dropped the same way, counted in tx_errors and reported as sent, like a
// NIC's output errors: such errors persist, and a caller that retried the frame
// would never get past it. Empty frames are sent as empty datagrams. As with any UDP path,
// "accepted" means handed to the kernel, not delivered: a full receive queue at
// the other end drops datagrams without telling the sender.
//
// Datagrams longer than max_frame arrive truncated (MSG_TRUNC); the port drops
// them and counts them rather than passing on a cut frame. A connected UDP socket
// also receives only from its peer, so a port is point-to-point, like a link.
//
// Errors from opening and connecting are absl::Status values that name the
// address and what to do (in use, not configured here, malformed). On the hot path
// a socket error is not an event the caller can act on per burst: it counts it
// and goes on. ECONNREFUSED, which a connected socket reports once after an ICMP
// port-unreachable for an earlier datagram, is the common case: tx_burst counts it
// in tx_errors and sends the frame again rather than dropping it.
//
// Threading: one thread at a time in rx_burst and one in tx_burst (they may differ);
// stats() from any thread. Receive timestamps are not collected (timestamp_ns = 0).
//
//   auto a = innet::host::udp_port::open({.local = {"127.0.0.1", 0}});
//   auto b = innet::host::udp_port::open({.local = {"127.0.0.1", 0}});
//   a->connect(*b->local_endpoint());  b->connect(*a->local_endpoint());
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/packet_port.hpp"

namespace innet::host {

// A numeric IPv4 or IPv6 address and a port; no name resolution.
struct udp_endpoint {
  std::string address;
  std::uint16_t port = 0;

  friend bool operator==(const udp_endpoint&, const udp_endpoint&) = default;
};

struct udp_port_config {
  udp_endpoint local{"127.0.0.1", 0};    // port 0 picks an ephemeral port: see local_endpoint()
  std::optional<udp_endpoint> remote{};  // connect at open when set
  std::uint32_t max_frame = 1472;        // largest payload: a 1500-byte MTU less IPv4 and UDP
  std::uint32_t burst = 32;              // frames per recvmmsg/sendmmsg call, 1..1024
  int receive_buffer_bytes = 0;          // SO_RCVBUF when > 0 (capped by net.core.rmem_max)
  int send_buffer_bytes = 0;             // SO_SNDBUF when > 0 (capped by net.core.wmem_max)
};

struct udp_port_stats {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // datagrams longer than max_frame
  std::uint64_t rx_errors = 0;   // recvmmsg failures other than "nothing to read"
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_rejected = 0;  // offered to tx_burst but not accepted (queue full)
  std::uint64_t tx_dropped = 0;   // frames > max_frame, dropped and reported as sent
  // sendmmsg failures other than "queue full": frames refused by the kernel,
  // dropped and reported as sent, and ECONNREFUSED reports (the frame is resent)
  std::uint64_t tx_errors = 0;
};

namespace detail {

// IPv4's 65535-byte datagram less a 20-byte IP header and the 8-byte UDP header;
// IPv6 has no IP header inside its 65535-byte payload length.
inline constexpr std::uint32_t udp_max_payload_v4 = 65507;
inline constexpr std::uint32_t udp_max_payload_v6 = 65527;
// The kernel's UIO_MAXIOV, the most messages one sendmmsg/recvmmsg takes.
inline constexpr std::uint32_t udp_max_burst = 1024;

struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

inline std::string to_string(const udp_endpoint& e) {
  if (e.address.find(':') != std::string::npos) return absl::StrCat("[", e.address, "]:", e.port);
  return absl::StrCat(e.address, ":", e.port);
}

inline absl::StatusOr<socket_address> parse_endpoint(const udp_endpoint& e,
                                                     absl::string_view what) {
  socket_address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (::inet_pton(AF_INET, e.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(e.port);
    a.length = sizeof(sockaddr_in);
    return a;
  }
  if (::inet_pton(AF_INET6, e.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(e.port);
    a.length = sizeof(sockaddr_in6);
    return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": '", e.address,
      "' is not a numeric IPv4 or IPv6 address (write e.g. 127.0.0.1 or ::1; names are not "
      "resolved)"));
}

inline absl::StatusOr<udp_endpoint> endpoint_of(const sockaddr_storage& s) {
  char text[INET6_ADDRSTRLEN] = {};
  if (s.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(s);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return udp_endpoint{text, ntohs(v4.sin_port)};
  }
  if (s.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(s);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    return udp_endpoint{text, ntohs(v6.sin6_port)};
  }
  return absl::InternalError(absl::StrCat("udp_port: socket has address family ", s.ss_family));
}

// Advice for the errno values a user can do something about.
inline absl::string_view socket_error_hint(int error) {
  switch (error) {
    case EADDRINUSE:
      return "; another socket holds it: choose another port, or port 0 for an ephemeral one";
    case EADDRNOTAVAIL:
      return "; no interface in this network namespace has that address";
    case EACCES:
      return "; ports below 1024 need CAP_NET_BIND_SERVICE";
    case ENETUNREACH:
      return "; no route to it from this network namespace";
    default:
      return "";
  }
}

// Single-writer counter readable from any thread (see detail/frame_ring.hpp).
struct udp_counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n) noexcept {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// Receive side: buffers lent by rx_burst and the message vectors describing them.
struct alignas(128) udp_rx_state {
  std::vector<std::byte> buffers;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  udp_counter packets, bytes, dropped, errors;
};

// Transmit side: message vectors filled per call, pointing at the caller's frames;
// source[k] is the index in the caller's span of the frame in msgs[k].
struct alignas(128) udp_tx_state {
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<std::size_t> source;
  udp_counter packets, bytes, rejected, dropped, errors;
};

struct udp_state {
  udp_rx_state rx;
  udp_tx_state tx;
};

}  // namespace detail

class udp_port {
 public:
  // Creates a non-blocking socket bound to config.local, and connects it when
  // config.remote is set.
  static absl::StatusOr<udp_port> open(const udp_port_config& config);

  // Sets the peer: tx_burst sends to it and rx_burst receives only from it.
  absl::Status connect(const udp_endpoint& remote);
  // The bound address, with the port the kernel chose for port 0.
  absl::StatusOr<udp_endpoint> local_endpoint() const;

  std::size_t rx_burst(std::span<packet_view> out) noexcept;
  std::size_t tx_burst(std::span<const std::span<const std::byte>> frames) noexcept;

  std::uint32_t max_frame() const noexcept { return max_frame_; }
  int fd() const noexcept { return fd_; }
  udp_port_stats stats() const noexcept;

  udp_port(udp_port&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        family_(other.family_),
        max_frame_(other.max_frame_),
        burst_(other.burst_),
        state_(std::move(other.state_)) {}
  udp_port& operator=(udp_port&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
      family_ = other.family_;
      max_frame_ = other.max_frame_;
      burst_ = other.burst_;
      state_ = std::move(other.state_);
    }
    return *this;
  }
  udp_port(const udp_port&) = delete;
  udp_port& operator=(const udp_port&) = delete;
  ~udp_port() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  udp_port(int fd, int family, std::uint32_t max_frame, std::uint32_t burst);

  int fd_ = -1;
  int family_ = AF_UNSPEC;
  std::uint32_t max_frame_ = 0;
  std::uint32_t burst_ = 0;
  std::unique_ptr<detail::udp_state> state_;
};

static_assert(innet::packet_port<udp_port>);

inline udp_port::udp_port(int fd, int family, std::uint32_t max_frame, std::uint32_t burst)
    : fd_(fd),
      family_(family),
      max_frame_(max_frame),
      burst_(burst),
      state_(std::make_unique<detail::udp_state>()) {
  // Buffers start on cache lines, like DPDK mbuf data, so parsers read aligned headers.
  const std::size_t stride = (std::size_t{max_frame} + 63) / 64 * 64;
  detail::udp_rx_state& rx = state_->rx;
  rx.buffers.resize(stride * burst);
  rx.iov.resize(burst);
  rx.msgs.resize(burst);
  for (std::size_t i = 0; i < burst; ++i) {
    rx.iov[i] = {.iov_base = rx.buffers.data() + i * stride, .iov_len = max_frame};
    rx.msgs[i] = {};
    rx.msgs[i].msg_hdr.msg_iov = &rx.iov[i];
    rx.msgs[i].msg_hdr.msg_iovlen = 1;
  }
  state_->tx.iov.resize(burst);
  state_->tx.msgs.resize(burst);
  state_->tx.source.resize(burst);
}

inline absl::StatusOr<udp_port> udp_port::open(const udp_port_config& config) {
  constexpr absl::string_view what = "udp_port::open";
  auto local = detail::parse_endpoint(config.local, what);
  if (!local.ok()) return local.status();
  const std::uint32_t max_payload =
      local->family() == AF_INET ? detail::udp_max_payload_v4 : detail::udp_max_payload_v6;
  if (config.max_frame == 0 || config.max_frame > max_payload) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": max_frame ", config.max_frame, " must be between 1 and ", max_payload,
        ", the largest UDP payload over ", local->family() == AF_INET ? "IPv4" : "IPv6"));
  }
  if (config.burst == 0 || config.burst > detail::udp_max_burst) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": burst ", config.burst,
                                                   " must be between 1 and ", detail::udp_max_burst,
                                                   " (UIO_MAXIOV)"));
  }

  const int fd = ::socket(local->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return absl::ErrnoToStatus(errno, "udp_port::open: socket");
  // Closes fd should the constructor's allocations throw; the port owns it after.
  struct fd_guard {
    int fd;
    ~fd_guard() {
      if (fd >= 0) ::close(fd);
    }
  } guard{fd};
  udp_port port(fd, local->family(), config.max_frame, config.burst);
  guard.fd = -1;

  const auto set_buffer = [&](int option, int bytes, absl::string_view name) -> absl::Status {
    if (bytes <= 0 || ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes) == 0)
      return absl::OkStatus();
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat(what, ": setting ", name, " to ", bytes));
  };
  if (auto s = set_buffer(SO_RCVBUF, config.receive_buffer_bytes, "SO_RCVBUF"); !s.ok()) return s;
  if (auto s = set_buffer(SO_SNDBUF, config.send_buffer_bytes, "SO_SNDBUF"); !s.ok()) return s;

  if (::bind(fd, local->get(), local->length) != 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error,
                               absl::StrCat(what, ": bind to ", detail::to_string(config.local),
                                            detail::socket_error_hint(error)));
  }
  if (config.remote.has_value()) {
    if (auto s = port.connect(*config.remote); !s.ok()) return s;
  }
  return port;
}

inline absl::Status udp_port::connect(const udp_endpoint& remote) {
  constexpr absl::string_view what = "udp_port::connect";
  auto address = detail::parse_endpoint(remote, what);
  if (!address.ok()) return address.status();
  if (address->family() != family_) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", detail::to_string(remote), " is ", family_ == AF_INET ? "IPv6" : "IPv4",
        " but the port's socket is ", family_ == AF_INET ? "IPv4" : "IPv6",
        "; bind the port to an address of the same family"));
  }
  if (remote.port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", detail::to_string(remote), " has port 0; give the peer's port"));
  }
  if (::connect(fd_, address->get(), address->length) != 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat(what, ": ", detail::to_string(remote),
                                                   detail::socket_error_hint(error)));
  }
  return absl::OkStatus();
}

inline absl::StatusOr<udp_endpoint> udp_port::local_endpoint() const {
  sockaddr_storage s{};
  socklen_t length = sizeof s;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&s), &length) != 0)
    return absl::ErrnoToStatus(errno, "udp_port::local_endpoint: getsockname");
  return detail::endpoint_of(s);
}

inline std::size_t udp_port::rx_burst(std::span<packet_view> out) noexcept {
  const auto want = static_cast<unsigned>(std::min<std::size_t>(out.size(), burst_));
  if (want == 0) return 0;
  detail::udp_rx_state& rx = state_->rx;
  const int got = ::recvmmsg(fd_, rx.msgs.data(), want, MSG_DONTWAIT, nullptr);
  if (got <= 0) {
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) rx.errors.add(1);
    return 0;
  }
  std::size_t delivered = 0;
  std::uint64_t bytes = 0;
  for (int i = 0; i < got; ++i) {
    const mmsghdr& m = rx.msgs[static_cast<std::size_t>(i)];
    if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      rx.dropped.add(1);
      continue;
    }
    out[delivered++] = packet_view{
        .bytes = {static_cast<const std::byte*>(m.msg_hdr.msg_iov->iov_base), m.msg_len}};
    bytes += m.msg_len;
  }
  rx.packets.add(delivered);
  rx.bytes.add(bytes);
  return delivered;
}

inline std::size_t udp_port::tx_burst(std::span<const std::span<const std::byte>> frames) noexcept {
  detail::udp_tx_state& tx = state_->tx;
  std::size_t taken = 0;  // frames consumed from `frames`: sent or dropped
  std::size_t sent = 0;
  std::uint64_t bytes = 0;
  bool resent = false;  // ECONNREFUSED is retried once per call
  while (taken < frames.size()) {
    // Up to burst_ sendable frames, skipping those longer than max_frame.
    std::size_t valid = 0;
    std::size_t scanned = taken;
    for (; scanned < frames.size() && valid < burst_; ++scanned) {
      const std::span<const std::byte> frame = frames[scanned];
      if (frame.size() > max_frame_) continue;
      // iovec is the same for reading and writing, hence not const; sendmmsg only reads.
      tx.iov[valid] = {.iov_base = const_cast<std::byte*>(frame.data()), .iov_len = frame.size()};
      tx.msgs[valid] = {};
      tx.msgs[valid].msg_hdr.msg_iov = &tx.iov[valid];
      tx.msgs[valid].msg_hdr.msg_iovlen = 1;
      tx.source[valid] = scanned;
      ++valid;
    }
    std::size_t accepted = 0;
    bool refused = false;  // the kernel refused the head frame with a lasting error
    if (valid > 0) {
      int n = ::sendmmsg(fd_, tx.msgs.data(), static_cast<unsigned>(valid), MSG_DONTWAIT);
      int error = n < 0 ? errno : 0;
      if (error == ECONNREFUSED && !resent) {
        // About an earlier datagram; reporting it cleared it, so the frame may go now.
        tx.errors.add(1);
        resent = true;
        n = ::sendmmsg(fd_, tx.msgs.data(), static_cast<unsigned>(valid), MSG_DONTWAIT);
        error = n < 0 ? errno : 0;
      }
      if (n > 0) accepted = static_cast<std::size_t>(n);
      if (n < 0 && error != EAGAIN && error != EWOULDBLOCK && error != ENOBUFS && error != EINTR) {
        tx.errors.add(1);
        refused = true;
      }
    }
    for (std::size_t i = 0; i < accepted; ++i)
      bytes += frames[tx.source[i]].size();
    // Done with everything scanned when all was sent; else up to the first unsent
    // frame, which includes oversize frames before it, or just past it when the
    // kernel refused it (counted in tx_errors, not tx_dropped).
    const std::size_t stop = accepted == valid ? scanned : tx.source[accepted] + (refused ? 1 : 0);
    const std::size_t skipped = stop - taken - accepted - (refused ? 1 : 0);
    if (skipped > 0) tx.dropped.add(skipped);
    sent += accepted;
    taken = stop;
    if (accepted < valid && !refused) break;
  }
  tx.packets.add(sent);
  tx.bytes.add(bytes);
  if (taken < frames.size()) tx.rejected.add(frames.size() - taken);
  return taken;
}

inline udp_port_stats udp_port::stats() const noexcept {
  const detail::udp_rx_state& rx = state_->rx;
  const detail::udp_tx_state& tx = state_->tx;
  return {
      .rx_packets = rx.packets.get(),
      .rx_bytes = rx.bytes.get(),
      .rx_dropped = rx.dropped.get(),
      .rx_errors = rx.errors.get(),
      .tx_packets = tx.packets.get(),
      .tx_bytes = tx.bytes.get(),
      .tx_rejected = tx.rejected.get(),
      .tx_dropped = tx.dropped.get(),
      .tx_errors = tx.errors.get(),
  };
}

}  // namespace innet::host
