// digest: the eBPF runtime's reference program, one source for every executor.
//
// It hashes and folds a 64-byte block held in its context. The same function is
// compiled natively (tests, benchmarks), into a kernel BPF_PROG_TYPE_SYSCALL program,
// into an XDP program over packet bytes, and, from that very object file, loaded by
// DPDK's rte_bpf (interpreter and JIT); all of them must agree bit for bit.
//
// Context layout (96 bytes, host byte order, which is little-endian on every
// target innet runs BPF on):
//
//   offset  size  field  dir  meaning
//   0       8     seed   in   seed of the hash and of the fold
//   8       4     len    in   message length; bytes [len, 64) of data read as zero;
//                             values above 64 mean 64
//   12      4     odd    out  how many of the first len bytes are odd
//   16      64    data   in   the block
//   80      8     hash   out  XXH3-64 of all 64 bytes of data, with seed
//   88      8     fold   out  the fold below over the zero-padded block
//
// The program's return value is `odd` (below 2^32, so the kernel's 32-bit test-run
// retval carries it whole).
//
//   fold = 0xcbf29ce484222325 ^ seed
//   for i in 0..63:  b = i < len ? data[i] : 0
//                    fold = (fold ^ b) * 0x100000001b3 + (b & 1) * i     (mod 2^64)
//
// Why this shape. rte_bpf's verifier (DPDK 22.11) rejects any backward jump and
// walks every path through the program separately, so the loop is unrolled and
// branch-free: a conditional per byte would mean 2^64 paths. The kernel's verifier
// rejects context accesses at a variable offset, so every byte is read at a constant
// one. The `i < len` test is therefore a bit of a mask built once with shifts
// (a comparison per byte would compile to a branch, since BPF has no setcc), and
// dead bytes are zeroed rather than skipped.
//
// Freestanding (no C or C++ library headers): the same header compiles natively and
// for -target bpf, with -nostdinc (tests/runtimes/ebpf checks both).
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/xxh3.hpp"

namespace innet::ebpf {

struct alignas(8) digest_ctx {
  u64 seed;
  u32 len;
  u32 odd;
  u8 data[64];
  u64 hash;
  u64 fold;
};

static_assert(sizeof(digest_ctx) == 96);
static_assert(__builtin_offsetof(digest_ctx, seed) == 0);
static_assert(__builtin_offsetof(digest_ctx, len) == 8);
static_assert(__builtin_offsetof(digest_ctx, odd) == 12);
static_assert(__builtin_offsetof(digest_ctx, data) == 16);
static_assert(__builtin_offsetof(digest_ctx, hash) == 80);
static_assert(__builtin_offsetof(digest_ctx, fold) == 88);

inline constexpr u64 digest_fold_basis = 0xcbf29ce484222325ULL;
inline constexpr u64 digest_fold_prime = 0x100000001b3ULL;

// Fills hash, fold and odd from seed, len and data; returns odd.
INNET_HD inline u32 digest(digest_ctx& ctx) noexcept {
  ctx.hash = xxh3_64(ctx.data, sizeof ctx.data, ctx.seed);
#if defined(__bpf__)
  // The fold reloads the bytes instead of sharing the hash's loads, which would keep
  // all 64 of them live at once and overflow the BPF stack (INNET_BPF_BARRIER in
  // innet/ebpf/bpf/program.hpp; this header stays freestanding, so it is spelled out).
  asm volatile("" ::: "memory");
#endif
  const u64 len = ctx.len < 64 ? ctx.len : 64;
  // Bit i set iff i < len. Two shifts, because one shift by 64 is undefined.
  const u64 live = ((u64{1} << (len / 2)) << (len - len / 2)) - 1;
  u64 fold = digest_fold_basis ^ ctx.seed;
  u64 odd = 0;
#if defined(__clang__)
#pragma unroll
#endif
  for (u64 i = 0; i < 64; ++i) {
    const u64 b = ctx.data[i] * ((live >> i) & 1);
    fold = (fold ^ b) * digest_fold_prime + (b & 1) * i;
    odd += b & 1;
  }
  ctx.fold = fold;
  ctx.odd = static_cast<u32>(odd);
  return static_cast<u32>(odd);
}

}  // namespace innet::ebpf
