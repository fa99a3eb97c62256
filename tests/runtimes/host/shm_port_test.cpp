#include "innet/host/shm_port.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "conformance/packet_port_conformance.hpp"
#include "innet/host/shm_ring.hpp"

namespace {

using innet::packet_view;
using innet::host::shm_port;
using innet::host::shm_ring;
using frame_span = std::span<const std::byte>;

class unique_fd {
 public:
  explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

shm_ring create_ring(std::uint32_t slot_count, std::uint32_t max_frame) {
  auto ring = shm_ring::create({.slot_count = slot_count, .max_frame = max_frame});
  REQUIRE_MESSAGE(ring.ok(), ring.status().ToString());
  return std::move(*ring);
}

shm_ring attach_ring(int fd) {
  auto ring = shm_ring::attach(fd);
  REQUIRE_MESSAGE(ring.ok(), ring.status().ToString());
  return std::move(*ring);
}

// True once the parent has closed its end of the stop pipe (or written to it).
bool stop_requested(int stop_fd) {
  pollfd p{.fd = stop_fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) > 0;
}

// A forked child that runs `body(stop_fd)` and _exits with its result, so that the
// child never returns into doctest. The parent's guard closes the stop pipe and
// reaps the child on every path; a child that has not exited within the bound is
// killed, so a broken ring fails the test instead of hanging it.
class child_process {
 public:
  template <class Body>
  static child_process spawn(Body body) {
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(pipe_fds[1]);
      // Die with the parent, should it be killed before its guard runs.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::_exit(body(pipe_fds[0]));
    }
    ::close(pipe_fds[0]);
    return child_process(pid, pipe_fds[1]);
  }

  child_process(child_process&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), stop_(std::move(other.stop_)) {}
  child_process& operator=(child_process&&) = delete;
  ~child_process() {
    if (pid_ > 0) (void)finish(std::chrono::seconds(0));
  }

