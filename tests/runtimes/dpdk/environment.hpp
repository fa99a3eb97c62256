// The DPDK runtime's test environment: one per test process, because the EAL
// initialises once per process.
//
// Built on first use, so that listing the test cases (which ctest's discovery
// does at build time) touches neither namespaces nor the EAL:
//   1. a private network namespace holding the veth pair veth0/veth1
//      (netns.hpp): the af_packet tests' wire, gone when the process exits;
//   2. the EAL on lcores 0 and 1, mapped onto the first two CPUs this process
//      may run on (both onto one CPU on a one-CPU machine), with the vdev
//      net_ring0 (a loopback port opened by name).
// main() tears it down after the run. Each ctest test runs one test case in
// its own process, so they run in parallel without sharing anything.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "innet/dpdk/eal.hpp"
#include "innet/dpdk/mempool.hpp"
#include "netns.hpp"

namespace innet::dpdk::testing {

struct environment {
  eal_params eal;
  // Entering the private namespace; when the kernel refused, tests that need
  // the veth pair skip.
  absl::Status netns = absl::OkStatus();
  absl::StatusOr<veth_pair> veth = absl::UnknownError("no network namespace");
};

// The environment, built on the first call; fails the running test case if the
// EAL cannot start.
environment& test_environment();

// The veth pair; or null, after marking the running test case skipped, when
// the kernel refused the network namespace. A namespace without a working veth
// pair fails the test case: that is a bug, not a missing feature.
const veth_pair* require_veth();

// Removes the veth pair and cleans the EAL up, if they were built.
void teardown_test_environment();

// "<prefix><n>", unique in the process: DPDK names mempools, rings and devices
// per process, and doctest runs a test case once per subcase.
std::string unique_name(absl::string_view prefix);

// Marks the running test case as skipped; main() exits 77 (ctest: skipped)
// when a run skipped something and failed nothing.
void skip(absl::string_view reason);
bool any_skipped();

// The value of an ok StatusOr; fails the test case with the status otherwise.
template <class T>
T require_ok(absl::StatusOr<T> value) {
  REQUIRE_MESSAGE(value.ok(), value.status().ToString());
  return std::move(*value);
}

inline void require_ok(const absl::Status& status) {
  REQUIRE_MESSAGE(status.ok(), status.ToString());
}

// A pool of `mbufs` default-sized mbufs with a unique name. Small pools have no
// per-lcore cache, so that what a test counts is exactly what the pool holds.
inline mempool test_pool(unsigned mbufs = 4095) {
  test_environment();
  return require_ok(mempool::create(
      {.name = unique_name("pool"), .mbufs = mbufs, .cache_size = mbufs >= 1023 ? 256U : 0U}));
}

}  // namespace innet::dpdk::testing
