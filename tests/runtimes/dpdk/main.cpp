// The DPDK suite's doctest main: doctest runs, then the test environment (EAL,
// veth pair) is torn down, and a run that skipped a test case for want of a
// kernel feature exits 77, which ctest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "environment.hpp"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  innet::dpdk::testing::teardown_test_environment();
  if (context.shouldExit()) return rc;
  return rc == 0 && innet::dpdk::testing::any_skipped() ? 77 : rc;
}
