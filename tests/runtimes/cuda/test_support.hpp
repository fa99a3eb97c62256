// Helpers shared by the CUDA test binaries that run on a GPU.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"

namespace innet::cuda::testing {

// The value of an absl::StatusOr, or the test stops with its status.
template <class T>
T value_or_stop(absl::StatusOr<T> s) {
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *std::move(s);
}

// A non-blocking stream on the current device, destroyed (after draining) with the test.
class test_stream {
 public:
  test_stream() {
    REQUIRE(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking) == cudaSuccess);
  }
  ~test_stream() {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  test_stream(const test_stream&) = delete;
  test_stream& operator=(const test_stream&) = delete;
  cudaStream_t get() const noexcept { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// Plain device memory, freed with the test.
class device_allocation {
 public:
  explicit device_allocation(std::size_t size) { REQUIRE(cudaMalloc(&data_, size) == cudaSuccess); }
  ~device_allocation() { cudaFree(data_); }
  device_allocation(const device_allocation&) = delete;
  device_allocation& operator=(const device_allocation&) = delete;
  void* get() const noexcept { return data_; }

 private:
  void* data_ = nullptr;
};

}  // namespace innet::cuda::testing
