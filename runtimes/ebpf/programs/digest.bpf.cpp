// The digest program (innet/ebpf/digest.hpp) as two BPF entry points in one object.
//
//   SEC("syscall") run_digest   context = a digest_ctx. The kernel runs it through
//                               BPF_PROG_TEST_RUN; rte_bpf loads this same section and
//                               runs it under its interpreter or JIT.
//   SEC("xdp") digest_xdp       the same computation over the first 96 bytes of a
//                               packet, which hold a digest_ctx; returns XDP_PASS (or
//                               XDP_ABORTED for a shorter packet). It exists because
//                               the kernel refuses BPF_PROG_TEST_RUN's `repeat` for
//                               syscall programs, and a benchmark needs an in-kernel
//                               per-run time without one syscall per run.
//
// Why a syscall program is the one rte_bpf and the kernel share: it is the only kernel
// program type whose context is a plain caller-supplied buffer (test-run copies
// ctx_in in and back out), which is exactly the model of rte_bpf's RTE_BPF_ARG_PTR
// argument. Every other type's context (xdp_md, __sk_buff) is a structure whose
// fields the verifier rewrites into kernel pointers, which rte_bpf cannot emulate.
#include "innet/ebpf/digest.hpp"
#include "innet/ebpf/bpf/program.hpp"

extern "C" SEC("syscall") int run_digest(innet::ebpf::digest_ctx* ctx) {
  return static_cast<int>(innet::ebpf::digest(*ctx));
}

extern "C" SEC("xdp") int digest_xdp(xdp_md* md) {
  auto* const begin = reinterpret_cast<char*>(static_cast<unsigned long>(md->data));
  auto* const end = reinterpret_cast<char*>(static_cast<unsigned long>(md->data_end));
  if (begin + sizeof(innet::ebpf::digest_ctx) > end) return XDP_ABORTED;
  innet::ebpf::digest(*reinterpret_cast<innet::ebpf::digest_ctx*>(begin));
  return XDP_PASS;
}

INNET_BPF_LICENSE("Dual BSD/GPL")
