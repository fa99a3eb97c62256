// A FIFO allocator over the registered staging buffer of a remote_region.
//
// The caller's buffers in memory_op are not registered with the device, so READs
// land in, and WRITEs leave from, a registered staging buffer. Allocations are
// released in the order they were made (completions of an RC queue pair arrive in
// post order), so the buffer is a ring: `tail` is where the next grant starts and
// `head` where the oldest live one does. A grant is contiguous; when it does not
// fit before the end of the buffer it starts at 0 and its charge includes the
// skipped end, so releasing charges in order moves `head` exactly over what was
// granted.
//
//   0          head                tail        capacity
//   |  free    |#### live grants ###|   free    |        (tail >= head)
//   |## live ##|tail      free      |head ## live ##|    (wrapped: tail < head)
//
// Whenever the ring empties both ends return to 0, so an empty ring grants any
// length up to the capacity.
#pragma once

#include <cstddef>
#include <optional>

namespace innet::rdma::detail {

class staging_ring {
 public:
  struct grant {
    std::size_t offset = 0;  // where the bytes start
    std::size_t charge = 0;  // what release() must be given for this grant
  };

  explicit staging_ring(std::size_t capacity) noexcept : capacity_(capacity) {}

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t used() const noexcept { return used_; }

  // `length` contiguous bytes, or nothing when they do not fit now.
  std::optional<grant> acquire(std::size_t length) noexcept {
    if (length == 0 || length > capacity_ - used_) return std::nullopt;
    if (used_ == 0) head_ = tail_ = 0;
    grant g;
    if (tail_ >= head_) {
      if (capacity_ - tail_ >= length) {
        g = {tail_, length};
      } else if (head_ >= length) {
        g = {0, capacity_ - tail_ + length};
      } else {
        return std::nullopt;
      }
    } else {
      if (head_ - tail_ < length) return std::nullopt;
      g = {tail_, length};
    }
    tail_ = g.offset + length;
    used_ += g.charge;
    return g;
  }

  // Releases the oldest live grant; `charge` is the one it was granted with.
  void release(std::size_t charge) noexcept {
    used_ -= charge;
    head_ += charge;
    if (head_ >= capacity_) head_ -= capacity_;
    if (used_ == 0) head_ = tail_ = 0;
  }

 private:
  std::size_t capacity_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::size_t used_ = 0;
};

}  // namespace innet::rdma::detail
