#include "innet/dpdk/vdev.hpp"

#include <doctest/doctest.h>
#include <rte_ethdev.h>

#include <utility>

#include "environment.hpp"
#include "innet/dpdk/port.hpp"

namespace innet::dpdk {
namespace {

using testing::require_ok;
using testing::test_pool;
using testing::unique_name;

bool port_exists(const std::string& name) {
  std::uint16_t id = 0;
  return rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0;
}

TEST_CASE("a vdev creates a port that lives as long as it does") {
  mempool pool = test_pool();
  const std::string name = unique_name("net_null");
  {
    vdev dev = require_ok(vdev::create(name));
    CHECK(dev.name() == name);
    CHECK(port_exists(name));
    vdev moved = std::move(dev);
    CHECK(port_exists(name));  // the move removed nothing
    port null = require_ok(port::open(moved.name(), pool));
    CHECK(require_ok(null.link()).up);
  }  // the port goes first, then the device
  CHECK_FALSE(port_exists(name));
}

TEST_CASE("vdev::create explains what it refuses") {
  testing::test_environment();
  const auto unknown = vdev::create("net_nosuchdriver0");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("net_nosuchdriver0") != absl::string_view::npos);

  const auto bad_args = vdev::create(unique_name("net_af_packet"), "iface=no-such-interface");
  CHECK_FALSE(bad_args.ok());

  const std::string name = unique_name("net_null");
  vdev first = require_ok(vdev::create(name));
  const auto duplicate = vdev::create(name);
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.status().message().find("unique") != absl::string_view::npos);
}

}  // namespace
}  // namespace innet::dpdk
