// The CUDA runtime's API edges when no GPU can be used: clear statuses, never a crash.
//
// ctest runs this suite with CUDA_VISIBLE_DEVICES=-1, which hides every device, so the
// runtime sees none on any machine: without a driver (as on CI) CUDA reports
// cudaErrorInsufficientDriver, on a GPU machine cudaErrorNoDevice. The reference for what
// the error is, is the CUDA runtime asked directly. (A failed initialisation is sticky:
// cudaGetLastError() keeps returning it, so these cases cannot check that innet cleared it;
// the GPU suites do, for the errors that are not sticky.)
#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/cuda/capabilities.hpp"
#include "innet/cuda/peer_copy.hpp"
#include "innet/cuda/pinned_buffer.hpp"

namespace {

// What the runtime itself says when asked how many devices there are.
cudaError_t device_count_error() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  cudaGetLastError();
  return e;
}

// "<enumerator> (<CUDA's description>); ", the head of every no-device message.
std::string cuda_error_head(cudaError_t e) {
  return absl::StrCat(cudaGetErrorName(e), " (", cudaGetErrorString(e), "); ");
}

bool starts_with(absl::string_view s, absl::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool contains(absl::string_view s, absl::string_view part) {
  return s.find(part) != absl::string_view::npos;
}

}  // namespace

TEST_CASE("this suite runs with no visible CUDA device") {
  const cudaError_t e = device_count_error();
  INFO("cudaGetDeviceCount: " << cudaGetErrorName(e)
                              << "; ctest sets CUDA_VISIBLE_DEVICES=-1 for this suite");
  REQUIRE((e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice));
}

TEST_CASE("probe without a device names the CUDA error and what to do") {
  const cudaError_t e = device_count_error();
  const absl::StatusOr<innet::cuda::capabilities> caps = innet::cuda::probe();
  REQUIRE_FALSE(caps.ok());
  const absl::string_view message = caps.status().message();
  MESSAGE("probe: " << std::string(message));
  CHECK(caps.status().code() == absl::StatusCode::kUnavailable);
  CHECK(starts_with(message, absl::StrCat("no CUDA device: ", cuda_error_head(e))));
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (e == cudaErrorInsufficientDriver && driver == 0) {
    CHECK(contains(message, absl::StrCat("no NVIDIA driver is loaded; install one that supports "
                                         "CUDA ",
                                         INNET_CUDA_TOOLKIT_VERSION, " or later")));
  } else if (e == cudaErrorNoDevice) {
    CHECK(contains(message, "CUDA_VISIBLE_DEVICES (set to \"-1\")"));
  }
}

TEST_CASE("probing twice gives the same answer") {
  const auto first = innet::cuda::probe();
  const auto second = innet::cuda::probe();
  REQUIRE_FALSE(first.ok());
  CHECK(first.status() == second.status());
}

TEST_CASE("pinned_buffer::allocate without a device fails with the CUDA error") {
  const absl::StatusOr<innet::cuda::pinned_buffer> buffer =
      innet::cuda::pinned_buffer::allocate(4096);
  REQUIRE_FALSE(buffer.ok());
  MESSAGE("allocate: " << buffer.status().ToString());
  CHECK(buffer.status().code() == absl::StatusCode::kUnavailable);
  CHECK(starts_with(buffer.status().message(), "cudaHostAlloc of 4096 bytes: cudaError"));
}

TEST_CASE("a zero-byte pinned buffer is refused before CUDA is asked") {
  const auto buffer = innet::cuda::pinned_buffer::allocate(0);
  REQUIRE_FALSE(buffer.ok());
  CHECK(buffer.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an empty pinned buffer owns nothing") {
  innet::cuda::pinned_buffer empty;
  CHECK(empty.empty());
  CHECK(empty.data() == nullptr);
  CHECK(empty.bytes().empty());
  CHECK(empty.device_pointer().status().code() == absl::StatusCode::kFailedPrecondition);
  empty.reset();
  innet::cuda::pinned_buffer moved(std::move(empty));
  CHECK(moved.empty());
}

TEST_CASE("peer copies and peer access without a device fail with the probe's reason") {
  const std::string head = absl::StrCat("no CUDA device: ", cuda_error_head(device_count_error()));
  const auto copy = innet::cuda::peer_copy::open(0, 1);
  REQUIRE_FALSE(copy.ok());
  CHECK(copy.status().code() == absl::StatusCode::kUnavailable);
  CHECK(starts_with(copy.status().message(), absl::StrCat("peer_copy::open: ", head)));
  const absl::Status access = innet::cuda::enable_peer_access(0, 1);
  CHECK(access.code() == absl::StatusCode::kUnavailable);
  CHECK(starts_with(access.message(), absl::StrCat("enable_peer_access: ", head)));
}

TEST_CASE("peer routes have names") {
  using innet::cuda::peer_route;
  CHECK(absl::string_view(to_string(peer_route::same_device)) == "same device");
  CHECK(absl::string_view(to_string(peer_route::direct)) == "direct");
  CHECK(absl::string_view(to_string(peer_route::staged_through_host)) ==
        "staged through host memory");
}