  // Asks the child to stop and returns its exit code; 128 + signal if it was killed.
  int finish(std::chrono::milliseconds bound = std::chrono::seconds(20)) {
    stop_.reset();
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      pollfd p{.fd = pidfd, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, static_cast<int>(bound.count())) == 0) ::kill(pid_, SIGKILL);
      ::close(pidfd);
    } else if (bound.count() == 0) {
      ::kill(pid_, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

 private:
  child_process(pid_t pid, int stop_fd) : pid_(pid), stop_(stop_fd) {}
  pid_t pid_;
  unique_fd stop_;
};

// Forwards every frame from rx to tx until told to stop: views lent by rx_burst go
// straight to tx_burst, which copies them, so the frames cross both rings untouched.
int echo_child(int stop_fd, int rx_fd, int tx_fd) {
  auto rx = shm_ring::attach(rx_fd);
  auto tx = shm_ring::attach(tx_fd);
  if (!rx.ok() || !tx.ok()) return 2;
  shm_port port(std::move(*rx), std::move(*tx));
  std::array<packet_view, 32> views{};
  std::array<frame_span, 32> spans{};
  for (;;) {
    const std::size_t n = port.rx_burst(views);
    if (n == 0) {
      if (stop_requested(stop_fd)) return 0;
      ::sched_yield();
      continue;
    }
    for (std::size_t i = 0; i < n; ++i)
      spans[i] = views[i].bytes;
    for (std::size_t sent = 0; sent < n;) {
      const std::size_t k = port.tx_burst(std::span(spans).subspan(sent, n - sent));
      if (k == 0) {
        if (stop_requested(stop_fd)) return 0;
        ::sched_yield();
      }
      sent += k;
    }
  }
}

struct exchange_result {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t mismatches = 0;
};

// Sends `total` sequence frames and receives `total` from the peer, interleaving
// the two on one thread so that neither side can fill both rings and stall.
exchange_result exchange_sequences(shm_port& port, std::uint64_t total,
                                   std::chrono::steady_clock::time_point deadline) {
  constexpr std::size_t burst = 32;
  std::array<std::array<std::byte, innet::conformance::sequence_frame_max>, burst> storage{};
  std::array<frame_span, burst> spans{};
  std::array<packet_view, burst> views{};
  exchange_result r;
  std::size_t pending = 0;  // frames in `spans` not yet accepted, starting at `offset`
  std::size_t offset = 0;
  for (std::uint64_t round = 0; r.sent < total || r.received < total; ++round) {
    if (pending == 0 && r.sent < total) {
      pending = static_cast<std::size_t>(std::min<std::uint64_t>(burst, total - r.sent));
      offset = 0;
      for (std::size_t i = 0; i < pending; ++i)
        spans[i] = innet::conformance::fill_sequence_frame(r.sent + i, storage[i]);
    }
    const std::size_t k = port.tx_burst(std::span(spans).subspan(offset, pending));
    offset += k;
    pending -= k;
    r.sent += k;
    const std::size_t n = port.rx_burst(views);
    for (std::size_t i = 0; i < n; ++i) {
      if (!innet::conformance::is_sequence_frame(r.received, views[i].bytes)) ++r.mismatches;
      ++r.received;
    }
    if (k == 0 && n == 0) {
      if ((round & 1023) == 0 && std::chrono::steady_clock::now() > deadline) break;
      ::sched_yield();
    }
  }
  return r;
}

// The bytes of a ring as created, to forge variants of.
std::vector<std::byte> ring_image(std::uint32_t slot_count, std::uint32_t max_frame) {
  const shm_ring ring = create_ring(slot_count, max_frame);
  std::vector<std::byte> image(ring.size());
  REQUIRE(::pread(ring.fd(), image.data(), image.size(), 0) == static_cast<ssize_t>(image.size()));
  return image;
}

// A memfd holding `image` (cut or zero-extended to `size` bytes), sealed like
// shm_ring::create seals unless told otherwise.
unique_fd forge(std::span<const std::byte> image, std::size_t size, bool seal = true) {
  unique_fd fd(::memfd_create("innet-forged-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  REQUIRE(fd.get() >= 0);
  REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(size)) == 0);
  const std::size_t n = std::min(image.size(), size);
  REQUIRE(::pwrite(fd.get(), image.data(), n, 0) == static_cast<ssize_t>(n));
  if (seal) REQUIRE(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
  return fd;
}

template <class T>
void put(std::vector<std::byte>& image, std::size_t offset, T value) {
  std::memcpy(image.data() + offset, &value, sizeof value);
}

template <class T>
T get(std::span<const std::byte> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// A second, raw mapping of a ring, standing in for a misbehaving peer.
class peer_mapping {
 public:
  peer_mapping(int fd, std::size_t size) : size_(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    base_ = static_cast<std::byte*>(p);
  }
  peer_mapping(const peer_mapping&) = delete;
  peer_mapping& operator=(const peer_mapping&) = delete;
  ~peer_mapping() {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  std::byte* get() const noexcept { return base_; }

 private:
  std::byte* base_ = nullptr;
  std::size_t size_;
};

void check_rejected(int fd, absl::StatusCode code, absl::string_view reason) {
  const auto ring = shm_ring::attach(fd);
  INFO("expected a rejection mentioning '" << std::string(reason) << "'");
  REQUIRE_FALSE(ring.ok());
  INFO(ring.status().ToString());
  CHECK(ring.status().code() == code);
  CHECK(ring.status().message().find(reason) != absl::string_view::npos);
}

}  // namespace

TEST_CASE("the shared region has the documented layout") {
  shm_ring ring = create_ring(8, 100);
  // By hand from the diagram: slot_size = 100 rounded up to 64 = 128; lengths at 384
  // take 8 * 4 = 32 bytes, so slots start at 416 rounded up to 128 = 512.
  CHECK(ring.size() == 512 + 8 * 128);
  struct stat st {};
  REQUIRE(::fstat(ring.fd(), &st) == 0);
  CHECK(st.st_size == 512 + 8 * 128);
  CHECK((::fcntl(ring.fd(), F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
        (F_SEAL_SHRINK | F_SEAL_GROW));

  const int fd = ring.fd();
  shm_ring other = create_ring(8, 100);
  shm_port port(std::move(other), std::move(ring));  // transmits into `ring`
  const auto frame = innet::conformance::numbered_frame(5, 77);
  const std::array<frame_span, 2> burst{frame_span(frame), frame_span(frame).first(3)};
  REQUIRE(port.tx_burst(burst) == 2);

  std::vector<std::byte> image(512 + 8 * 128);
  REQUIRE(::pread(fd, image.data(), image.size(), 0) == static_cast<ssize_t>(image.size()));
  CHECK(std::memcmp(image.data(), "INRG", 4) == 0);
  CHECK(get<std::uint16_t>(image, 4) == 1);
  CHECK(get<std::uint32_t>(image, 8) == 8);
  CHECK(get<std::uint32_t>(image, 12) == 100);
  CHECK(get<std::uint32_t>(image, 16) == 128);
  CHECK(get<std::uint64_t>(image, 24) == 512);
  CHECK(get<std::uint64_t>(image, 32) == 512 + 8 * 128);
  CHECK(get<std::uint64_t>(image, 128) == 2);  // produced
  CHECK(get<std::uint64_t>(image, 256) == 0);  // consumed
  CHECK(get<std::uint32_t>(image, 384) == 77);
  CHECK(get<std::uint32_t>(image, 388) == 3);
  CHECK(std::memcmp(image.data() + 512, frame.data(), frame.size()) == 0);
  CHECK(std::memcmp(image.data() + 512 + 128, frame.data(), 3) == 0);
}

TEST_CASE("shm_port passes the packet-port conformance suite between two mappings") {
  shm_ring ab = create_ring(128, 2048);
  shm_ring ba = create_ring(128, 2048);
  // The second end maps the same memfds again, at other addresses, as a peer would.
  shm_port b(attach_ring(ab.fd()), attach_ring(ba.fd()));
  shm_port a(std::move(ba), std::move(ab));
  innet::conformance::check_packet_port(a, b, "host::shm_port, one process", 2048);
}

TEST_CASE("shm_port passes the conformance suite through a forked child that echoes") {
  shm_ring ab = create_ring(64, 1500);
  shm_ring ba = create_ring(64, 1500);
  const int ab_fd = ab.fd();
  const int ba_fd = ba.fd();
  child_process child = child_process::spawn(
      [ab_fd, ba_fd](int stop_fd) { return echo_child(stop_fd, ab_fd, ba_fd); });
  {
    // Everything sent on ab comes back on ba, having crossed the process twice.
    shm_port port(std::move(ba), std::move(ab));
    innet::conformance::check_packet_port(port, port, "host::shm_port, echoing child", 1500);
  }
  CHECK(child.finish() == 0);
}

TEST_CASE("a parent and a forked child exchange a million frames each way in order") {
  constexpr std::uint64_t total = 1'000'000;
  shm_ring ab = create_ring(256, innet::conformance::sequence_frame_max);
  shm_ring ba = create_ring(512, innet::conformance::sequence_frame_max);
  const int ab_fd = ab.fd();
  const int ba_fd = ba.fd();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  child_process child = child_process::spawn([=](int) {
    auto rx = shm_ring::attach(ab_fd);
    auto tx = shm_ring::attach(ba_fd);
    if (!rx.ok() || !tx.ok()) return 2;
    shm_port port(std::move(*rx), std::move(*tx));
    const exchange_result r = exchange_sequences(port, total, deadline);
    return r.sent == total && r.received == total && r.mismatches == 0 ? 0 : 1;
  });
  shm_port port(std::move(ba), std::move(ab));
  const exchange_result r = exchange_sequences(port, total, deadline);
  CHECK(r.sent == total);
  CHECK(r.received == total);
  CHECK(r.mismatches == 0);
  CHECK(port.stats().rx_packets == total);
  CHECK(port.stats().tx_packets == total);
  CHECK(child.finish() == 0);
}

TEST_CASE("attach rejects a region it cannot trust") {
  const std::vector<std::byte> good = ring_image(16, 256);
  const std::size_t size = good.size();

  SUBCASE("an untouched copy is accepted") {
    const unique_fd fd = forge(good, size);
    const auto ring = shm_ring::attach(fd.get());
    REQUIRE_MESSAGE(ring.ok(), ring.status().ToString());
    CHECK(ring->slot_count() == 16);
    CHECK(ring->max_frame() == 256);
  }
  SUBCASE("a closed fd") {
    check_rejected(-1, absl::StatusCode::kInvalidArgument, "not open");
  }
  SUBCASE("a pipe") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const unique_fd r(fds[0]), w(fds[1]);
    check_rejected(r.get(), absl::StatusCode::kFailedPrecondition, "sealed");
  }
  SUBCASE("a memfd whose size is not sealed") {
    const unique_fd fd = forge(good, size, /*seal=*/false);
    check_rejected(fd.get(), absl::StatusCode::kFailedPrecondition, "sealed");
  }
  SUBCASE("a region shorter than the control block") {
    const unique_fd fd = forge(good, 100);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "control block");
  }
  SUBCASE("a region cut short after the header") {
    const unique_fd fd = forge(good, size - 256);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "truncated");
  }
  SUBCASE("a region longer than its header says") {
    const unique_fd fd = forge(good, size + 4096);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "truncated");
  }
  SUBCASE("zeroes instead of a header") {
    const unique_fd fd = forge({}, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "magic");
  }

  std::vector<std::byte> bad = good;
  SUBCASE("a wrong magic") {
    put<std::uint8_t>(bad, 3, 'X');
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "magic");
  }
  SUBCASE("a newer version") {
    put<std::uint16_t>(bad, 4, 2);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kFailedPrecondition, "version 2");
  }
  SUBCASE("a slot count that is not a power of two") {
    put<std::uint32_t>(bad, 8, 12);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "power of two");
  }
  SUBCASE("a zero max_frame") {
    put<std::uint32_t>(bad, 12, 0);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "max_frame");
  }
  SUBCASE("a max_frame that the slots cannot hold") {
    put<std::uint32_t>(bad, 12, 4096);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "inconsistent");
  }
  SUBCASE("a slot size that disagrees with max_frame") {
    put<std::uint32_t>(bad, 16, 64);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "inconsistent");
  }
  SUBCASE("a slots offset inside the control block") {
    put<std::uint64_t>(bad, 24, 128);
    const unique_fd fd = forge(bad, size);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "inconsistent");
  }
  SUBCASE("a region size that disagrees with the geometry") {
    put<std::uint64_t>(bad, 32, size * 2);
    const unique_fd fd = forge(bad, size * 2);
    check_rejected(fd.get(), absl::StatusCode::kInvalidArgument, "inconsistent");
  }
}

