// The full 64x64 -> 128-bit product, for code that must also run in BPF and on GPUs.
//
// XXH3's multiply-fold rounds, the hash family's range reduction and Lemire's
// unbiased uniform_below all need the high half of a 64-bit product. unsigned
// __int128 gives it in one instruction (x86-64 mul, PTX mul.hi.u64) and works in
// constant expressions, but the BPF backend has no 128-bit multiply (it would need
// a __multi3 libcall) and nvcc accepts 128-bit integers in device code only since
// CUDA 11.5; those targets take the portable form from 32-bit halves.
//
// Freestanding: includes nothing from the standard library.
#pragma once

#include "innet/core/detail/freestanding.hpp"

namespace innet::detail {

// Kept callable everywhere so host tests can check it against the native product.
INNET_HD constexpr hash128 mul64to128_portable(u64 lhs, u64 rhs) noexcept {
  const u64 lo_lo = (lhs & 0xFFFFFFFFU) * (rhs & 0xFFFFFFFFU);
  const u64 hi_lo = (lhs >> 32) * (rhs & 0xFFFFFFFFU);
  const u64 lo_hi = (lhs & 0xFFFFFFFFU) * (rhs >> 32);
  const u64 hi_hi = (lhs >> 32) * (rhs >> 32);
  // Cannot overflow: the first two terms are below 2^32 and lo_hi is at most (2^32 - 1)^2.
  const u64 cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFU) + lo_hi;
  return {(cross << 32) | (lo_lo & 0xFFFFFFFFU), (hi_lo >> 32) + (cross >> 32) + hi_hi};
}

// The product as {low, high} halves.
INNET_HD constexpr hash128 mul64to128(u64 lhs, u64 rhs) noexcept {
#if defined(__SIZEOF_INT128__) && !defined(__bpf__) && \
    (!defined(__CUDA_ARCH__) || __CUDACC_VER_MAJOR__ * 100 + __CUDACC_VER_MINOR__ >= 1105)
  __extension__ using u128 = unsigned __int128;  // __extension__: quiet under -Wpedantic
  const u128 product = static_cast<u128>(lhs) * rhs;
  return {static_cast<u64>(product), static_cast<u64>(product >> 64)};
#else
  return mul64to128_portable(lhs, rhs);
#endif
}

INNET_HD constexpr u64 mul_high64(u64 lhs, u64 rhs) noexcept {
  return mul64to128(lhs, rhs).high;
}

}  // namespace innet::detail
