// The memory-region concept: byte-addressed memory, local or remote, with the four
// one-sided operations of RDMA.
//
// One client code path (a DART store, a MICA lookup, a B-tree walk) runs against
// a region in this process, a region served by the host runtime's software RNIC,
// an ibverbs queue pair, or CUDA device memory, by changing the region type.
//
// Contract of every model:
//   size()                          bytes addressable, fixed for the region's life
//   read(offset, dst)               copies size(dst) bytes out of [offset, offset+size(dst))
//   write(offset, src)              copies src into the region
//   fetch_add(offset, add)          atomically adds to the 64-bit word, returns the old value
//   compare_swap(offset, exp, des)  atomically replaces the word if it equals exp,
//                                   returns the old value (the swap happened iff old == exp)
// - Out-of-bounds ranges fail with errc::out_of_range and touch nothing.
// - Atomics need an 8-byte-aligned offset (errc::misaligned otherwise), as RDMA
//   does, and act on a host-endian (little-endian here) 64-bit word; they are
//   atomic with respect to each other, not with respect to concurrent read/write.
// - A remote model reports transport failures as errc::unavailable or
//   errc::remote_error; the region's bytes are then unspecified for that range.
//
// The batched form matters because one-sided operations are only fast when many
// are in flight: post() queues work requests and poll() reaps their completions,
// each tagged by the caller's id. Completions of one region arrive in post order.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/result.hpp"

namespace innet {

template <class R>
concept memory_region = requires(R& r, std::uint64_t offset, std::span<std::byte> dst,
                                 std::span<const std::byte> src, std::uint64_t v) {
  { r.size() } -> std::convertible_to<std::uint64_t>;
  { r.read(offset, dst) } -> std::same_as<errc>;
  { r.write(offset, src) } -> std::same_as<errc>;
  { r.fetch_add(offset, v) } -> std::same_as<result<std::uint64_t>>;
  { r.compare_swap(offset, v, v) } -> std::same_as<result<std::uint64_t>>;
};

enum class memory_opcode : std::uint8_t { read, write, fetch_add, compare_swap };

// One work request. For read, `local` receives the bytes; for write it supplies
// them; atomics ignore `local` and use the operands. The caller keeps `local`
// alive until the completion for `id` is polled.
struct memory_op {
  std::uint64_t id = 0;
  memory_opcode opcode = memory_opcode::read;
  std::uint64_t offset = 0;
  std::span<std::byte> local{};
  std::uint64_t operand = 0;  // fetch_add: addend; compare_swap: expected
  std::uint64_t swap = 0;     // compare_swap: desired
};

struct memory_completion {
  std::uint64_t id = 0;
  errc status = errc::ok;
  std::uint64_t old_value = 0;  // atomics only
};

// The checks every model makes before touching memory, so that all models refuse
// the same request with the same errc (the conformance suite holds them to it).
constexpr errc check_range(std::uint64_t region_size, std::uint64_t offset,
                           std::uint64_t length) noexcept {
  return offset <= region_size && length <= region_size - offset ? errc::ok : errc::out_of_range;
}

constexpr errc check_atomic(std::uint64_t region_size, std::uint64_t offset) noexcept {
  if (offset % 8 != 0) return errc::misaligned;
  return check_range(region_size, offset, 8);
}

constexpr errc check_memory_op(std::uint64_t region_size, const memory_op& op) noexcept {
  switch (op.opcode) {
    case memory_opcode::read:
    case memory_opcode::write:
      return check_range(region_size, op.offset, op.local.size());
    case memory_opcode::fetch_add:
    case memory_opcode::compare_swap:
      return check_atomic(region_size, op.offset);
  }
  return errc::unsupported;
}

// post() accepts a prefix of `ops` (fewer when the queue is full) and returns how
// many; poll() fills up to size(out) completions and returns how many.
template <class R>
concept batched_memory_region = memory_region<R> &&
    requires(R& r, std::span<const memory_op> ops, std::span<memory_completion> out) {
  { r.post(ops) } -> std::same_as<std::size_t>;
  { r.poll(out) } -> std::same_as<std::size_t>;
};

}  // namespace innet
