// The memory-region concept (core/memory_region.hpp) over CUDA device memory.
//
// A device_memory_region owns one cudaMalloc allocation on one device and a non-blocking
// stream on that device. Every operation runs on that stream, so operations are ordered
// with each other (a synchronous read sees every write posted before it) and with whatever
// work a caller adds to stream(), while kernels on other streams run concurrently:
//
//   read / write          cudaMemcpyAsync, then wait for the stream
//   fetch_add             a one-thread kernel runs atomicAdd / atomicCAS on the 64-bit word
//   compare_swap            and stores the old value in pinned, device-mapped host memory
//   post(ops)             per op: the copy or kernel, then an event; nothing waits
//   poll(out)             cudaEventQuery on the oldest op's event, oldest first
//
// Pinned, device-mapped host memory (completion_capacity + 1 little-endian u64 words):
//
//   word 0 .. completion_capacity-1   old value of the atomic posted into ring slot i
//   word completion_capacity          old value of the latest synchronous atomic
//
// Atomics are atomic with respect to each other and to every kernel on this device that
// uses atomicAdd/atomicCAS/... on the same `unsigned long long` (device scope): a GPU-side
// structure and its host-side clients can share counters. A kernel on a peer GPU writing
// the word would need system-scope atomics, which the region does not use. As the contract
// says, atomics are not atomic with respect to concurrent read/write.
//
// Errors follow the local model exactly (out_of_range, misaligned, touching nothing); a
// CUDA failure (a lost or faulted device) is errc::unavailable. Regions are zero-filled.
//
// Cost: a synchronous operation is one enqueue plus a stream wait, so it pays a whole copy
// or kernel-launch round trip (microseconds, against the local model's nanoseconds; not yet
// measured on a GPU). post() pipelines instead, but a read or write whose `local` buffer is
// pageable is staged by the driver, and post() then blocks until the bytes are staged
// (write) or have arrived (read). Give post() pinned buffers (pinned_buffer.hpp) when it
// must not block.
//
// Threading: like an RDMA queue pair, one host thread uses a region at a time.
//
// This header defines and launches CUDA kernels, so it must be compiled by nvcc: include it
// from a .cu file. Plain C++ may include capabilities.hpp, pinned_buffer.hpp and peer_copy.hpp.
#pragma once

#if !defined(__CUDACC__)
#error "device_memory_region.hpp launches CUDA kernels: include it from a .cu file compiled by nvcc"
#else

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"
#include "innet/cuda/detail/cuda_status.hpp"
#include "innet/cuda/detail/current_device_scope.hpp"
#include "innet/cuda/pinned_buffer.hpp"

namespace innet::cuda {
namespace detail {

// A template so that every .cu file including this header shares one weak definition of
// the kernel's host stub instead of defining a strong symbol each.
template <memory_opcode Opcode>
__global__ void region_atomic(unsigned long long* word, unsigned long long operand,
                              unsigned long long desired, unsigned long long* old_value) {
  if constexpr (Opcode == memory_opcode::fetch_add) {
    *old_value = atomicAdd(word, operand);
  } else {
    *old_value = atomicCAS(word, operand, desired);
  }
}

}  // namespace detail

class device_memory_region {
 public:
  static constexpr std::size_t completion_capacity = 256;

  // A zero-filled region of `size` bytes on `device`.
  static absl::StatusOr<device_memory_region> create(int device, std::uint64_t size) {
    if (size == 0)
      return absl::InvalidArgumentError("device_memory_region::create: size must be positive");
    if (absl::Status s = detail::check_device(device, "device_memory_region::create"); !s.ok())
      return s;
    const detail::current_device_scope scope(device);
    if (scope.error() != cudaSuccess)
      return detail::cuda_status(scope.error(), absl::StrCat("cudaSetDevice(", device, ")"));

    // Each resource is owned by `r` as soon as it exists, so a failure part-way frees the
    // ones made before it.
    device_memory_region r;
    r.device_ = device;
    void* base = nullptr;
    if (const cudaError_t e = cudaMalloc(&base, size); e != cudaSuccess) {
      return detail::cuda_status(e,
                                 absl::StrCat("cudaMalloc of ", size, " bytes on device ", device));
    }
    r.base_ = static_cast<std::byte*>(base);
    r.size_ = size;
    if (const cudaError_t e = cudaStreamCreateWithFlags(&r.stream_, cudaStreamNonBlocking);
        e != cudaSuccess) {
      r.stream_ = nullptr;
      return detail::cuda_status(e, absl::StrCat("cudaStreamCreate on device ", device));
    }
    for (cudaEvent_t& event : r.events_) {
      if (const cudaError_t e = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
          e != cudaSuccess) {
        event = nullptr;
        return detail::cuda_status(e, absl::StrCat("cudaEventCreate on device ", device));
      }
    }
    absl::StatusOr<pinned_buffer> old_values =
        pinned_buffer::allocate((completion_capacity + 1) * sizeof(std::uint64_t),
                                pinned_buffer_options{.portable = true, .mapped = true});
    if (!old_values.ok()) return old_values.status();
    r.old_values_ = *std::move(old_values);
    absl::StatusOr<std::byte*> mapped = r.old_values_.device_pointer();
    if (!mapped.ok()) return mapped.status();
    r.old_values_device_ = reinterpret_cast<unsigned long long*>(*mapped);

    cudaError_t e = cudaMemsetAsync(base, 0, size, r.stream_);
    if (e == cudaSuccess) e = cudaStreamSynchronize(r.stream_);
    if (e != cudaSuccess) {
      return detail::cuda_status(e,
                                 absl::StrCat("zero-filling ", size, " bytes on device ", device));
    }
    return r;
  }

