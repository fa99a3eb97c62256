// XDP on a real interface: bpf/xdp_count.bpf.cpp attached to one end of a veth pair
// in a private network namespace (veth_namespace.hpp), frames sent from the other end
// with AF_PACKET, and the program's map counters, the UDP socket that should receive
// the passed frames and the one that should not receive the dropped ones checked
// against what was sent. Native and generic mode each get a case.
//
// Synchronisation is on real events: the passed datagrams are read with a blocking
// receive (bounded by SO_RCVTIMEO), and the counters are polled until they reach the
// expected values or a deadline passes. Frames leave xdp1 in order and reach xdp0's
// one receive queue in that order, so once the last passed datagram is in, every
// dropped frame (all sent before it) has been through the program.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>

#include <doctest/doctest.h>

#include "ebpf_testing.hpp"
#include "innet/ebpf/kernel_object.hpp"
#include "innet/ebpf/xdp_attachment.hpp"
#include "innet/net/udp_frame.hpp"
#include "innet_ebpf_test_xdp_count.skel.h"
#include "veth_namespace.hpp"

namespace {

using namespace innet::ebpf;
using namespace innet::ebpf::testing;

constexpr std::uint16_t drop_port = 7001;
constexpr std::uint16_t pass_port = 7002;
constexpr int frames_per_port = 100;

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct skeleton_destroyer {
  void operator()(innet_ebpf_test_xdp_count* s) const { innet_ebpf_test_xdp_count__destroy(s); }
};

// A UDP socket bound to xdp0's address and `port`; receives time out after 5 s.
int udp_listener(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(veth_namespace::xdp_side_ip);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  const timeval timeout{5, 0};
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
  // Room for every datagram of the test at once, whatever net.core.rmem_max says
  // (the test reads only after sending all). Root may exceed it; if not, the
  // default (some 200 small datagrams) still suffices.
  const int buffer = 1 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  return fd;
}

// Sends one UDP frame to xdp0 from xdp1 through `packet_fd`, payload = `sequence`.
void send_frame(int packet_fd, std::uint16_t port, std::uint32_t sequence) {
  std::array<std::byte, 64> frame{};
  std::array<std::byte, 4> payload{};
  std::memcpy(payload.data(), &sequence, sizeof sequence);
  const innet::net::udp_endpoints endpoints{.source_mac = veth_namespace::send_side_mac,
                                            .destination_mac = veth_namespace::xdp_side_mac,
                                            .source_ip = veth_namespace::send_side_ip,
                                            .destination_ip = veth_namespace::xdp_side_ip,
                                            .source_port = 40000,
                                            .destination_port = port};
  const auto length = innet::net::write_udp_frame(frame, endpoints, payload);
  REQUIRE(length.ok());
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = veth_namespace::ifindex(veth_namespace::send_side);
  to.sll_halen = ETH_ALEN;
  for (int i = 0; i < ETH_ALEN; ++i) {
    to.sll_addr[i] = static_cast<unsigned char>(veth_namespace::xdp_side_mac >> (8 * (5 - i)));
  }
  REQUIRE(::sendto(packet_fd, frame.data(), *length, 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to) == static_cast<ssize_t>(*length));
}

std::uint64_t counter(const innet_ebpf_test_xdp_count& skel, std::uint32_t slot) {
  std::uint64_t value = 0;
  REQUIRE(::bpf_map__lookup_elem(skel.maps.counters, &slot, sizeof slot, &value, sizeof value, 0) ==
          0);
  return value;
}

void count_and_drop(xdp_mode mode) {
  require_kernel_bpf();
  absl::StatusOr<veth_namespace> ns = veth_namespace::create();
  if (!ns.ok() && (absl::IsPermissionDenied(ns.status()) || absl::IsNotFound(ns.status()))) {
    skip(ns.status().ToString());
  }
  REQUIRE_MESSAGE(ns.ok(), ns.status().ToString());
  const int xdp_ifindex = veth_namespace::ifindex(veth_namespace::xdp_side);
  REQUIRE(xdp_ifindex > 0);

  // Declared before the skeleton: libbpf points at these until the object is closed.
  kernel_log_buffers logs;
  std::unique_ptr<innet_ebpf_test_xdp_count, skeleton_destroyer> skel(
      innet_ebpf_test_xdp_count__open());
  REQUIRE(skel != nullptr);
  skel->rodata->drop_port = drop_port;
  const absl::Status loaded = load_object(skel->obj, logs);
  REQUIRE_MESSAGE(loaded.ok(), loaded.ToString());
  const int program_fd = ::bpf_program__fd(skel->progs.count_udp);

  {
    xdp_attachment attachment = require_ok(xdp_attachment::attach(program_fd, xdp_ifindex, mode));
    // The interface is taken: a second program is refused, not swapped in.
    CHECK(xdp_attachment::attach(program_fd, xdp_ifindex, mode).status().code() ==
          absl::StatusCode::kFailedPrecondition);

    const fd_guard passed(udp_listener(pass_port));
    const fd_guard dropped(udp_listener(drop_port));
    const fd_guard packet(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    REQUIRE(packet.get() >= 0);

    for (std::uint32_t i = 0; i < frames_per_port; ++i)
      send_frame(packet.get(), drop_port, i);
    for (std::uint32_t i = 0; i < frames_per_port; ++i)
      send_frame(packet.get(), pass_port, i);

    for (std::uint32_t i = 0; i < frames_per_port; ++i) {
      std::uint32_t sequence = 0;
      const ssize_t n = ::recv(passed.get(), &sequence, sizeof sequence, 0);
      INFO("datagram ", i, ": ", n < 0 ? std::strerror(errno) : "received");
      REQUIRE(n == static_cast<ssize_t>(sizeof sequence));
      CHECK(sequence == i);
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((counter(*skel, 0) < frames_per_port || counter(*skel, 1) < frames_per_port) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    CHECK(counter(*skel, 0) == frames_per_port);
    CHECK(counter(*skel, 1) == frames_per_port);

    std::uint32_t unexpected = 0;
    CHECK(::recv(dropped.get(), &unexpected, sizeof unexpected, MSG_DONTWAIT) < 0);
    CHECK((errno == EAGAIN || errno == EWOULDBLOCK));

    const absl::Status detached = attachment.detach();
    CHECK_MESSAGE(detached.ok(), detached.ToString());
    CHECK_FALSE(attachment.attached());
  }
  std::uint32_t attached_id = 1;
  REQUIRE(::bpf_xdp_query_id(xdp_ifindex, 0, &attached_id) == 0);
  CHECK(attached_id == 0);
}

TEST_CASE("native XDP on a veth end counts every frame from its peer and drops one port") {
  count_and_drop(xdp_mode::native);
}

TEST_CASE("generic XDP on a veth end counts every frame from its peer and drops one port") {
  count_and_drop(xdp_mode::generic);
}

TEST_CASE("an xdp_attachment detaches when it goes out of scope") {
  require_kernel_bpf();
  absl::StatusOr<veth_namespace> ns = veth_namespace::create();
  if (!ns.ok() && (absl::IsPermissionDenied(ns.status()) || absl::IsNotFound(ns.status()))) {
    skip(ns.status().ToString());
  }
  REQUIRE_MESSAGE(ns.ok(), ns.status().ToString());
  const int ifindex = veth_namespace::ifindex(veth_namespace::xdp_side);
  kernel_log_buffers logs;
  std::unique_ptr<innet_ebpf_test_xdp_count, skeleton_destroyer> skel(
      innet_ebpf_test_xdp_count__open());
  REQUIRE(skel != nullptr);
  REQUIRE(load_object(skel->obj, logs).ok());
  {
    const xdp_attachment attachment = require_ok(xdp_attachment::attach(
        ::bpf_program__fd(skel->progs.count_udp), ifindex, xdp_mode::native));
    std::uint32_t id = 0;
    REQUIRE(::bpf_xdp_query_id(ifindex, 0, &id) == 0);
    CHECK(id != 0);
  }
  std::uint32_t id = 1;
  REQUIRE(::bpf_xdp_query_id(ifindex, 0, &id) == 0);
  CHECK(id == 0);
  // An interface that does not exist in this namespace is named as such.
  CHECK(xdp_attachment::attach(::bpf_program__fd(skel->progs.count_udp), 999999, xdp_mode::generic)
            .status()
            .code() == absl::StatusCode::kNotFound);
}

}  // namespace