TEST_CASE("shm_ring::create refuses a bad geometry with a reason") {
  const auto ring = shm_ring::create({.slot_count = 100, .max_frame = 64});
  CHECK(ring.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ring.status().message().find("power of two") != absl::string_view::npos);
}

TEST_CASE("a corrupt peer garbles frames but cannot push a port outside its ring") {
  // The peer is a raw mapping of the same memfds, written through the documented
  // offsets: produced at 128, consumed at 256, lengths at 384, slots at 512 here.
  shm_ring rx = create_ring(8, 64);
  shm_ring tx = create_ring(8, 64);
  const std::size_t size = rx.size();
  REQUIRE(size == tx.size());
  const peer_mapping peer_rx_map(rx.fd(), size);
  const peer_mapping peer_tx_map(tx.fd(), size);
  std::byte* const peer_rx = peer_rx_map.get();
  std::byte* const peer_tx = peer_tx_map.get();
  shm_port port(std::move(rx), std::move(tx));
  const auto poke32 = [](std::byte* base, std::size_t offset, std::uint32_t v) {
    std::memcpy(base + offset, &v, sizeof v);
  };
  const auto poke64 = [](std::byte* base, std::size_t offset, std::uint64_t v) {
    std::memcpy(base + offset, &v, sizeof v);
  };
  std::array<packet_view, 32> views{};
  const auto all_in_bounds = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (views[i].bytes.size() > 64) return false;
      std::uint64_t sum = 0;  // touching every byte faults if a view left the mapping
      for (std::byte b : views[i].bytes)
        sum += static_cast<std::uint8_t>(b);
      (void)sum;
    }
    return true;
  };

  // Slot 0 claims 1000 bytes in a 64-byte slot; slot 1 is a proper 10-byte frame.
  poke32(peer_rx, 384, 1000);
  poke32(peer_rx, 388, 10);
  poke64(peer_rx, 128, 2);
  REQUIRE(port.rx_burst(views) == 1);
  CHECK(views[0].bytes.size() == 10);
  CHECK(port.stats().rx_dropped == 1);

  // A produced index a million frames ahead is clamped to the ring's eight slots.
  poke64(peer_rx, 128, 2 + 1'000'000);
  const std::size_t n = port.rx_burst(views);
  CHECK(n <= 8);
  CHECK(all_in_bounds(n));

  // A consumed index that runs ahead of produced leaves the producer no free slot
  // rather than an enormous number of them.
  poke64(peer_tx, 256, 1'000'000);
  const auto frame = innet::conformance::numbered_frame(1, 64);
  std::array<frame_span, 16> frames{};
  frames.fill(frame_span(frame));
  const std::size_t sent_ahead = port.tx_burst(frames);
  CHECK(sent_ahead <= 8);
  // And one far behind leaves at most the whole ring.
  poke64(peer_tx, 256, 0);
  poke64(peer_tx, 128, 0);
  CHECK(port.tx_burst(frames) <= 8);
}
