#include "innet/core/clock.hpp"

#include <doctest/doctest.h>

TEST_CASE("manual_clock moves only forward and only when told") {
  innet::manual_clock c(100);
  CHECK(c.now() == 100);
  CHECK(c.now() == 100);
  c.advance(50);
  CHECK(c.now() == 150);
  c.advance_to(120);  // earlier: ignored
  CHECK(c.now() == 150);
  c.advance_to(1'000);
  CHECK(c.now() == 1'000);
}
