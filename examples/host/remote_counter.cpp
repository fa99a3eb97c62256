// remote_counter: one process increments counters that live in another process's
// memory, through the host runtime's software RNIC. After registering its memory the
// server application runs no code at all: the RNIC's service thread executes every
// FETCH_ADD and READ.
//
//   $ build/default/examples/host/host_remote_counter
//
// The server is a forked child that registers 16 counters and then only waits. The
// client pipelines fetch_adds (counter i gets 100 * (i + 1) of them), reads the
// whole array back with one READ, and checks it; the server then prints what its
// own memory holds. The same client code runs on innet::rdma by changing the region
// type.
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "innet/host/soft_rnic.hpp"

namespace {

constexpr std::size_t counters = 16;

// How the child tells the parent where to find its counters.
struct advert {
  std::uint16_t port = 0;
  innet::host::soft_rnic_registration registration{};
};

// The server process: expose the counters, serve until the parent hangs up.
[[noreturn]] void serve(int advert_fd, int control_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::array<std::uint64_t, counters> words{};
  int exit_code = 1;
  {
    advert a;
    auto rnic = innet::host::soft_rnic::start();
    if (rnic.ok()) {
      const auto registration = (*rnic)->register_region(words);
      if (registration.ok()) a = {.port = (*rnic)->endpoint().port, .registration = *registration};
    }
    if (a.port == 0) std::fprintf(stderr, "server: could not start the soft RNIC\n");
    (void)!::write(advert_fd, &a, sizeof a);
    char c = 0;
    while (::read(control_fd, &c, 1) < 0 && errno == EINTR) {
    }
    if (a.port != 0) {
      std::printf("server: my memory now holds");
      for (std::uint64_t& w : words)
        std::printf(" %llu", static_cast<unsigned long long>(std::atomic_ref(w).load()));
      std::printf("\n");
      exit_code = 0;
    }
  }
  std::fflush(stdout);
  ::_exit(exit_code);
}

int run_client(const advert& a) {
  using namespace innet;
  auto region = host::soft_rnic_region<>::connect({.port = a.port}, a.registration, {.window = 32});
  if (!region.ok()) {
    std::fprintf(stderr, "client: %s\n", region.status().ToString().c_str());
    return 1;
  }

  std::vector<memory_op> ops;
  std::uint64_t expected_total = 0;
  for (std::size_t i = 0; i < counters; ++i) {
    for (std::size_t k = 0; k < 100 * (i + 1); ++k)
      ops.push_back(
          {.id = ops.size(), .opcode = memory_opcode::fetch_add, .offset = 8 * i, .operand = 1});
    expected_total += 100 * (i + 1);
  }

  const auto start = std::chrono::steady_clock::now();
  std::size_t posted = 0;
  std::size_t completed = 0;
  while (completed < ops.size()) {
    posted += region->post(std::span(ops).subspan(posted));
    std::array<memory_completion, 64> done{};
    const std::size_t n = region->poll(done);
    for (std::size_t k = 0; k < n; ++k) {
      if (done[k].status != errc::ok) {
        std::fprintf(stderr, "client: fetch_add %llu failed: %s\n",
                     static_cast<unsigned long long>(done[k].id), to_string(done[k].status));
        return 1;
      }
    }
    completed += n;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::array<std::uint64_t, counters> values{};
  if (const errc e = region->read(0, std::as_writable_bytes(std::span(values))); e != errc::ok) {
    std::fprintf(stderr, "client: read failed: %s\n", to_string(e));
    return 1;
  }
  std::printf("client: %zu remote fetch_adds in %.1f ms (%.0f per second, window 32)\n", ops.size(),
              seconds * 1e3, static_cast<double>(ops.size()) / seconds);
  std::printf("client: one READ of the counters returns");
  std::uint64_t total = 0;
  bool exact = true;
  for (std::size_t i = 0; i < counters; ++i) {
    std::printf(" %llu", static_cast<unsigned long long>(values[i]));
    total += values[i];
    exact = exact && values[i] == 100 * (i + 1);
  }
  std::printf("\nclient: total %llu, expected %llu: %s\n", static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(expected_total), exact ? "exact" : "WRONG");
  std::fflush(stdout);
  return exact ? 0 : 1;
}

}  // namespace

int main() {
  int advert_pipe[2];
  int control_pipe[2];
  if (::pipe(advert_pipe) != 0 || ::pipe(control_pipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    ::close(advert_pipe[0]);
    ::close(control_pipe[1]);
    serve(advert_pipe[1], control_pipe[0]);
  }
  ::close(advert_pipe[1]);
  ::close(control_pipe[0]);

  advert a;
  pollfd p{.fd = advert_pipe[0], .events = POLLIN, .revents = 0};
  const bool got = ::poll(&p, 1, 10'000) == 1 && ::read(advert_pipe[0], &a, sizeof a) == sizeof a;
  int rc = 1;
  if (got && a.port != 0) {
    std::printf("client: counters live in process %d at 127.0.0.1:%u, rkey %016llx\n", child,
                a.port, static_cast<unsigned long long>(a.registration.rkey));
    rc = run_client(a);
  } else {
    std::fprintf(stderr, "client: the server process did not start\n");
  }
  ::close(control_pipe[1]);  // the server prints its view and exits
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = 1;
  return rc;
}
