// peer_copy on one GPU: the same-device route, argument checks, moved-from objects.
// Needs a GPU: gpu_test_main.cpp skips without one. Copies between two GPUs are in
// peer_copy_multi_gpu_test.cu.
#include "innet/cuda/peer_copy.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "innet/cuda/device_memory_region.hpp"
#include "runtimes/cuda/test_support.hpp"

namespace {

using innet::errc;
using innet::cuda::device_memory_region;
using innet::cuda::peer_copy;
using innet::cuda::peer_route;
using innet::cuda::testing::value_or_stop;

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> bytes(n);
  for (std::size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<std::byte>((i * 2654435761U + seed) >> 7);
  return bytes;
}

}  // namespace

TEST_CASE("a copy within one device takes the same-device route and round-trips") {
  constexpr std::size_t size = (1 << 20) + 13;
  device_memory_region from = value_or_stop(device_memory_region::create(0, size));
  device_memory_region to = value_or_stop(device_memory_region::create(0, size));
  const std::vector<std::byte> bytes = pattern(size, 1);
  REQUIRE(from.write(0, bytes) == errc::ok);

  peer_copy copy = value_or_stop(peer_copy::open(0, 0));
  CHECK(copy.route() == peer_route::same_device);
  CHECK(copy.route_reason().empty());
  CHECK(copy.describe() == "device 0 -> device 0: same device");
  REQUIRE(copy.copy(to.device_data(), from.device_data(), size) == errc::ok);
  std::vector<std::byte> back(size);
  REQUIRE(to.read(0, back) == errc::ok);
  CHECK(back == bytes);
}

TEST_CASE("copy_async queues in order and synchronize waits for all of them") {
  constexpr std::size_t chunk = 4096, chunks = 64;
  device_memory_region from = value_or_stop(device_memory_region::create(0, chunk * chunks));
  device_memory_region to = value_or_stop(device_memory_region::create(0, chunk * chunks));
  const std::vector<std::byte> bytes = pattern(chunk * chunks, 2);
  REQUIRE(from.write(0, bytes) == errc::ok);
  peer_copy copy = value_or_stop(peer_copy::open(0, 0));
  // Reverse the chunk order, so a copy that landed in the wrong place shows.
  for (std::size_t i = 0; i < chunks; ++i) {
    REQUIRE(copy.copy_async(to.device_data() + (chunks - 1 - i) * chunk,
                            from.device_data() + i * chunk, chunk) == errc::ok);
  }
  REQUIRE(copy.copy_async(to.device_data(), from.device_data(), 0) == errc::ok);
  REQUIRE(copy.synchronize() == errc::ok);
  std::vector<std::byte> back(chunk * chunks);
  REQUIRE(to.read(0, back) == errc::ok);
  for (std::size_t i = 0; i < chunks; ++i) {
    INFO("chunk " << i);
    CHECK(std::equal(back.begin() + static_cast<std::ptrdiff_t>((chunks - 1 - i) * chunk),
                     back.begin() + static_cast<std::ptrdiff_t>((chunks - i) * chunk),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i * chunk)));
  }
}

TEST_CASE("peer_copy::open and enable_peer_access refuse devices that do not exist") {
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  const auto copy = peer_copy::open(0, count);
  REQUIRE_FALSE(copy.ok());
  CHECK(copy.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(copy.status().message() ==
        absl::StrCat("peer_copy::open: device ", count, " does not exist; ", count,
                     " CUDA device(s) are visible, ordinals 0 to ", count - 1));
  CHECK(innet::cuda::enable_peer_access(-1, 0).code() == absl::StatusCode::kInvalidArgument);
  CHECK(innet::cuda::enable_peer_access(0, 0).ok());
}

TEST_CASE("a moved-from peer_copy refuses work instead of using the default stream") {
  peer_copy a = value_or_stop(peer_copy::open(0, 0));
  peer_copy b(std::move(a));
  CHECK(b.stream() != nullptr);
  CHECK(a.stream() ==
        nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  std::byte byte{};
  CHECK(a.copy(&byte, &byte, 1) == errc::unavailable);
  CHECK(a.synchronize() == errc::unavailable);
  CHECK(b.synchronize() == errc::ok);
}
