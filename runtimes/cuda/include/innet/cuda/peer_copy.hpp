// Copies from one GPU's memory to another's, and the peer access that makes them direct.
//
// Two GPUs joined by NVLink, or under one PCIe switch, copy into each other's memory
// directly once peer access is enabled. Without it cudaMemcpyPeerAsync still works, but
// the driver stages the bytes through host memory:
//
//   direct:  source GPU ──── NVLink / PCIe peer-to-peer ────▶ destination GPU
//   staged:  source GPU ──▶ pinned host bounce buffer ──▶ destination GPU
//
// The staged path crosses the host's PCIe root twice, is typically several times slower
// and competes with the NIC for the same links. AQUA decides whether to lease a peer GPU's
// memory for inference context from exactly this difference, so the path is part of the
// API rather than a silent fallback: peer_copy::open() enables peer access where the
// hardware allows, and route() and route_reason() report what it got and why.
//
// Peer access, once enabled, holds for the two devices' contexts for the rest of the
// process; closing a peer_copy leaves it enabled because other code may rely on it.
//
// Host-only: plain C++ may include this header.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/cuda/detail/cuda_status.hpp"
#include "innet/cuda/detail/current_device_scope.hpp"

namespace innet::cuda {

enum class peer_route : std::uint8_t {
  same_device,          // one device: a device-local copy
  direct,               // peer access enabled both ways: NVLink or PCIe peer-to-peer
  staged_through_host,  // no peer path: the driver bounces the bytes through host memory
};

constexpr const char* to_string(peer_route r) noexcept {
  switch (r) {
    case peer_route::same_device:
      return "same device";
    case peer_route::direct:
      return "direct";
    case peer_route::staged_through_host:
      return "staged through host memory";
  }
  return "unknown";
}

// Lets `device`'s kernels and copies reach `peer`'s memory directly. OK when access is
// enabled now or already was (and trivially for device == peer); kFailedPrecondition, with
// the reason, when the hardware or driver offers no peer path between the two; another
// code when either device cannot be used at all.
inline absl::Status enable_peer_access(int device, int peer) {
  if (absl::Status s = detail::check_device(device, "enable_peer_access"); !s.ok()) return s;
  if (absl::Status s = detail::check_device(peer, "enable_peer_access"); !s.ok()) return s;
  if (device == peer) return absl::OkStatus();
  int can_access = 0;
  if (const cudaError_t e = cudaDeviceCanAccessPeer(&can_access, device, peer); e != cudaSuccess) {
    return detail::cuda_status(e,
                               absl::StrCat("cudaDeviceCanAccessPeer(", device, ", ", peer, ")"));
  }
  if (can_access == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device, " cannot reach device ", peer,
                     " directly: cudaDeviceCanAccessPeer reports no peer path (no NVLink or PCIe "
                     "peer-to-peer between them, or the IOMMU/ACS settings block it)"));
  }
  const detail::current_device_scope scope(device);
  if (scope.error() != cudaSuccess)
    return detail::cuda_status(scope.error(), absl::StrCat("cudaSetDevice(", device, ")"));
  const cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
  if (e == cudaErrorPeerAccessAlreadyEnabled) {
    cudaGetLastError();  // not a failure: clear it so the caller never sees it
    return absl::OkStatus();
  }
  return detail::cuda_status(
      e, absl::StrCat("cudaDeviceEnablePeerAccess(device ", device, " -> peer ", peer, ")"));
}

