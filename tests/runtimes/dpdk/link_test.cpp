// DPDK headers compile in C++20 under innet's warnings; the linked DPDK is the
// version pkg-config reported.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include <cstdio>
#include <string_view>

#include "innet/core/hash.hpp"

int main() {
  const std::string_view version = rte_version();  // "DPDK 22.11.11"
  std::printf("linked %s, expected %s\n", rte_version(), INNET_EXPECTED_VERSION);
  return version.ends_with(INNET_EXPECTED_VERSION) ? 0 : 1;
}
