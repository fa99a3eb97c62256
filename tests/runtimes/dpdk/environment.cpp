#include "environment.hpp"

#include <sched.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"

namespace innet::dpdk::testing {
namespace {

std::unique_ptr<environment>& instance() {
  static std::unique_ptr<environment> env;
  return env;
}

std::atomic<bool> skipped{false};

// "0@<cpu>,1@<cpu>": lcores 0 and 1 on the first two CPUs of our affinity mask,
// so the tests run inside any cpuset (a container pinned to CPUs 6-7, say).
std::string two_lcores() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  int cpus[2] = {0, 0};
  int found = 0;
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) cpus[found++] = cpu;
    }
  }
  if (found == 1) cpus[1] = cpus[0];
  return absl::StrCat("0@", cpus[0], ",1@", cpus[1]);
}

}  // namespace

environment& test_environment() {
  std::unique_ptr<environment>& env = instance();
  if (env != nullptr) return *env;
  env = std::make_unique<environment>();
  // The namespace first: the EAL's threads must start inside it.
  env->netns = enter_private_netns();
  if (env->netns.ok()) env->veth = veth_pair::create("veth0", "veth1");
  env->eal = {.program_name = "innet_dpdk_tests",
              .lcores = two_lcores(),
              .log_level = "warning",
              .vdevs = {"net_ring0"}};
  require_ok(eal_init(env->eal));
  return *env;
}

void teardown_test_environment() {
  std::unique_ptr<environment>& env = instance();
  if (env == nullptr) return;
  env->veth = absl::CancelledError("torn down");
  if (eal_running()) {
    // After the run: doctest's assertions are no longer available.
    if (const absl::Status s = eal_cleanup(); !s.ok())
      std::fprintf(stderr, "test teardown: %s\n", s.ToString().c_str());
  }
  env.reset();
}

const veth_pair* require_veth() {
  environment& env = test_environment();
  if (!env.netns.ok()) {
    skip("the kernel refused a network namespace: " + env.netns.ToString());
    return nullptr;
  }
  REQUIRE_MESSAGE(env.veth.ok(), env.veth.status().ToString());
  return &*env.veth;
}

std::string unique_name(absl::string_view prefix) {
  static std::atomic<unsigned> next{0};
  return absl::StrCat(prefix, next++);
}

void skip(absl::string_view reason) {
  skipped = true;
  MESSAGE("skipped: " << std::string(reason));
}

bool any_skipped() {
  return skipped;
}

}  // namespace innet::dpdk::testing