  device_memory_region(device_memory_region&& other) noexcept { swap(other); }
  device_memory_region& operator=(device_memory_region&& other) noexcept {
    if (this != &other) {
      device_memory_region gone(std::move(other));
      swap(gone);
    }
    return *this;
  }
  device_memory_region(const device_memory_region&) = delete;
  device_memory_region& operator=(const device_memory_region&) = delete;
  // Waits for operations in flight (their `local` buffers are the caller's), then frees.
  ~device_memory_region() { release(); }

  std::uint64_t size() const noexcept { return size_; }
  int device() const noexcept { return device_; }
  // The region's first byte as a device address, for kernels; never dereference it on the host.
  std::byte* device_data() const noexcept { return base_; }
  cudaStream_t stream() const noexcept { return stream_; }

  errc read(std::uint64_t offset, std::span<std::byte> dst) const noexcept {
    if (const errc e = check_range(size_, offset, dst.size()); e != errc::ok) return e;
    if (dst.empty()) return errc::ok;
    const detail::current_device_scope scope(device_);
    cudaError_t e = scope.error();
    if (e == cudaSuccess)
      e = cudaMemcpyAsync(dst.data(), base_ + offset, dst.size(), cudaMemcpyDeviceToHost, stream_);
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
    return settle(e);
  }

  errc write(std::uint64_t offset, std::span<const std::byte> src) noexcept {
    if (const errc e = check_range(size_, offset, src.size()); e != errc::ok) return e;
    if (src.empty()) return errc::ok;
    const detail::current_device_scope scope(device_);
    cudaError_t e = scope.error();
    if (e == cudaSuccess)
      e = cudaMemcpyAsync(base_ + offset, src.data(), src.size(), cudaMemcpyHostToDevice, stream_);
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
    return settle(e);
  }

  result<std::uint64_t> fetch_add(std::uint64_t offset, std::uint64_t add) noexcept {
    return atomic<memory_opcode::fetch_add>(offset, add, 0);
  }

  result<std::uint64_t> compare_swap(std::uint64_t offset, std::uint64_t expected,
                                     std::uint64_t desired) noexcept {
    return atomic<memory_opcode::compare_swap>(offset, expected, desired);
  }

  std::size_t post(std::span<const memory_op> ops) noexcept {
    if (ops.empty() || pending_ == completion_capacity) return 0;
    const detail::current_device_scope scope(device_);
    std::size_t accepted = 0;
    for (const memory_op& op : ops) {
      if (pending_ == completion_capacity) break;
      const std::size_t slot = (head_ + pending_) % completion_capacity;
      slots_[slot] = enqueue(op, slot, scope.error());
      ++pending_;
      ++accepted;
    }
    return accepted;
  }

  std::size_t poll(std::span<memory_completion> out) noexcept {
    std::size_t n = 0;
    while (n < out.size() && pending_ > 0) {
      pending_op& op = slots_[head_];
      if (op.in_flight) {
        const cudaError_t e = cudaEventQuery(events_[head_]);
        if (e == cudaErrorNotReady) break;
        op.status = settle(e);
      }
      memory_completion c{.id = op.id, .status = op.status};
      if (c.status == errc::ok &&
          (op.opcode == memory_opcode::fetch_add || op.opcode == memory_opcode::compare_swap)) {
        c.old_value = old_value(head_);
      }
      out[n++] = c;
      head_ = (head_ + 1) % completion_capacity;
      --pending_;
    }
    return n;
  }

 private:
  struct pending_op {
    std::uint64_t id = 0;
    memory_opcode opcode = memory_opcode::read;
    errc status = errc::ok;
    bool in_flight = false;  // an event marks its end; otherwise it completed when posted
  };

  device_memory_region() noexcept = default;

