// Small POSIX helpers shared by both ends of the software RNIC: an owning file
// descriptor, IPv4 UDP sockets, and unguessable 64-bit numbers (rkeys, sessions).
//
// Errors are absl::Status because everything here runs at setup time; the hot paths
// in soft_rnic.hpp call the system directly and map failures to errc.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace innet::host::detail {

// Closes its descriptor on destruction; move-only.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

inline std::string errno_text(int error) {
  return std::system_category().message(error);
}

// "a.b.c.d:port" for messages; address and port in host byte order.
inline std::string endpoint_text(std::uint32_t address, std::uint16_t port) {
  return absl::StrCat((address >> 24) & 0xFF, ".", (address >> 16) & 0xFF, ".",
                      (address >> 8) & 0xFF, ".", address & 0xFF, ":", port);
}

inline sockaddr_in to_sockaddr(std::uint32_t address, std::uint16_t port) noexcept {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address);
  sa.sin_port = htons(port);
  return sa;
}

// A non-blocking IPv4 UDP socket bound to address:port (port 0: the kernel picks).
inline absl::StatusOr<unique_fd> open_udp_socket(std::uint32_t address, std::uint16_t port) {
  unique_fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return absl::UnavailableError(
        absl::StrCat("soft RNIC: cannot create a UDP socket: ", errno_text(errno)));
  }
  const sockaddr_in sa = to_sockaddr(address, port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int error = errno;  // before endpoint_text allocates
    return absl::UnavailableError(
        absl::StrCat("soft RNIC: cannot bind a UDP socket to ", endpoint_text(address, port), ": ",
                     errno_text(error), "; choose another address or port"));
  }
  return fd;
}

// The port the kernel bound `fd` to.
inline absl::StatusOr<std::uint16_t> bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t length = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) {
    return absl::InternalError(absl::StrCat("soft RNIC: getsockname failed: ", errno_text(errno)));
  }
  return ntohs(sa.sin_port);
}

// Asks for a receive buffer of `bytes`; the kernel may grant less (net.core.rmem_max),
// which only costs drops that retransmission repairs, so failure is not an error.
inline void request_receive_buffer(int fd, std::size_t bytes) noexcept {
  const int value = bytes > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(bytes);
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof value);
}

// 64 bits from the kernel's CSPRNG: rkeys and session ids must not be guessable by
// another process, so a seeded generator will not do. Never returns 0, so that a
// zero-initialised registration or session never names a live one.
inline absl::StatusOr<std::uint64_t> unguessable_u64() {
  for (;;) {
    std::uint64_t value = 0;
    const ssize_t n = ::getrandom(&value, sizeof value, 0);
    if (n == static_cast<ssize_t>(sizeof value)) {
      if (value != 0) return value;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return absl::InternalError(
        absl::StrCat("soft RNIC: getrandom failed: ", errno_text(n < 0 ? errno : EIO)));
  }
}

}  // namespace innet::host::detail