class peer_copy {
 public:
  // A copy path from `src_device`'s memory to `dst_device`'s, with its own stream on the
  // source device. Fails only when a device cannot be used; a missing peer path gives a
  // staged route, described by route_reason().
  static absl::StatusOr<peer_copy> open(int src_device, int dst_device) {
    if (absl::Status s = detail::check_device(src_device, "peer_copy::open"); !s.ok()) return s;
    if (absl::Status s = detail::check_device(dst_device, "peer_copy::open"); !s.ok()) return s;
    peer_copy c;
    c.src_device_ = src_device;
    c.dst_device_ = dst_device;
    if (src_device == dst_device) {
      c.route_ = peer_route::same_device;
    } else {
      // Both directions, so that either device's copy engine may drive the transfer.
      const absl::Status forward = enable_peer_access(src_device, dst_device);
      const absl::Status backward = enable_peer_access(dst_device, src_device);
      for (const absl::Status* s : {&forward, &backward}) {
        if (!s->ok() && s->code() != absl::StatusCode::kFailedPrecondition) return *s;
      }
      if (forward.ok() && backward.ok()) {
        c.route_ = peer_route::direct;
      } else {
        c.route_ = peer_route::staged_through_host;
        c.reason_ = std::string(!forward.ok() ? forward.message() : backward.message());
      }
    }
    const detail::current_device_scope scope(src_device);
    if (scope.error() != cudaSuccess)
      return detail::cuda_status(scope.error(), absl::StrCat("cudaSetDevice(", src_device, ")"));
    if (const cudaError_t e = cudaStreamCreateWithFlags(&c.stream_, cudaStreamNonBlocking);
        e != cudaSuccess) {
      c.stream_ = nullptr;
      return detail::cuda_status(e, absl::StrCat("cudaStreamCreate on device ", src_device));
    }
    return c;
  }

  peer_copy(peer_copy&& other) noexcept { swap(other); }
  peer_copy& operator=(peer_copy&& other) noexcept {
    if (this != &other) {
      peer_copy gone(std::move(other));
      swap(gone);
    }
    return *this;
  }
  peer_copy(const peer_copy&) = delete;
  peer_copy& operator=(const peer_copy&) = delete;
  ~peer_copy() {
    if (stream_ == nullptr) return;
    const detail::current_device_scope scope(src_device_);
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }

  int src_device() const noexcept { return src_device_; }
  int dst_device() const noexcept { return dst_device_; }
  peer_route route() const noexcept { return route_; }
  // Why the route is staged; empty for the other routes.
  const std::string& route_reason() const noexcept { return reason_; }
  // "device 0 -> device 1: direct", with the reason appended for a staged route.
  std::string describe() const {
    std::string out =
        absl::StrCat("device ", src_device_, " -> device ", dst_device_, ": ", to_string(route_));
    if (!reason_.empty()) absl::StrAppend(&out, " (", reason_, ")");
    return out;
  }
  // Work on this stream is ordered with the copies; order other work against it with events.
  cudaStream_t stream() const noexcept { return stream_; }

  // Queues a copy of `bytes` from `src` (memory of src_device()) to `dst` (memory of
  // dst_device()). Both ranges must stay valid until synchronize() returns.
  errc copy_async(void* dst, const void* src, std::size_t bytes) noexcept {
    if (stream_ == nullptr) return errc::unavailable;  // moved from
    if (bytes == 0) return errc::ok;
    const detail::current_device_scope scope(src_device_);
    if (scope.error() != cudaSuccess) return detail::to_errc(scope.error());
    const cudaError_t e =
        route_ == peer_route::same_device
            ? cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_)
            : cudaMemcpyPeerAsync(dst, dst_device_, src, src_device_, bytes, stream_);
    if (e != cudaSuccess) cudaGetLastError();
    return detail::to_errc(e);
  }

  // Waits for every queued copy.
  errc synchronize() noexcept {
    if (stream_ == nullptr) return errc::unavailable;
    const cudaError_t e = cudaStreamSynchronize(stream_);
    if (e != cudaSuccess) cudaGetLastError();
    return detail::to_errc(e);
  }

  // copy_async() then synchronize().
  errc copy(void* dst, const void* src, std::size_t bytes) noexcept {
    if (const errc e = copy_async(dst, src, bytes); e != errc::ok) return e;
    return synchronize();
  }

 private:
  peer_copy() noexcept = default;

  void swap(peer_copy& other) noexcept {
    std::swap(src_device_, other.src_device_);
    std::swap(dst_device_, other.dst_device_);
    std::swap(route_, other.route_);
    std::swap(reason_, other.reason_);
    std::swap(stream_, other.stream_);
  }

  int src_device_ = 0;
  int dst_device_ = 0;
  peer_route route_ = peer_route::same_device;
  std::string reason_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace innet::cuda
