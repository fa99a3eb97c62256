#include "innet/host/steady_clock.hpp"

#include <doctest/doctest.h>

TEST_CASE("steady_clock never goes backwards") {
  innet::host::steady_clock clock;
  std::uint64_t last = clock.now();
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t now = clock.now();
    REQUIRE(now >= last);
    last = now;
  }
}
