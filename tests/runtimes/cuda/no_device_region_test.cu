// device_memory_region::create when no GPU can be used (see no_device_test.cpp: ctest hides
// every device from this suite). Compiled by nvcc because the header defines kernels.
#include "innet/cuda/device_memory_region.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <string>

#include "absl/strings/str_cat.h"

TEST_CASE("device_memory_region::create without a device fails with the probe's reason") {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  cudaGetLastError();
  const auto region = innet::cuda::device_memory_region::create(0, 4096);
  REQUIRE_FALSE(region.ok());
  MESSAGE("create: " << region.status().ToString());
  CHECK(region.status().code() == absl::StatusCode::kUnavailable);
  const std::string head =
      absl::StrCat("device_memory_region::create: no CUDA device: ", cudaGetErrorName(e), " (",
                   cudaGetErrorString(e), "); ");
  CHECK(region.status().message().substr(0, head.size()) == head);
}

TEST_CASE("device_memory_region::create refuses an empty region before CUDA is asked") {
  const auto region = innet::cuda::device_memory_region::create(0, 0);
  REQUIRE_FALSE(region.ok());
  CHECK(region.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(region.status().message() == "device_memory_region::create: size must be positive");
}
