// Test scaffolding: a private network namespace holding one veth pair.
//
// enter_private_netns() moves the calling thread into a new, unnamed network
// namespace. Nothing but this process refers to it, so the kernel destroys it,
// and every link in it, when the process exits, however it exits: a crashed
// or killed test leaves nothing behind on the host. Call it before any other
// thread exists (before eal_init), so that every thread of the process, the
// EAL's lcore and interrupt threads included, lives in the namespace.
//
// veth_pair creates its two links with rtnetlink (the request `ip link add a
// type veth peer name b` sends) and deletes them on destruction. IPv6 is
// switched off in the namespace first, so the kernel sends nothing on the links
// by itself (no router solicitations, no DAD or MLD reports): every frame a
// test sees on them is one the test sent.
#pragma once

#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace innet::dpdk::testing {

namespace detail {

// One rtnetlink request: header, ifinfomsg, attributes, each NLMSG_ALIGNed.
class netlink_request {
 public:
  netlink_request(std::uint16_t type, std::uint16_t flags) {
    auto* header = reinterpret_cast<nlmsghdr*>(buffer_.data());
    header->nlmsg_type = type;
    header->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    length_ = NLMSG_HDRLEN;
  }

  void append(const void* data, std::size_t size) {
    std::memcpy(buffer_.data() + length_, data, size);
    length_ = NLMSG_ALIGN(length_ + size);
  }

  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    const rtattr attr{static_cast<std::uint16_t>(RTA_LENGTH(size)), type};
    const std::size_t start = length_;
    std::memcpy(buffer_.data() + start, &attr, sizeof attr);
    if (size > 0) std::memcpy(buffer_.data() + start + RTA_LENGTH(0), data, size);
    length_ = start + RTA_ALIGN(RTA_LENGTH(size));
  }
  void attribute(std::uint16_t type, absl::string_view text) {
    const std::string terminated(text);
    attribute(type, terminated.c_str(), terminated.size() + 1);
  }

  // Opens a nested attribute; close it with end_nested(offset).
  std::size_t begin_nested(std::uint16_t type) {
    const std::size_t start = length_;
    attribute(type, nullptr, 0);
    return start;
  }
  void end_nested(std::size_t start) {
    auto* attr = reinterpret_cast<rtattr*>(buffer_.data() + start);
    attr->rta_len = static_cast<std::uint16_t>(length_ - start);
  }

  // Sends the request and waits for the kernel's acknowledgement.
  absl::Status execute(absl::string_view what) {
    auto* header = reinterpret_cast<nlmsghdr*>(buffer_.data());
    header->nlmsg_len = static_cast<std::uint32_t>(length_);
    header->nlmsg_seq = 1;
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(what, ": netlink socket"));
    absl::Status status = exchange(fd, what);
    ::close(fd);
    return status;
  }

 private:
  absl::Status exchange(int fd, absl::string_view what) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, buffer_.data(), length_, 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof kernel) < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat(what, ": netlink send"));
    }
    alignas(nlmsghdr) std::array<std::byte, 4096> reply;
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat(what, ": netlink receive"));
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply.data());
    if (!NLMSG_OK(header, static_cast<unsigned>(n)) || header->nlmsg_type != NLMSG_ERROR) {
      return absl::InternalError(absl::StrCat(what, ": unexpected netlink reply"));
    }
    const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
    if (error->error != 0) return absl::ErrnoToStatus(-error->error, what);
    return absl::OkStatus();
  }

  alignas(nlmsghdr) std::array<std::byte, 1024> buffer_{};
  std::size_t length_ = 0;
};

inline absl::Status write_sysctl(const char* path, const char* value) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    // A kernel without IPv6 has nothing to switch off.
    return errno == ENOENT ? absl::OkStatus() : absl::ErrnoToStatus(errno, path);
  }
  const bool written = ::write(fd, value, std::strlen(value)) >= 0;
  const int error = errno;
  ::close(fd);
  return written ? absl::OkStatus() : absl::ErrnoToStatus(error, path);
}

}  // namespace detail

