// pinned_buffer on a GPU: page-locked as CUDA sees it, round trips through device memory,
// mapped buffers visible to kernels. Needs a GPU: gpu_test_main.cpp skips without one.
#include "innet/cuda/pinned_buffer.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "runtimes/cuda/test_support.hpp"

namespace {

using innet::cuda::pinned_buffer;
using innet::cuda::pinned_buffer_options;
using innet::cuda::testing::device_allocation;
using innet::cuda::testing::test_stream;
using innet::cuda::testing::value_or_stop;

__global__ void store_squares(std::uint64_t* out, unsigned n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = std::uint64_t{i} * i;
}

void fill_pattern(pinned_buffer& buffer) {
  for (std::size_t i = 0; i < buffer.size(); ++i)
    buffer.data()[i] = static_cast<std::byte>(i * 131 + 7);
}

}  // namespace

TEST_CASE("a pinned buffer is page-locked host memory as CUDA sees it") {
  const pinned_buffer buffer = value_or_stop(pinned_buffer::allocate(4096));
  REQUIRE(buffer.size() == 4096);
  cudaPointerAttributes attributes{};
  REQUIRE(cudaPointerGetAttributes(&attributes, buffer.data()) == cudaSuccess);
  CHECK(attributes.type == cudaMemoryTypeHost);
  CHECK(attributes.hostPointer == buffer.data());
}

TEST_CASE("a pinned buffer round-trips through device memory asynchronously") {
  constexpr std::size_t size = (1 << 20) + 13;
  pinned_buffer out = value_or_stop(pinned_buffer::allocate(size));
  pinned_buffer back = value_or_stop(pinned_buffer::allocate(size));
  fill_pattern(out);
  std::memset(back.data(), 0, size);
  const device_allocation device(size);
  const test_stream stream;
  REQUIRE(cudaMemcpyAsync(device.get(), out.data(), size, cudaMemcpyHostToDevice, stream.get()) ==
          cudaSuccess);
  REQUIRE(cudaMemcpyAsync(back.data(), device.get(), size, cudaMemcpyDeviceToHost, stream.get()) ==
          cudaSuccess);
  REQUIRE(cudaStreamSynchronize(stream.get()) == cudaSuccess);
  CHECK(std::memcmp(out.data(), back.data(), size) == 0);
}

TEST_CASE("a write-combined buffer carries host-to-device copies") {
  constexpr std::size_t size = 64 * 1024;
  pinned_buffer staging =
      value_or_stop(pinned_buffer::allocate(size, pinned_buffer_options{.write_combined = true}));
  fill_pattern(staging);
  pinned_buffer back = value_or_stop(pinned_buffer::allocate(size));
  const device_allocation device(size);
  REQUIRE(cudaMemcpy(device.get(), staging.data(), size, cudaMemcpyHostToDevice) == cudaSuccess);
  REQUIRE(cudaMemcpy(back.data(), device.get(), size, cudaMemcpyDeviceToHost) == cudaSuccess);
  for (std::size_t i = 0; i < size; ++i)
    REQUIRE(back.data()[i] == static_cast<std::byte>(i * 131 + 7));
}

TEST_CASE("kernels store straight into a mapped buffer") {
  constexpr unsigned n = 4096;
  pinned_buffer buffer = value_or_stop(
      pinned_buffer::allocate(n * sizeof(std::uint64_t), pinned_buffer_options{.mapped = true}));
  CHECK(buffer.mapped());
  std::memset(buffer.data(), 0xFF, buffer.size());
  std::byte* device_view = value_or_stop(buffer.device_pointer());
  store_squares<<<n / 256, 256>>>(reinterpret_cast<std::uint64_t*>(device_view), n);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  for (unsigned i = 0; i < n; ++i) {
    std::uint64_t v = 0;
    std::memcpy(&v, buffer.data() + i * sizeof v, sizeof v);
    REQUIRE(v == std::uint64_t{i} * i);
  }
}

TEST_CASE("an unmapped buffer has no device pointer") {
  const pinned_buffer buffer = value_or_stop(pinned_buffer::allocate(64));
  CHECK(buffer.device_pointer().status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("moving a pinned buffer moves ownership and reset frees") {
  pinned_buffer a = value_or_stop(pinned_buffer::allocate(128));
  std::byte* const memory = a.data();
  pinned_buffer b(std::move(a));
  CHECK(b.data() == memory);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  pinned_buffer c = value_or_stop(pinned_buffer::allocate(64));
  c = std::move(b);
  CHECK(c.data() == memory);
  CHECK(c.size() == 128);
  c.reset();
  CHECK(c.empty());
  CHECK(cudaGetLastError() == cudaSuccess);
}
