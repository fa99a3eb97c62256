#include "innet/rdma/detail/staging_ring.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <deque>
#include <random>
#include <vector>

using innet::rdma::detail::staging_ring;

TEST_CASE("an empty staging ring grants its whole capacity, and nothing more") {
  staging_ring ring(64);
  CHECK_FALSE(ring.acquire(65).has_value());
  CHECK_FALSE(ring.acquire(0).has_value());
  const auto g = ring.acquire(64);
  REQUIRE(g.has_value());
  CHECK(g->offset == 0);
  CHECK(g->charge == 64);
  CHECK_FALSE(ring.acquire(8).has_value());
  ring.release(g->charge);
  CHECK(ring.used() == 0);
  CHECK(ring.acquire(64).has_value());
}

TEST_CASE("a grant that does not fit before the end wraps to 0 and is charged the gap") {
  staging_ring ring(100);
  const auto a = ring.acquire(60);
  const auto b = ring.acquire(30);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(b->offset == 60);
  CHECK_FALSE(ring.acquire(50).has_value());  // 10 at the end, 0 at the start
  ring.release(a->charge);
  const auto c = ring.acquire(50);
  REQUIRE(c.has_value());
  CHECK(c->offset == 0);
  CHECK(c->charge == 10 + 50);
  CHECK(ring.used() == 30 + 60);
  CHECK_FALSE(ring.acquire(11).has_value());  // only [50, 60) is free
  const auto d = ring.acquire(10);
  REQUIRE(d.has_value());
  CHECK(d->offset == 50);
  ring.release(b->charge);
  ring.release(c->charge);
  ring.release(d->charge);
  CHECK(ring.used() == 0);
}

// Against a byte-occupancy model: grants never overlap a live grant, stay inside
// the buffer, and a request fails only when no contiguous free run could hold it
// without breaking FIFO order.
TEST_CASE("random FIFO traffic never overlaps live grants") {
  constexpr std::size_t capacity = 256;
  staging_ring ring(capacity);
  std::vector<int> owner(capacity, -1);
  struct live {
    int id;
    std::size_t offset, length, charge;
  };
  std::deque<live> fifo;
  std::mt19937 rng(12345);
  int next_id = 0;
  std::size_t granted = 0;
  for (int step = 0; step < 200'000; ++step) {
    if (!fifo.empty() && (rng() % 3 == 0)) {
      const live l = fifo.front();
      fifo.pop_front();
      for (std::size_t i = 0; i < l.length; ++i)
        owner[l.offset + i] = -1;
      ring.release(l.charge);
      continue;
    }
    const std::size_t length = 1 + rng() % 96;
    const auto g = ring.acquire(length);
    if (!g) {
      // Refusing is only right when the ring could not be empty-reset: a grant
      // can always be made into an empty ring.
      REQUIRE_FALSE(fifo.empty());
      continue;
    }
    REQUIRE(g->offset + length <= capacity);
    REQUIRE(g->charge >= length);
    for (std::size_t i = 0; i < length; ++i) {
      REQUIRE(owner[g->offset + i] == -1);
      owner[g->offset + i] = next_id;
    }
    fifo.push_back({next_id++, g->offset, length, g->charge});
    ++granted;
    std::size_t charged = 0;
    for (const live& l : fifo)
      charged += l.charge;
    REQUIRE(ring.used() == charged);
    REQUIRE(ring.used() <= capacity);
  }
  CHECK(granted > 50'000);
}
