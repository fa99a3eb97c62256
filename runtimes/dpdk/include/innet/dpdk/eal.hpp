// EAL bootstrap: one explicit parameter struct, one initialisation per process.
//
// DPDK's Environment Abstraction Layer (memory, lcore threads, buses, drivers)
// can be initialised once per process, and never again after rte_eal_cleanup().
// rte_eal_init() itself answers a second call with EALREADY and keeps whatever
// the first call configured, so two components that each believe they own the
// EAL silently disagree about memory, lcores and devices. eal_init() makes the
// rule explicit instead:
//
//   state          eal_init(p)                        eal_cleanup()
//   not started    rte_eal_init(eal_arguments(p))     FailedPrecondition
//   running(q)     OK if p == q, else                 rte_eal_cleanup(), then
//                  FailedPrecondition naming both      removes the runtime dir
//   cleaned up     FailedPrecondition                 OK (nothing to do)
//
// A failed rte_eal_init() leaves the state "not started": DPDK allows a retry
// after argument errors and reports EALREADY itself when it does not.
//
// The defaults suit a machine without hugepages or NICs bound to DPDK (a laptop,
// a CI runner, a container): anonymous memory, no PCI scan, no shared config for
// secondary processes, no telemetry socket, and a file prefix unique to the
// process so that concurrent programs never share a runtime directory. Ports
// come from virtual devices (vdevs) that the caller lists, or that are created
// later with innet::dpdk::vdev.
#pragma once

#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace innet::dpdk {

struct eal_params {
  // argv[0]; the EAL logs to syslog under this name.
  std::string program_name = "innet";
  // --lcores: "0", "0,1", "0-3", "0@2,1@3" (lcore 0 on CPU 2, lcore 1 on CPU 3).
  // Empty: the EAL default, one lcore per CPU the process may run on.
  std::string lcores{};
  // false: --no-huge, memory comes from anonymous pages (memory_mb of them).
  bool hugepages = false;
  // -m: megabytes the EAL reserves; mempools and rings come out of it.
  unsigned memory_mb = 256;
  // false: --no-pci, no scan and no probe of PCI devices.
  bool pci = false;
  // false: --no-shconf, no files for secondary processes to attach to.
  bool shared_config = false;
  // false: --no-telemetry, no telemetry socket in the runtime directory.
  bool telemetry = false;
  // --file-prefix. Empty: "innet-<pid>".
  std::string file_prefix{};
  // --log-level: a level ("notice", "debug") or "<type regex>:<level>"; empty
  // keeps DPDK's default, which prints every probed device at info level.
  std::string log_level = "notice";
  // One --vdev each: "net_ring0", "net_null0", "net_af_packet0,iface=veth0".
  std::vector<std::string> vdevs{};
  // Appended last, verbatim, for options this struct does not name.
  std::vector<std::string> extra_args{};

  friend bool operator==(const eal_params&, const eal_params&) = default;
};

// The argument vector eal_init() passes to rte_eal_init(), argv[0] first.
inline std::vector<std::string> eal_arguments(const eal_params& params) {
  std::vector<std::string> args{params.program_name.empty() ? "innet" : params.program_name};
  if (!params.lcores.empty()) args.push_back(absl::StrCat("--lcores=", params.lcores));
  if (!params.hugepages) args.emplace_back("--no-huge");
  args.push_back(absl::StrCat("-m", params.memory_mb));
  if (!params.pci) args.emplace_back("--no-pci");
  if (!params.shared_config) args.emplace_back("--no-shconf");
  if (!params.telemetry) args.emplace_back("--no-telemetry");
  args.push_back(absl::StrCat("--file-prefix=", params.file_prefix.empty()
                                                    ? absl::StrCat("innet-", ::getpid())
                                                    : params.file_prefix));
  if (!params.log_level.empty()) args.push_back(absl::StrCat("--log-level=", params.log_level));
  for (const std::string& vdev : params.vdevs)
    args.push_back(absl::StrCat("--vdev=", vdev));
  args.insert(args.end(), params.extra_args.begin(), params.extra_args.end());
  return args;
}

