#include "innet/dpdk/mempool.hpp"

#include <doctest/doctest.h>
#include <rte_mbuf.h>

#include <utility>

#include "environment.hpp"

namespace innet::dpdk {
namespace {

using testing::require_ok;
using testing::unique_name;

TEST_CASE("a mempool counts what it lends and takes it back") {
  testing::test_environment();
  mempool pool =
      require_ok(mempool::create({.name = unique_name("pool"), .mbufs = 511, .cache_size = 0}));
  CHECK(pool.available() == 511);
  CHECK(pool.in_use() == 0);
  CHECK(pool.max_frame() == RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM);

  rte_mbuf* m = rte_pktmbuf_alloc(pool.get());
  REQUIRE(m != nullptr);
  CHECK(pool.in_use() == 1);
  rte_pktmbuf_free(m);
  CHECK(pool.in_use() == 0);

  mempool moved = std::move(pool);
  CHECK(moved.available() == 511);
  CHECK(pool.get() ==
        nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
}

TEST_CASE("mempool::create explains what it refuses") {
  testing::test_environment();
  const std::string name = unique_name("pool");
  mempool first = require_ok(mempool::create({.name = name, .mbufs = 63, .cache_size = 0}));

  const auto duplicate = mempool::create({.name = name, .mbufs = 63, .cache_size = 0});
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.status().message().find("unique") != absl::string_view::npos);

  const auto no_room =
      mempool::create({.name = unique_name("pool"), .data_room = RTE_PKTMBUF_HEADROOM});
  CHECK(no_room.status().code() == absl::StatusCode::kInvalidArgument);

  // 600 MB of mbufs do not fit the 256 MB the test EAL has.
  const auto huge =
      mempool::create({.name = unique_name("pool"), .mbufs = (1U << 18) - 1, .cache_size = 0});
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message().find("memory_mb") != absl::string_view::npos);
}

}  // namespace
}  // namespace innet::dpdk
