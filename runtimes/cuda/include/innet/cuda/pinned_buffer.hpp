// Page-locked host memory from cudaHostAlloc, owned for the buffer's lifetime.
//
// The copy engines DMA only from and to page-locked memory. A copy from ordinary
// (pageable) memory is staged by the driver through a pinned bounce buffer of its own and
// stops being asynchronous: cudaMemcpyAsync from pageable memory returns only once the
// bytes are staged, and into pageable memory only once they have arrived. Buffers that take
// part in pipelined work (device_memory_region::post, peer copies staged through the host,
// AQUA's context offload) should therefore come from here.
//
// Options, all off except `portable`:
//   portable        pinned for every device's context, not only the current one's
//   mapped          also mapped into the device address space: kernels can load and store
//                   it directly over PCIe/NVLink-C2C (device_pointer() gives the address)
//   write_combined  uncached on the host: faster host-to-device transfer, very slow host
//                   reads; for buffers the host only writes
//
// Host-only: plain C++ may include this header. Movable, not copyable.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/cuda/detail/cuda_status.hpp"

namespace innet::cuda {

struct pinned_buffer_options {
  bool portable = true;
  bool mapped = false;
  bool write_combined = false;
};

class pinned_buffer {
 public:
  // A buffer of `size` bytes (not zeroed, as malloc). `size` must be positive.
  static absl::StatusOr<pinned_buffer> allocate(std::size_t size,
                                                pinned_buffer_options options = {}) {
    if (size == 0) return absl::InvalidArgumentError("pinned_buffer: size must be positive");
    unsigned flags = cudaHostAllocDefault;
    if (options.portable) flags |= cudaHostAllocPortable;
    if (options.mapped) flags |= cudaHostAllocMapped;
    if (options.write_combined) flags |= cudaHostAllocWriteCombined;
    void* p = nullptr;
    if (const cudaError_t e = cudaHostAlloc(&p, size, flags); e != cudaSuccess)
      return detail::cuda_status(e, absl::StrCat("cudaHostAlloc of ", size, " bytes"));
    return pinned_buffer(static_cast<std::byte*>(p), size, options.mapped);
  }

  pinned_buffer() noexcept = default;  // empty: owns nothing
  pinned_buffer(pinned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        mapped_(std::exchange(other.mapped_, false)) {}
  pinned_buffer& operator=(pinned_buffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      mapped_ = std::exchange(other.mapped_, false);
    }
    return *this;
  }
  pinned_buffer(const pinned_buffer&) = delete;
  pinned_buffer& operator=(const pinned_buffer&) = delete;
  ~pinned_buffer() { reset(); }

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
  bool mapped() const noexcept { return mapped_; }

  // The address kernels on the current device use for this buffer. With unified
  // addressing (every 64-bit platform CUDA 13 supports) it equals data(), but asking is
  // what the CUDA programming guide promises to keep working.
  absl::StatusOr<std::byte*> device_pointer() const {
    if (!mapped_) {
      return absl::FailedPreconditionError(
          "pinned_buffer::device_pointer: the buffer was not allocated with options.mapped");
    }
    void* p = nullptr;
    if (const cudaError_t e = cudaHostGetDevicePointer(&p, data_, 0); e != cudaSuccess)
      return detail::cuda_status(e, "cudaHostGetDevicePointer");
    return static_cast<std::byte*>(p);
  }

  // Frees the memory now; the buffer becomes empty. No copy or kernel may still be using
  // it: synchronize the streams that did first.
  void reset() noexcept {
    if (data_ != nullptr) cudaFreeHost(data_);
    data_ = nullptr;
    size_ = 0;
    mapped_ = false;
  }

 private:
  pinned_buffer(std::byte* data, std::size_t size, bool mapped) noexcept
      : data_(data), size_(size), mapped_(mapped) {}

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace innet::cuda
