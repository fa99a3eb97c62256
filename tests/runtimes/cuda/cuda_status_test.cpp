#include "innet/cuda/detail/cuda_status.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace {

using innet::cuda::detail::cuda_status;

// The form every CUDA failure takes at an API edge, spelled out independently.
std::string described(absl::string_view what, absl::string_view name, cudaError_t e) {
  return absl::StrCat(what, ": ", name, " (", cudaGetErrorString(e), ")");
}

}  // namespace

TEST_CASE("cuda_status names the call, the CUDA enumerator and CUDA's description") {
  const absl::Status s = cuda_status(cudaErrorMemoryAllocation, "cudaMalloc of 64 bytes");
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK(s.message() == described("cudaMalloc of 64 bytes", "cudaErrorMemoryAllocation",
                                 cudaErrorMemoryAllocation));
  CHECK(cuda_status(cudaSuccess, "anything").ok());
}

TEST_CASE("cuda_status maps CUDA errors to the canonical code a caller acts on") {
  CHECK(cuda_status(cudaErrorInvalidDevice, "x").code() == absl::StatusCode::kInvalidArgument);
  CHECK(cuda_status(cudaErrorInvalidValue, "x").code() == absl::StatusCode::kInvalidArgument);
  CHECK(cuda_status(cudaErrorPeerAccessUnsupported, "x").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(cuda_status(cudaErrorTooManyPeers, "x").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(cuda_status(cudaErrorNoKernelImageForDevice, "x").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(cuda_status(cudaErrorLaunchFailure, "x").code() == absl::StatusCode::kInternal);
  for (const cudaError_t e : {cudaErrorInsufficientDriver, cudaErrorNoDevice,
                              cudaErrorDevicesUnavailable, cudaErrorSystemDriverMismatch}) {
    INFO(cudaGetErrorName(e));
    CHECK(cuda_status(e, "x").code() == absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("no-device errors carry advice after the CUDA description") {
  const absl::Status s = cuda_status(cudaErrorNoDevice, "no CUDA device");
  const std::string head = described("no CUDA device", "cudaErrorNoDevice", cudaErrorNoDevice);
  REQUIRE(s.message().size() > head.size() + 2);
  CHECK(s.message().substr(0, head.size() + 2) == head + "; ");
  CHECK(absl::string_view(s.message()).find("check nvidia-smi") != absl::string_view::npos);
  // Errors that say nothing about the driver get no advice.
  CHECK(cuda_status(cudaErrorLaunchFailure, "k").message() ==
        described("k", "cudaErrorLaunchFailure", cudaErrorLaunchFailure));
}

TEST_CASE("to_errc blames the caller only for invalid arguments") {
  using innet::errc;
  using innet::cuda::detail::to_errc;
  CHECK(to_errc(cudaSuccess) == errc::ok);
  CHECK(to_errc(cudaErrorInvalidValue) == errc::malformed);
  CHECK(to_errc(cudaErrorInvalidDevicePointer) == errc::malformed);
  CHECK(to_errc(cudaErrorLaunchFailure) == errc::unavailable);
  CHECK(to_errc(cudaErrorIllegalAddress) == errc::unavailable);
}

TEST_CASE("CUDA versions print as major.minor") {
  using innet::cuda::detail::cuda_version_string;
  CHECK(cuda_version_string(13000) == "13.0");
  CHECK(cuda_version_string(12080) == "12.8");
  CHECK(cuda_version_string(11020) == "11.2");
  CHECK(cuda_version_string(0) == "0.0");
}