  // Any CUDA failure here is the device's: the bounds were checked before CUDA saw them.
  static errc settle(cudaError_t e) noexcept {
    if (e == cudaSuccess) return errc::ok;
    cudaGetLastError();
    return errc::unavailable;
  }

  std::uint64_t old_value(std::size_t slot) const noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, old_values_.data() + slot * sizeof v, sizeof v);
    return v;
  }

  template <memory_opcode Opcode>
  cudaError_t launch_atomic(std::uint64_t offset, std::uint64_t operand, std::uint64_t desired,
                            std::size_t slot) const noexcept {
    cudaLaunchConfig_t config{};
    config.gridDim = dim3(1);
    config.blockDim = dim3(1);
    config.stream = stream_;
    return cudaLaunchKernelEx(&config, detail::region_atomic<Opcode>,
                              reinterpret_cast<unsigned long long*>(base_ + offset),
                              static_cast<unsigned long long>(operand),
                              static_cast<unsigned long long>(desired), old_values_device_ + slot);
  }

  template <memory_opcode Opcode>
  result<std::uint64_t> atomic(std::uint64_t offset, std::uint64_t operand,
                               std::uint64_t desired) noexcept {
    if (const errc e = check_atomic(size_, offset); e != errc::ok) return e;
    const detail::current_device_scope scope(device_);
    cudaError_t e = scope.error();
    if (e == cudaSuccess) e = launch_atomic<Opcode>(offset, operand, desired, completion_capacity);
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
    if (e != cudaSuccess) return settle(e);
    return old_value(completion_capacity);
  }

  // Issues one posted operation into ring slot `slot`; the caller has made the region's
  // device current (or reports in `device_error` why it could not).
  pending_op enqueue(const memory_op& op, std::size_t slot, cudaError_t device_error) noexcept {
    pending_op p{.id = op.id, .opcode = op.opcode, .status = check_memory_op(size_, op)};
    if (p.status != errc::ok) return p;
    cudaError_t e = device_error;
    if (e == cudaSuccess) {
      switch (op.opcode) {
        case memory_opcode::read:
          if (op.local.empty()) return p;
          e = cudaMemcpyAsync(op.local.data(), base_ + op.offset, op.local.size(),
                              cudaMemcpyDeviceToHost, stream_);
          break;
        case memory_opcode::write:
          if (op.local.empty()) return p;
          e = cudaMemcpyAsync(base_ + op.offset, op.local.data(), op.local.size(),
                              cudaMemcpyHostToDevice, stream_);
          break;
        case memory_opcode::fetch_add:
          e = launch_atomic<memory_opcode::fetch_add>(op.offset, op.operand, 0, slot);
          break;
        case memory_opcode::compare_swap:
          e = launch_atomic<memory_opcode::compare_swap>(op.offset, op.operand, op.swap, slot);
          break;
      }
    }
    if (e == cudaSuccess) {
      e = cudaEventRecord(events_[slot], stream_);
      // The copy or kernel is on the stream but nothing marks its end: wait for it
      // here, so that the failed op is reported only once the GPU is done with
      // `local` (the first error, the event's, is the one reported).
      if (e != cudaSuccess) (void)cudaStreamSynchronize(stream_);
    }
    p.status = settle(e);
    p.in_flight = p.status == errc::ok;
    return p;
  }

  void release() noexcept {
    if (base_ == nullptr && stream_ == nullptr && events_[0] == nullptr) return;
    const detail::current_device_scope scope(device_);
    if (stream_ != nullptr) cudaStreamSynchronize(stream_);
    for (cudaEvent_t& event : events_) {
      if (event != nullptr) cudaEventDestroy(event);
      event = nullptr;
    }
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    if (base_ != nullptr) cudaFree(base_);
    stream_ = nullptr;
    base_ = nullptr;
    size_ = 0;
    old_values_.reset();
  }

  void swap(device_memory_region& other) noexcept {
    std::swap(device_, other.device_);
    std::swap(base_, other.base_);
    std::swap(size_, other.size_);
    std::swap(stream_, other.stream_);
    std::swap(events_, other.events_);
    std::swap(old_values_, other.old_values_);
    std::swap(old_values_device_, other.old_values_device_);
    std::swap(slots_, other.slots_);
    std::swap(head_, other.head_);
    std::swap(pending_, other.pending_);
  }

  int device_ = 0;
  std::byte* base_ = nullptr;
  std::uint64_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  std::array<cudaEvent_t, completion_capacity> events_{};
  pinned_buffer old_values_;
  unsigned long long* old_values_device_ = nullptr;
  std::array<pending_op, completion_capacity> slots_{};
  std::size_t head_ = 0;
  std::size_t pending_ = 0;
};

static_assert(innet::batched_memory_region<device_memory_region>);

}  // namespace innet::cuda

#endif  // __CUDACC__
