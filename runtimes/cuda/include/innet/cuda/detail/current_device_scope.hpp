// Makes a device current for one scope and restores the caller's device afterwards.
//
// The CUDA runtime keeps a current device per host thread, and streams, events and kernel
// launches belong to the device that was current when they were made. innet's objects
// each live on one device and may be used from a thread whose current device is another
// one, so every operation switches for its own duration and leaves the caller's choice
// as it found it. cudaGetDevice/cudaSetDevice only touch thread-local state after the
// first call, so the switch costs tens of nanoseconds, and nothing when the device
// already is current.
//
// Host-only: plain C++ may include this header.
#pragma once

#include <cuda_runtime_api.h>

namespace innet::cuda::detail {

class current_device_scope {
 public:
  explicit current_device_scope(int device) noexcept {
    error_ = cudaGetDevice(&previous_);
    if (error_ != cudaSuccess || previous_ == device) return;
    error_ = cudaSetDevice(device);
    switched_ = error_ == cudaSuccess;
  }
  ~current_device_scope() {
    if (switched_) cudaSetDevice(previous_);
  }
  current_device_scope(const current_device_scope&) = delete;
  current_device_scope& operator=(const current_device_scope&) = delete;

  // cudaSuccess when the device is current for the rest of the scope.
  cudaError_t error() const noexcept { return error_; }

 private:
  int previous_ = 0;
  bool switched_ = false;
  cudaError_t error_ = cudaSuccess;
};

}  // namespace innet::cuda::detail
