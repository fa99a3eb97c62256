#include "innet/cuda/capabilities.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

// Two devices as an H100 + A100 machine would report them; the link 0 -> 1 has native
// atomics, 1 -> 0 only access.
innet::cuda::capabilities two_devices() {
  innet::cuda::capabilities caps;
  caps.driver_version = 13000;
  caps.runtime_version = 12080;
  caps.devices = {
      {.ordinal = 0,
       .name = "NVIDIA H100 80GB HBM3",
       .compute_major = 9,
       .compute_minor = 0,
       .global_memory_bytes = 85'520'809'984,  // 79.65 GiB
       .multiprocessor_count = 132,
       .pci_bus_id = "00000000:1B:00.0",
       .host_numa_node = 0,
       .can_map_host_memory = true,
       .gpu_direct_rdma = true},
      {.ordinal = 1,
       .name = "NVIDIA A100-SXM4-40GB",
       .compute_major = 8,
       .compute_minor = 0,
       .global_memory_bytes = 42'505'273'344,  // 39.59 GiB
       .multiprocessor_count = 108,
       .pci_bus_id = "00000000:3D:00.0",
       .host_numa_node = 1,
       .can_map_host_memory = true,
       .gpu_direct_rdma = false},
  };
  caps.peers.resize(4);
  caps.peers[1] = {.access = true, .native_atomics = true, .performance_rank = 0};
  caps.peers[2] = {.access = true, .native_atomics = false, .performance_rank = 1};
  return caps;
}

}  // namespace

TEST_CASE("summary lists versions, devices and the peer matrix") {
  CHECK(two_devices().summary() ==
        "CUDA driver 13.0, runtime 12.8, 2 device(s)\n"
        "  [0] NVIDIA H100 80GB HBM3  sm_90  132 SMs  79.6 GiB  pci 00000000:1B:00.0  numa 0"
        "  gpudirect-rdma\n"
        "  [1] NVIDIA A100-SXM4-40GB  sm_80  108 SMs  39.6 GiB  pci 00000000:3D:00.0  numa 1\n"
        "  peer access (row reaches column; a = with native atomics):\n"
        "        0   1\n"
        "    0   -   a\n"
        "    1   y   -\n");
}

TEST_CASE("summary of one device has no peer matrix") {
  innet::cuda::capabilities caps = two_devices();
  caps.devices.resize(1);
  caps.peers.assign(1, {});
  const std::string s = caps.summary();
  CHECK(s.find("1 device(s)") != std::string::npos);
  CHECK(s.find("peer access") == std::string::npos);
}

TEST_CASE("peer() reads the row-major matrix and refuses ordinals that do not exist") {
  const innet::cuda::capabilities caps = two_devices();
  CHECK(caps.peer(0, 1).access);
  CHECK(caps.peer(0, 1).native_atomics);
  CHECK(caps.peer(1, 0).access);
  CHECK_FALSE(caps.peer(1, 0).native_atomics);
  CHECK(caps.peer(1, 0).performance_rank == 1);
  CHECK_FALSE(caps.peer(0, 0).access);
  CHECK_FALSE(caps.peer(-1, 0).access);
  CHECK_FALSE(caps.peer(0, 2).access);
  CHECK_FALSE(innet::cuda::capabilities{}.peer(0, 0).access);
}
