// The bpf-executor concept: something that runs one loaded BPF program on a context.
//
// Two models, one object file (innet_add_bpf_object builds it):
//
//   rte_executor     DPDK's rte_bpf in this process, interpreted or JIT-compiled.
//                    Only built with the DPDK runtime (INNET_EBPF_HAVE_RTE_BPF).
//   kernel_executor  the kernel, through BPF_PROG_TEST_RUN on a loaded program.
//
// Contract of run(ctx):
// - `ctx` is plain memory the program receives as R1 and may read and write; after
//   run() it holds what the program left there (rte_bpf works on it in place, the
//   kernel copies it in and back out).
// - The result is the program's R0. The kernel reports only its low 32 bits (the
//   test-run ABI's retval is a __u32), so a program meant for both returns a value
//   below 2^32 and passes anything wider through ctx, as innet/ebpf/digest.hpp does.
// - A ctx shorter than the program may touch fails with errc::out_of_range and is
//   not run; a kernel that cannot run the program fails with errc::unavailable.
// - run() is const and keeps no state between calls: one executor may serve many
//   threads, each with its own ctx.
//
// Loading is the API edge (absl::Status, with the verifier's reason in the message);
// run() is the hot path (innet::result, no allocation).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "innet/core/result.hpp"

namespace innet::ebpf {

template <class E>
concept bpf_executor = requires(const E& e, std::span<std::byte> ctx) {
  { e.run(ctx) } -> std::same_as<result<std::uint64_t>>;
};

}  // namespace innet::ebpf
