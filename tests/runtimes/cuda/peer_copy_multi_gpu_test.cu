// Copies between two GPUs, and regions on a device other than the current one. Needs two
// GPUs: gpu_test_main.cpp (built with INNET_CUDA_TEST_DEVICES=2) skips with fewer.
#include "innet/cuda/peer_copy.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "innet/cuda/capabilities.hpp"
#include "innet/cuda/device_memory_region.hpp"
#include "runtimes/cuda/test_support.hpp"

namespace {

using innet::errc;
using innet::cuda::device_memory_region;
using innet::cuda::peer_copy;
using innet::cuda::peer_route;
using innet::cuda::testing::value_or_stop;

int device_count() {
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  return count;
}

bool hardware_peer_path(int a, int b) {
  int forward = 0, backward = 0;
  REQUIRE(cudaDeviceCanAccessPeer(&forward, a, b) == cudaSuccess);
  REQUIRE(cudaDeviceCanAccessPeer(&backward, b, a) == cudaSuccess);
  return forward != 0 && backward != 0;
}

}  // namespace

TEST_CASE("copies between every pair of the first four devices round-trip on the route offered") {
  constexpr std::size_t size = (4 << 20) + 13;
  const int devices = std::min(device_count(), 4);
  std::vector<device_memory_region> regions;
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::byte>((i * 2654435761U) >> 11);
  for (int d = 0; d < devices; ++d)
    regions.push_back(value_or_stop(device_memory_region::create(d, size)));
  for (int from = 0; from < devices; ++from) {
    for (int to = 0; to < devices; ++to) {
      if (from == to) continue;
      peer_copy copy = value_or_stop(peer_copy::open(from, to));
      MESSAGE(copy.describe());
      INFO(copy.describe());
      if (hardware_peer_path(from, to)) {
        CHECK(copy.route() == peer_route::direct);
        CHECK(copy.route_reason().empty());
      } else {
        CHECK(copy.route() == peer_route::staged_through_host);
        CHECK_FALSE(copy.route_reason().empty());
      }
      const std::size_t f = static_cast<std::size_t>(from), t = static_cast<std::size_t>(to);
      REQUIRE(regions[f].write(0, bytes) == errc::ok);
      REQUIRE(regions[t].write(0, std::vector<std::byte>(size)) == errc::ok);
      REQUIRE(copy.copy(regions[t].device_data(), regions[f].device_data(), size) == errc::ok);
      std::vector<std::byte> back(size);
      REQUIRE(regions[t].read(0, back) == errc::ok);
      CHECK(back == bytes);
    }
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("the probe's peer matrix agrees with the routes peer_copy takes") {
  const innet::cuda::capabilities caps = value_or_stop(innet::cuda::probe());
  peer_copy copy = value_or_stop(peer_copy::open(0, 1));
  CHECK((copy.route() == peer_route::direct) == (caps.peer(0, 1).access && caps.peer(1, 0).access));
}

TEST_CASE("a region on device 1 works while device 0 is current, and leaves it current") {
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  device_memory_region region = value_or_stop(device_memory_region::create(1, 4096));
  CHECK(region.device() == 1);
  cudaPointerAttributes attributes{};
  REQUIRE(cudaPointerGetAttributes(&attributes, region.device_data()) == cudaSuccess);
  CHECK(attributes.device == 1);
  int current = -1;
  REQUIRE(cudaGetDevice(&current) == cudaSuccess);
  CHECK(current == 0);

  const std::array<std::byte, 4> bytes{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  CHECK(region.write(100, bytes) == errc::ok);
  std::array<std::byte, 4> back{};
  CHECK(region.read(100, back) == errc::ok);
  CHECK(back == bytes);
  CHECK(*region.fetch_add(8, 5) == 0);
  CHECK(*region.compare_swap(8, 5, 6) == 5);
  const std::array<innet::memory_op, 1> op{
      {{.id = 1, .opcode = innet::memory_opcode::fetch_add, .offset = 8, .operand = 1}}};
  REQUIRE(region.post(op) == 1);
  std::array<innet::memory_completion, 1> out{};
  for (int round = 0; round < 1000 && region.poll(out) == 0; ++round)
    REQUIRE(cudaStreamSynchronize(region.stream()) == cudaSuccess);
  CHECK(out[0].old_value == 6);
  REQUIRE(cudaGetDevice(&current) == cudaSuccess);
  CHECK(current == 0);
}