// Moves this thread into a new network namespace with IPv6 switched off.
inline absl::Status enter_private_netns() {
  if (::unshare(CLONE_NEWNET) != 0) {
    return absl::ErrnoToStatus(errno, "unshare(CLONE_NEWNET), which needs CAP_SYS_ADMIN");
  }
  // Per-namespace sysctls: these writes reach only the namespace just entered.
  for (const char* path : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                           "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
    if (absl::Status s = detail::write_sysctl(path, "1"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

class veth_pair {
 public:
  // Creates links `a` and `b`, up, in the caller's network namespace.
  static absl::StatusOr<veth_pair> create(std::string a, std::string b) {
    detail::netlink_request request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    // Created down: the kernel cannot open one end before the pair is joined.
    ifinfomsg link{};
    link.ifi_family = AF_UNSPEC;
    request.append(&link, sizeof link);
    request.attribute(IFLA_IFNAME, a);
    const std::size_t info = request.begin_nested(IFLA_LINKINFO);
    request.attribute(IFLA_INFO_KIND, "veth");
    const std::size_t data = request.begin_nested(IFLA_INFO_DATA);
    const std::size_t peer = request.begin_nested(VETH_INFO_PEER);
    request.append(&link, sizeof link);
    request.attribute(IFLA_IFNAME, b);
    request.end_nested(peer);
    request.end_nested(data);
    request.end_nested(info);
    if (absl::Status s = request.execute(absl::StrCat("create veth pair ", a, "/", b)); !s.ok())
      return s;
    veth_pair pair(std::move(a), std::move(b));
    for (const std::string* name : {&pair.a_, &pair.b_}) {
      if (absl::Status s = set_up(*name); !s.ok()) return s;
    }
    for (const std::string* name : {&pair.a_, &pair.b_}) {
      if (absl::Status s = wait_running(*name); !s.ok()) return s;
    }
    return pair;
  }

  veth_pair(veth_pair&& other) noexcept
      : a_(std::exchange(other.a_, std::string())), b_(std::exchange(other.b_, std::string())) {}
  veth_pair& operator=(veth_pair&& other) noexcept {
    if (this != &other) {
      if (!a_.empty()) (void)remove();
      a_ = std::exchange(other.a_, std::string());
      b_ = std::exchange(other.b_, std::string());
    }
    return *this;
  }
  veth_pair(const veth_pair&) = delete;
  veth_pair& operator=(const veth_pair&) = delete;
  ~veth_pair() {
    if (!a_.empty()) (void)remove();
  }

  const std::string& a() const noexcept { return a_; }
  const std::string& b() const noexcept { return b_; }

  // Deletes the pair (deleting one end deletes both).
  absl::Status remove() {
    ifinfomsg link{};
    link.ifi_family = AF_UNSPEC;
    link.ifi_index = static_cast<int>(::if_nametoindex(a_.c_str()));
    a_.clear();
    if (link.ifi_index == 0) return absl::NotFoundError("veth pair already gone");
    detail::netlink_request request(RTM_DELLINK, 0);
    request.append(&link, sizeof link);
    return request.execute("delete veth pair");
  }

 private:
  veth_pair(std::string a, std::string b) noexcept : a_(std::move(a)), b_(std::move(b)) {}

  static absl::Status set_up(const std::string& name) {
    ifinfomsg link{};
    link.ifi_family = AF_UNSPEC;
    link.ifi_index = static_cast<int>(::if_nametoindex(name.c_str()));
    link.ifi_flags = IFF_UP;
    link.ifi_change = IFF_UP;
    if (link.ifi_index == 0) return absl::ErrnoToStatus(errno, absl::StrCat("find ", name));
    detail::netlink_request request(RTM_NEWLINK, 0);
    request.append(&link, sizeof link);
    return request.execute(absl::StrCat("set ", name, " up"));
  }

  // Both ends up means carrier; the kernel reports it (IFF_RUNNING) once its
  // link-watch work has run. Poll for it, bounded, so the first frame of a test
  // does not race the link coming up.
  static absl::Status wait_running(const std::string& name) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::ErrnoToStatus(errno, "socket for SIOCGIFFLAGS");
    ifreq request{};
    name.copy(request.ifr_name, IFNAMSIZ - 1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool running = false;
    while (!running && std::chrono::steady_clock::now() < deadline) {
      running = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_RUNNING);
      if (!running) std::this_thread::yield();
    }
    ::close(fd);
    return running ? absl::OkStatus()
                   : absl::DeadlineExceededError(
                         absl::StrCat(name, " did not report carrier within 5 s"));
  }

  std::string a_;
  std::string b_;
};

}  // namespace innet::dpdk::testing
