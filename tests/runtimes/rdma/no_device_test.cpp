// What a machine without an RDMA device sees: every entry point fails at once, with
// absl::StatusCode::kUnavailable and a message that says how to get a device. On a
// machine that has one, the same calls are checked to get past that point.
#include <infiniband/verbs.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "innet/rdma/device.hpp"
#include "innet/rdma/region_server.hpp"
#include "innet/rdma/remote_region.hpp"

namespace {

// Asked of libibverbs directly, independently of the runtime under test.
bool machine_has_rdma_device() {
  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list == nullptr) return false;
  ibv_free_device_list(list);
  return count > 0;
}

void check_says_how_to_get_a_device(const absl::Status& s) {
  INFO("status: " << s.ToString());
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  const std::string message(s.message());
  CHECK(message.find("no RDMA device") != std::string::npos);
  CHECK(message.find("rdma link add rxe0 type rxe netdev") != std::string::npos);
}

}  // namespace

TEST_CASE("device::open names the fix when there is no device") {
  const auto dev = innet::rdma::device::open();
  if (machine_has_rdma_device()) {
    CHECK(dev.ok());
  } else {
    REQUIRE_FALSE(dev.ok());
    check_says_how_to_get_a_device(dev.status());
  }
}

TEST_CASE("device::open of a name that does not exist fails") {
  const auto dev = innet::rdma::device::open("innet-no-such-device");
  REQUIRE_FALSE(dev.ok());
  if (machine_has_rdma_device()) {
    CHECK(dev.status().code() == absl::StatusCode::kNotFound);
  } else {
    check_says_how_to_get_a_device(dev.status());
  }
}

TEST_CASE("remote_region::connect fails fast instead of hanging") {
  const auto start = std::chrono::steady_clock::now();
  // Port 1 on loopback: nothing listens there even where a device exists.
  const auto region = innet::rdma::remote_region::connect(
      {.address = "127.0.0.1", .port = 1, .connect_timeout = std::chrono::milliseconds(2000)});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(region.ok());
  CHECK(elapsed < std::chrono::seconds(3));
  if (!machine_has_rdma_device()) check_says_how_to_get_a_device(region.status());
}

TEST_CASE("region_server::create fails fast without a device") {
  std::vector<std::uint64_t> words(512, 0);
  const auto server = innet::rdma::region_server::create(words, {});
  if (machine_has_rdma_device()) {
    CHECK(server.ok());
  } else {
    REQUIRE_FALSE(server.ok());
    check_says_how_to_get_a_device(server.status());
  }
}

TEST_CASE("bad region options are refused before anything is opened") {
  auto zero_window = innet::rdma::remote_region::connect(
      {.address = "127.0.0.1", .port = 1, .region = {.window = 0}});
  CHECK(zero_window.status().code() == absl::StatusCode::kInvalidArgument);
  auto odd_staging = innet::rdma::remote_region::connect(
      {.address = "127.0.0.1", .port = 1, .region = {.staging_bytes = 12}});
  CHECK(odd_staging.status().code() == absl::StatusCode::kInvalidArgument);
}
