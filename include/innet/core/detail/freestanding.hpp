// Freestanding vocabulary shared by innet code that must also build where no C++ standard library
// exists: eBPF programs (clang -target bpf), CUDA device code, and constant evaluation.
//
// Deliberately includes nothing. The integer aliases come from the compiler's predefined macros
// (GCC, Clang and nvcc's host/device passes all provide them), so this header costs nothing to
// include from a BPF object or a kernel and cannot drag libc into one.
#pragma once

// Every function meant to run on host, GPU and in BPF carries INNET_HD. Under nvcc it makes the
// function callable from both host and device code. For BPF it forces inlining, because a BPF
// call can neither pass nor return a struct by value and takes at most five arguments (clang
// rejects such calls outright), so helpers like the ones returning hash128 only work inlined.
// Elsewhere it vanishes.
#if defined(__CUDACC__)
#define INNET_HD __host__ __device__
#elif defined(__bpf__)
#define INNET_HD __attribute__((always_inline))
#else
#define INNET_HD
#endif

namespace innet {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using usize = __SIZE_TYPE__;

// A 128-bit hash as two 64-bit halves. A plain struct rather than unsigned __int128 because the
// latter is unavailable (or needs libcalls) in BPF and is awkward in CUDA and -Wpedantic builds.
// The halves match XXH128_hash_t's low64/high64 so values compare directly against libxxhash.
struct hash128 {
  u64 low;
  u64 high;

  friend constexpr bool operator==(const hash128&, const hash128&) = default;
};

static_assert(sizeof(u8) == 1 && sizeof(u16) == 2 && sizeof(u32) == 4 && sizeof(u64) == 8);
static_assert(sizeof(hash128) == 16);

}  // namespace innet