namespace detail {

enum class eal_state { not_started, running, cleaned_up };

struct eal_registry {
  std::mutex mutex;
  eal_state state = eal_state::not_started;
  eal_params params;
  std::vector<std::string> arguments;  // what rte_eal_init() was given, for messages
  // The strings and the pointer array of the last rte_eal_init() call: getopt
  // permutes the array, and the EAL may keep pointers into it for the life of the
  // process.
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
};

inline eal_registry& eal_registry_instance() {
  static eal_registry registry;
  return registry;
}

inline const char* eal_init_hint(int error) {
  switch (error) {
    case EACCES:
      return "run as root (or with CAP_SYS_ADMIN, CAP_IPC_LOCK and CAP_NET_RAW)";
    case ENOMEM:
      return "lower the mempool sizes or raise eal_params::memory_mb";
    case EALREADY:
      return "the EAL was initialised in this process without innet::dpdk::eal_init";
    case EINVAL:
      return "an argument was rejected; the EAL log above names it";
    case ENODEV:
    case ENOEXEC:
      return "a device or service core failed to start; the EAL log above names it";
    default:
      return "the EAL log above says which step failed";
  }
}

}  // namespace detail

// Initialises the EAL, or confirms that it already runs with the same params.
inline absl::Status eal_init(const eal_params& params) {
  detail::eal_registry& registry = detail::eal_registry_instance();
  const std::lock_guard lock(registry.mutex);
  switch (registry.state) {
    case detail::eal_state::running:
      if (registry.params == params) return absl::OkStatus();
      return absl::FailedPreconditionError(
          absl::StrCat("the DPDK EAL already runs with [", absl::StrJoin(registry.arguments, " "),
                       "] and initialises once per process; requested [",
                       absl::StrJoin(eal_arguments(params), " "),
                       "]: share one eal_params between the components of this program"));
    case detail::eal_state::cleaned_up:
      return absl::FailedPreconditionError(
          "the DPDK EAL was cleaned up and cannot be initialised again in this process");
    case detail::eal_state::not_started:
      break;
  }

  std::vector<std::string> arguments = eal_arguments(params);
  registry.argv_storage = arguments;
  registry.argv.clear();
  for (std::string& argument : registry.argv_storage)
    registry.argv.push_back(argument.data());
  registry.argv.push_back(nullptr);
  if (::rte_eal_init(static_cast<int>(arguments.size()), registry.argv.data()) < 0) {
    const int error = rte_errno;
    return {absl::ErrnoToStatusCode(error),
            absl::StrCat("rte_eal_init([", absl::StrJoin(arguments, " "),
                         "]) failed: ", ::rte_strerror(error), "; ", detail::eal_init_hint(error))};
  }
  registry.state = detail::eal_state::running;
  registry.params = params;
  registry.arguments = std::move(arguments);
  return absl::OkStatus();
}

// True between a successful eal_init() and eal_cleanup().
inline bool eal_running() {
  detail::eal_registry& registry = detail::eal_registry_instance();
  const std::lock_guard lock(registry.mutex);
  return registry.state == detail::eal_state::running;
}

// Releases the EAL's memory and threads. Every mempool, ring and port must be
// gone first: their memory belongs to the EAL. The runtime directory
// (/var/run/dpdk/<file prefix>) is removed when the EAL left it empty, which it
// does with the default shared_config = false and telemetry = false.
inline absl::Status eal_cleanup() {
  detail::eal_registry& registry = detail::eal_registry_instance();
  const std::lock_guard lock(registry.mutex);
  switch (registry.state) {
    case detail::eal_state::not_started:
      return absl::FailedPreconditionError("eal_cleanup() without a successful eal_init()");
    case detail::eal_state::cleaned_up:
      return absl::OkStatus();
    case detail::eal_state::running:
      break;
  }
  const std::string runtime_dir = ::rte_eal_get_runtime_dir();
  registry.state = detail::eal_state::cleaned_up;
  if (const int rc = ::rte_eal_cleanup(); rc != 0) {
    // 22.11 returns -1 and sets rte_errno; other releases return -errno.
    const int error = rc == -1 ? rte_errno : -rc;
    return absl::InternalError(
        absl::StrCat("rte_eal_cleanup() failed: ", ::rte_strerror(error),
                     "; some EAL resources stay allocated until the process exits"));
  }
  ::rmdir(runtime_dir.c_str());  // fails, harmlessly, when something else lives there
  return absl::OkStatus();
}

}  // namespace innet::dpdk
