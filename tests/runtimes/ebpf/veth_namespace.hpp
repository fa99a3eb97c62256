// Test scaffolding: the calling thread in a private network namespace holding one
// veth pair, for the XDP test.
//
//   xdp0  02:00:00:00:00:01  10.201.0.1/24   where the test attaches XDP and listens
//   xdp1  02:00:00:00:00:02  (no address)    where the test sends raw frames from
//
// The namespace is unnamed: only this thread (and the sockets the test opens in it)
// refer to it, so when the thread moves back to its original namespace and the
// sockets close, the kernel destroys it with both links. A test that fails or
// crashes half-way leaves nothing on the host. The links are configured with
// iproute2's `ip`, run as a child process, which inherits the thread's namespace.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace innet::ebpf::testing {

class veth_namespace {
 public:
  static constexpr const char* xdp_side = "xdp0";
  static constexpr const char* send_side = "xdp1";
  static constexpr std::uint64_t xdp_side_mac = 0x020000000001;
  static constexpr std::uint64_t send_side_mac = 0x020000000002;
  static constexpr std::uint32_t xdp_side_ip = 0x0AC90001;   // 10.201.0.1
  static constexpr std::uint32_t send_side_ip = 0x0AC90002;  // 10.201.0.2

  // PermissionDenied without CAP_SYS_ADMIN, NotFound without iproute2: both are
  // reasons to skip, anything else is a failure.
  static absl::StatusOr<veth_namespace> create() {
    const int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) return absl::ErrnoToStatus(errno, "opening /proc/thread-self/ns/net");
    if (::unshare(CLONE_NEWNET) != 0) {
      const int error = errno;
      ::close(original);
      return absl::ErrnoToStatus(error, "unshare(CLONE_NEWNET), which needs CAP_SYS_ADMIN");
    }
    veth_namespace ns(original);
    const std::vector<std::vector<std::string>> commands = {
        {"link", "add", xdp_side, "address", "02:00:00:00:00:01", "type", "veth", "peer", "name",
         send_side, "address", "02:00:00:00:00:02"},
        {"addr", "add", "10.201.0.1/24", "dev", xdp_side},
        {"link", "set", xdp_side, "up"},
        {"link", "set", send_side, "up"},
    };
    for (const auto& command : commands) {
      if (absl::Status s = ip(command); !s.ok()) return s;
    }
    return ns;
  }

  veth_namespace(veth_namespace&& other) noexcept : original_(std::exchange(other.original_, -1)) {}
  veth_namespace& operator=(veth_namespace&&) = delete;
  veth_namespace(const veth_namespace&) = delete;
  ~veth_namespace() {
    if (original_ < 0) return;
    // Cannot fail for a namespace this thread was in a moment ago; if it did, the
    // thread would stay in the private one, which the next case would notice.
    (void)::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }

  static int ifindex(const char* name) { return static_cast<int>(::if_nametoindex(name)); }

 private:
  explicit veth_namespace(int original) : original_(original) {}

  // Runs `ip <args>` and returns its output in the Status if it fails.
  static absl::Status ip(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::string program = "ip";
    argv.push_back(program.data());
    std::vector<std::string> copies = args;
    for (std::string& a : copies)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    pid_t pid = 0;
    const int spawn_error = ::posix_spawnp(&pid, "ip", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    const std::string command = absl::StrCat("ip ", absl::StrJoin(args, " "));
    if (spawn_error != 0) {
      ::close(pipe_fds[0]);
      return spawn_error == ENOENT
                 ? absl::NotFoundError(absl::StrCat(command, ": iproute2's ip is not installed"))
                 : absl::ErrnoToStatus(spawn_error, command);
    }
    std::string output;
    char buffer[512];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(command, " failed: ", output));
  }

  int original_ = -1;
};

}  // namespace innet::ebpf::testing
