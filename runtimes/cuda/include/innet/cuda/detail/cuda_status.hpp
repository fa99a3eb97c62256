// CUDA runtime errors, translated in one place for the whole CUDA runtime.
//
// API edges (probe, create, open, allocate) turn a cudaError_t into an absl::Status whose
// message names the failed call, CUDA's enumerator and CUDA's own description, e.g.
//
//   cudaMalloc of 4096 bytes on device 0: cudaErrorMemoryAllocation (out of memory)
//
// so that one log line is enough to find the cause. When the error means that there is no
// usable driver or device, the message goes on to say what to do about it.
//
// Hot paths (region operations, copies) return errc instead. Nearly every CUDA failure there
// becomes errc::unavailable: the caller cannot act on the difference between a launch
// failure and a lost device, and device faults are sticky (every later call on that device
// reports one), so "the device cannot be used" is the honest summary.
//
// Host-only: plain C++ may include this header.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"

namespace innet::cuda::detail {

// "13.0" from CUDA's 1000 * major + 10 * minor encoding.
inline std::string cuda_version_string(int version) {
  return absl::StrCat(version / 1000, ".", version % 1000 / 10);
}

constexpr bool means_no_device(cudaError_t e) noexcept {
  return e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice ||
         e == cudaErrorDevicesUnavailable || e == cudaErrorSystemDriverMismatch ||
         e == cudaErrorCompatNotSupportedOnDevice;
}

constexpr absl::StatusCode status_code(cudaError_t e) noexcept {
  if (e == cudaSuccess) return absl::StatusCode::kOk;
  if (means_no_device(e)) return absl::StatusCode::kUnavailable;
  switch (e) {
    case cudaErrorMemoryAllocation:
      return absl::StatusCode::kResourceExhausted;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevice:
    case cudaErrorInvalidDevicePointer:
      return absl::StatusCode::kInvalidArgument;
    case cudaErrorPeerAccessUnsupported:
    case cudaErrorTooManyPeers:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

// What to do when `e` says there is no usable driver or device; empty otherwise.
inline std::string no_device_advice(cudaError_t e) {
  int runtime = 0;
  int driver = 0;
  // Neither call needs a driver: they report what is installed.
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  const std::string needed = cuda_version_string(runtime);
  switch (e) {
    case cudaErrorInsufficientDriver:
      if (driver == 0) {
        return absl::StrCat("no NVIDIA driver is loaded; install one that supports CUDA ", needed,
                            " or later, or run on a machine with a GPU");
      }
      return absl::StrCat("the NVIDIA driver supports CUDA ", cuda_version_string(driver),
                          " but this program uses the CUDA ", needed,
                          " runtime; upgrade the driver");
    case cudaErrorNoDevice: {
      const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
      return absl::StrCat(
          "the driver (CUDA ", cuda_version_string(driver), ") sees no device; check nvidia-smi",
          visible != nullptr ? absl::StrCat(" and CUDA_VISIBLE_DEVICES (set to \"", visible, "\")")
                             : "");
    }
    case cudaErrorDevicesUnavailable:
      return "every device is busy or in exclusive/prohibited compute mode; check nvidia-smi -q";
    case cudaErrorSystemDriverMismatch:
      return "the NVIDIA kernel module and user-space driver versions differ; reinstall the driver "
             "or reboot";
    case cudaErrorCompatNotSupportedOnDevice:
      return "the CUDA forward-compatibility package does not support this device; use a native "
             "driver for it";
    default:
      return "";
  }
}

// "<what>: cudaErrorX (CUDA's description)", plus the advice for no-device errors, with the
// matching canonical code. Also clears the calling thread's last-error, so that a failure
// innet has already reported does not resurface in the caller's next cudaGetLastError().
inline absl::Status cuda_status(cudaError_t e, absl::string_view what) {
  if (e == cudaSuccess) return absl::OkStatus();
  cudaGetLastError();
  std::string message =
      absl::StrCat(what, ": ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")");
  if (const std::string advice = no_device_advice(e); !advice.empty())
    absl::StrAppend(&message, "; ", advice);
  return {status_code(e), message};
}

// Hot-path mapping: invalid arguments are the caller's, everything else is the device's.
constexpr errc to_errc(cudaError_t e) noexcept {
  switch (e) {
    case cudaSuccess:
      return errc::ok;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevicePointer:
      return errc::malformed;
    default:
      return errc::unavailable;
  }
}

// Checks that device `ordinal` exists before an API edge creates anything on it.
inline absl::Status check_device(int ordinal, absl::string_view who) {
  int count = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
    return cuda_status(e, absl::StrCat(who, ": no CUDA device"));
  if (ordinal < 0 || ordinal >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": device ", ordinal, " does not exist; ", count,
                     " CUDA device(s) are visible, ordinals 0 to ", count - 1));
  }
  return absl::OkStatus();
}

}  // namespace innet::cuda::detail
