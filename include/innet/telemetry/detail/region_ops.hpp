// Running a group of one-sided operations against any memory region.
//
// The telemetry primitives issue a handful of independent operations per key (N slot reads,
// N FETCH_ADDs). On a batched region (ibverbs, the software RNIC) they are posted together so
// they are in flight at once; on a plain region they run one by one. Either way the caller sees
// one errc (the first failure) and, for atomics, every old value in request order.
//
// The batched path assumes the caller owns the region's completion queue for the duration of
// the call: completions are matched by id (the operation's index in `ops`), and a completion
// whose id is not ours would be miscounted. Completions of one region arrive in post order
// (core/memory_region.hpp), which is what lets us post a prefix, reap it, and post the rest.
//
// The wait for completions has no bound of its own, on purpose: a posted READ writes into the
// caller's buffers (often on its stack) until its completion is reaped, so returning early on a
// poll budget would let the NIC write into freed memory. Bounding the wait is the region's job,
// and the regions do it: every posted op completes, with an error if need be (host::soft_rnic
// after max_tries retransmissions, errc::unavailable; rdma::remote_region flushes what is in
// flight when its connection drops). A region that never completes an op hangs this call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/errc.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"

namespace innet::telemetry::detail {

template <memory_region R>
errc execute_one(R& region, const memory_op& op, std::uint64_t& old_value) {
  switch (op.opcode) {
    case memory_opcode::read:
      return region.read(op.offset, op.local);
    case memory_opcode::write:
      return region.write(op.offset, std::span<const std::byte>(op.local));
    case memory_opcode::fetch_add: {
      const result<std::uint64_t> r = region.fetch_add(op.offset, op.operand);
      old_value = r.value_or(0);
      return r.error();
    }
    case memory_opcode::compare_swap: {
      const result<std::uint64_t> r = region.compare_swap(op.offset, op.operand, op.swap);
      old_value = r.value_or(0);
      return r.error();
    }
  }
  return errc::unsupported;
}

// Runs every op; `old_values` (empty, or one per op) receives the atomics' old values. Every op
// is attempted even after a failure, so a partial failure leaves no op silently skipped; the
// first failure is returned.
template <memory_region R>
errc execute_all(R& region, std::span<const memory_op> ops,
                 std::span<std::uint64_t> old_values = {}) {
  errc first = errc::ok;
  const auto note = [&](std::size_t i, errc e, std::uint64_t old) {
    if (!old_values.empty()) old_values[i] = old;
    if (first == errc::ok && e != errc::ok) first = e;
  };
  if constexpr (batched_memory_region<R>) {
    // Ids are the ops' indices in `ops`; ids inside the caller's ops are ignored.
    constexpr std::size_t chunk = 32;
    std::array<memory_op, chunk> staged{};
    std::array<memory_completion, chunk> done{};
    std::size_t next = 0;
    while (next < ops.size()) {
      const std::size_t n = ops.size() - next < chunk ? ops.size() - next : chunk;
      for (std::size_t i = 0; i < n; ++i) {
        staged[i] = ops[next + i];
        staged[i].id = next + i;
      }
      std::size_t posted = region.post(std::span<const memory_op>(staged.data(), n));
      if (posted == 0) {
        // A full queue with nothing of ours in flight: run one op synchronously to make progress.
        std::uint64_t old = 0;
        note(next, execute_one(region, ops[next], old), old);
        ++next;
        continue;
      }
      std::size_t reaped = 0;
      while (reaped < posted) {
        const std::size_t got =
            region.poll(std::span<memory_completion>(done.data(), posted - reaped));
        for (std::size_t i = 0; i < got; ++i) {
          const memory_completion& c = done[i];
          if (c.id >= next && c.id < next + posted) note(c.id, c.status, c.old_value);
        }
        reaped += got;
      }
      next += posted;
    }
  } else {
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::uint64_t old = 0;
      note(i, execute_one(region, ops[i], old), old);
    }
  }
  return first;
}

// Little-endian loads and stores of the low `bytes` bytes of a word: slot fields are stored in
// the byte order the region's atomics use (host order, little-endian on every supported target),
// so a field can be read by FETCH_ADD and by a plain read alike.
constexpr void store_le(std::byte* p, std::uint64_t v, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i)
    p[i] = static_cast<std::byte>(v >> (8 * i));
}

constexpr std::uint64_t load_le(const std::byte* p, std::size_t bytes) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i)
    v |= std::uint64_t{static_cast<std::uint8_t>(p[i])} << (8 * i);
  return v;
}

}  // namespace innet::telemetry::detail
