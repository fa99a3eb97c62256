// The memory-region concept over memory in this process.
//
// The reference model: the conformance suite every other model (software RNIC,
// ibverbs, CUDA) must agree with, and the fastest binding when a structure and its
// clients share an address space. The region borrows 64-bit words so that every
// 8-byte-aligned offset is a valid std::atomic_ref target.
//
// post() executes work requests immediately and queues their completions, so code
// written for a pipelined remote region runs unchanged here; the completion queue
// holds `completion_capacity` entries and post() stops accepting when it is full.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "innet/core/memory_region.hpp"

namespace innet::host {

class local_memory_region {
 public:
  static constexpr std::size_t completion_capacity = 256;

  explicit local_memory_region(std::span<std::uint64_t> words) noexcept
      : base_(reinterpret_cast<std::byte*>(words.data())), size_(words.size_bytes()) {}

  std::uint64_t size() const noexcept { return size_; }
  std::byte* data() const noexcept { return base_; }

  errc read(std::uint64_t offset, std::span<std::byte> dst) const noexcept {
    if (const errc e = check_range(size_, offset, dst.size()); e != errc::ok) return e;
    if (!dst.empty()) std::memcpy(dst.data(), base_ + offset, dst.size());
    return errc::ok;
  }

  errc write(std::uint64_t offset, std::span<const std::byte> src) noexcept {
    if (const errc e = check_range(size_, offset, src.size()); e != errc::ok) return e;
    if (!src.empty()) std::memcpy(base_ + offset, src.data(), src.size());
    return errc::ok;
  }

  result<std::uint64_t> fetch_add(std::uint64_t offset, std::uint64_t add) noexcept {
    if (const errc e = check_atomic(size_, offset); e != errc::ok) return e;
    return word(offset).fetch_add(add, std::memory_order_acq_rel);
  }

  result<std::uint64_t> compare_swap(std::uint64_t offset, std::uint64_t expected,
                                     std::uint64_t desired) noexcept {
    if (const errc e = check_atomic(size_, offset); e != errc::ok) return e;
    // On failure compare_exchange stores the current value in `expected`, which is
    // the old value the contract returns either way.
    word(offset).compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
    return expected;
  }

  std::size_t post(std::span<const memory_op> ops) noexcept {
    std::size_t accepted = 0;
    for (const memory_op& op : ops) {
      if (pending_ == completion_capacity) break;
      completions_[(head_ + pending_) % completion_capacity] = execute(op);
      ++pending_;
      ++accepted;
    }
    return accepted;
  }

  std::size_t poll(std::span<memory_completion> out) noexcept {
    std::size_t n = 0;
    while (n < out.size() && pending_ > 0) {
      out[n++] = completions_[head_];
      head_ = (head_ + 1) % completion_capacity;
      --pending_;
    }
    return n;
  }

 private:
  std::atomic_ref<std::uint64_t> word(std::uint64_t offset) const noexcept {
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(base_ + offset));
  }

  memory_completion execute(const memory_op& op) noexcept {
    memory_completion c{.id = op.id, .status = check_memory_op(size_, op)};
    if (c.status != errc::ok) return c;  // also refuses an opcode outside the enum
    switch (op.opcode) {
      case memory_opcode::read:
        c.status = read(op.offset, op.local);
        break;
      case memory_opcode::write:
        c.status = write(op.offset, op.local);
        break;
      case memory_opcode::fetch_add: {
        const auto r = fetch_add(op.offset, op.operand);
        c.status = r.error();
        c.old_value = r.value_or(0);
        break;
      }
      case memory_opcode::compare_swap: {
        const auto r = compare_swap(op.offset, op.operand, op.swap);
        c.status = r.error();
        c.old_value = r.value_or(0);
        break;
      }
    }
    return c;
  }

  std::byte* base_;
  std::uint64_t size_;
  std::array<memory_completion, completion_capacity> completions_{};
  std::size_t head_ = 0;
  std::size_t pending_ = 0;
};

static_assert(innet::batched_memory_region<local_memory_region>);

}  // namespace innet::host
