// probe() on a GPU machine, checked against CUDA's per-attribute queries. Needs a GPU:
// gpu_test_main.cpp skips without one.
#include "innet/cuda/capabilities.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "runtimes/cuda/test_support.hpp"

namespace {

int attribute(cudaDeviceAttr which, int device) {
  int value = -1;
  REQUIRE(cudaDeviceGetAttribute(&value, which, device) == cudaSuccess);
  return value;
}

}  // namespace

TEST_CASE("probe describes every device as CUDA's attribute queries do") {
  const innet::cuda::capabilities caps = innet::cuda::testing::value_or_stop(innet::cuda::probe());
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  REQUIRE(caps.devices.size() == static_cast<std::size_t>(count));
  CHECK(caps.driver_version > 0);
  CHECK(caps.runtime_version == CUDART_VERSION);
  for (int d = 0; d < count; ++d) {
    const innet::cuda::device_properties& p = caps.devices[static_cast<std::size_t>(d)];
    INFO("device " << d << ": " << p.name);
    CHECK(p.ordinal == d);
    CHECK_FALSE(p.name.empty());
    CHECK(p.compute_major == attribute(cudaDevAttrComputeCapabilityMajor, d));
    CHECK(p.compute_minor == attribute(cudaDevAttrComputeCapabilityMinor, d));
    CHECK(p.multiprocessor_count == attribute(cudaDevAttrMultiProcessorCount, d));
    CHECK(p.can_map_host_memory == (attribute(cudaDevAttrCanMapHostMemory, d) != 0));
    CHECK(p.gpu_direct_rdma == (attribute(cudaDevAttrGPUDirectRDMASupported, d) != 0));
    CHECK(p.global_memory_bytes > 0);
    // The bus id names this device and no other.
    int by_bus_id = -1;
    REQUIRE(cudaDeviceGetByPCIBusId(&by_bus_id, p.pci_bus_id.c_str()) == cudaSuccess);
    CHECK(by_bus_id == d);
    CHECK_FALSE(caps.peer(d, d).access);
    for (int e = 0; e < count; ++e) {
      if (e == d) continue;
      int access = 0;
      REQUIRE(cudaDeviceCanAccessPeer(&access, d, e) == cudaSuccess);
      CHECK(caps.peer(d, e).access == (access != 0));
    }
  }
  const std::string summary = caps.summary();
  for (const innet::cuda::device_properties& p : caps.devices)
    CHECK(summary.find(p.name) != std::string::npos);
  CHECK(cudaGetLastError() == cudaSuccess);
}
