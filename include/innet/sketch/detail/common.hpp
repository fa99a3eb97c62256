// Pieces shared by the run-time sketches (count_min.hpp, count_sketch.hpp): dimension checks with
// one message per failure, the width policy a sketch picks once at construction, the burst
// machinery (hash a burst, prefetch every row's counter, then add) and the counters' allocator.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/hash.hpp"
#include "innet/sketch/detail/rows.hpp"
#include "innet/sketch/sketch_format.hpp"

namespace innet::sketch::detail {

// Keys hashed ahead of their adds in update_burst. 32 keys x depth 4 = 128 prefetches in
// flight, more than a core's fill buffers, so the misses of a DRAM-sized sketch overlap; the
// hashes (16 bytes each) stay in L1.
inline constexpr usize burst_size = 32;

// The most counter bytes a run-time sketch may allocate: 64 GiB. depth * width * counter size
// can reach 2^41 bytes (depth 64, width 2^32 - 1, 8-byte counters); asking the allocator for that
// would throw std::bad_alloc out of a Status-returning API, so larger shapes get
// ResourceExhausted instead. 2^36 is far above any sketch in a switch or a host cache.
inline constexpr u64 max_counter_bytes = u64{1} << 36;

inline absl::Status check_dimensions(absl::string_view who, u32 depth, u32 width,
                                     usize counter_bytes) {
  if (depth == 0 || width == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, ": depth and width must be positive (got depth ", depth, ", width ", width, ")"));
  }
  if (depth > format::max_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": depth ", depth, " exceeds the maximum ", format::max_depth));
  }
  // depth <= 64 and width < 2^32: the product stays below 2^41, no overflow.
  const u64 bytes = u64{depth} * width * counter_bytes;
  if (bytes > max_counter_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(who, ": depth ", depth, " x width ", width, " needs ", bytes,
                     " bytes of counters, over the ", max_counter_bytes, "-byte cap"));
  }
  return absl::OkStatus();
}

// fold(halvings)'s precondition, for every counter sketch: 2^halvings must divide the width.
inline absl::Status check_foldable(absl::string_view who, u32 width, u32 halvings) {
  if (halvings >= 32 || width % (u32{1} << halvings) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": width ", width, " is not divisible by 2^", halvings));
  }
  return absl::OkStatus();
}

// out[i] = the wrapping sum of in[i * block, (i + 1) * block). On row-major counters whose width
// is out's width times block, this adds blocks of adjacent columns within each row (rows stay
// aligned), which is fold: because index(w / 2) == index(w) >> 1, the result equals the sketch
// built directly at the narrower width.
template <class Counter>
void fold_counters(std::span<const Counter> in, std::span<Counter> out, u32 block) noexcept {
  for (usize i = 0; i < out.size(); ++i) {
    Counter sum = 0;
    for (u32 j = 0; j < block; ++j)
      sum = wrapping_add(sum, in[i * block + j]);
    out[i] = sum;
  }
}

// log2(width) for a power-of-two width >= 2, else 0 (the general multiply-shift path).
constexpr unsigned pow2_bits(u32 width) noexcept {
  return width >= 2 && std::has_single_bit(width) ? static_cast<unsigned>(std::countr_zero(width))
                                                  : 0U;
}

// Calls f(width_policy) with the cheapest exact policy for this width: a shift for powers of two,
// the multiply otherwise. Both give identical columns (hash_family::index_pow2 == index).
template <class F>
inline decltype(auto) with_width(u32 width, unsigned bits, F&& f) {
  if (bits != 0) return f(pow2_width{bits});
  return f(any_width{width});
}

// Calls f(std::integral_constant-like depth) with a compile-time depth for the common depths so
// the row loop unrolls; other depths take the run-time loop.
template <class F>
inline decltype(auto) with_depth(u32 depth, F&& f) {
  switch (depth) {
    case 3:
      return f(std::integral_constant<u32, 3>{});
    case 4:
      return f(std::integral_constant<u32, 4>{});
    case 5:
      return f(std::integral_constant<u32, 5>{});
    default:
      return f(depth);
  }
}

template <class Counter, class Width>
inline void prefetch_rows(const Counter* counters, u32 depth, Width w, const hash_family& h) {
  for (u32 r = 0; r < depth; ++r)
    __builtin_prefetch(counters + slot(w, h, r), 1, 3);
}

// The counters' allocator. A DRAM-sized sketch is hit at random: with 4 KiB pages nearly every
// update misses the TLB as well as the cache (a 4 x 2^22 x u32 sketch spans 16384 pages). Arrays
// of at least 2 MiB are therefore 2 MiB-aligned and offered to the kernel as transparent huge
// pages (madvise; a hint, ignored where THP is off). Value-initialised like std::allocator.
template <class T>
struct counter_allocator {
  using value_type = T;
  static constexpr usize huge_page = usize{2} << 20;

  counter_allocator() = default;
  template <class U>
  constexpr counter_allocator(const counter_allocator<U>&) noexcept {}  // NOLINT

  T* allocate(usize n) {
    const usize bytes = n * sizeof(T);
    if (bytes < huge_page) return std::allocator<T>{}.allocate(n);
    const usize rounded = (bytes + huge_page - 1) / huge_page * huge_page;
    void* p = ::operator new (rounded, std::align_val_t{huge_page});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)::madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, usize n) noexcept {
    if (n * sizeof(T) < huge_page) {
      std::allocator<T>{}.deallocate(p, n);
      return;
    }
    // Unsized: clang enables sized deallocation only with -fsized-deallocation.
    ::operator delete (p, std::align_val_t{huge_page});
  }
  friend constexpr bool operator==(const counter_allocator&, const counter_allocator&) noexcept {
    return true;
  }
};

// A sketch's dimensions with the hot-path dispatch decided once, at construction: `code` selects
// a compile-time depth (3, 4, 5, or the run-time loop) and the width policy (shift or multiply).
//
// The fields the hot path reads are u8 and u64 rather than u32, so that stores to u32 counters
// cannot alias them and the compiler may keep them in registers across updates.
struct shape {
  u32 depth = 0;
  u32 width = 0;
  u64 wide_width = 0;  // == width, for any_width
  u8 bits = 0;         // pow2_bits(width)
  u8 code = 0;         // bits 0-1: 0 run-time depth, 1 depth 3, 2 depth 4, 3 depth 5; bit 2: pow2

  static constexpr u8 depth4_pow2 = 6;

  static constexpr shape of(u32 depth, u32 width) noexcept {
    const unsigned bits = pow2_bits(width);
    const u8 depth_code = depth == 3 ? 1 : depth == 4 ? 2 : depth == 5 ? 3 : 0;
    return {depth, width, width, static_cast<u8>(bits),
            static_cast<u8>(depth_code | (bits != 0 ? 4 : 0))};
  }
  friend constexpr bool operator==(const shape&, const shape&) = default;
};

// f(depth, width_policy), depth an integral_constant for the common depths.
template <class F>
inline decltype(auto) with_shape(const shape& s, F&& f) {
  using c3 = std::integral_constant<u32, 3>;
  using c4 = std::integral_constant<u32, 4>;
  using c5 = std::integral_constant<u32, 5>;
  // Compare-and-branch with the common shapes first (a jump table measured no faster).
  if (s.bits != 0) {
    const pow2_width w{s.bits};
    if (s.code == shape::depth4_pow2) return f(c4{}, w);
    if (s.code == 7) return f(c5{}, w);
    if (s.code == 5) return f(c3{}, w);
    return f(s.depth, w);
  }
  const any_width w{s.wide_width};
  if (s.code == 2) return f(c4{}, w);
  if (s.code == 3) return f(c5{}, w);
  if (s.code == 1) return f(c3{}, w);
  return f(s.depth, w);
}

// make_hash_family(key, seed), bit for bit (the same libxxhash function), with the flow-key
// length (13 bytes, net/five_tuple.hpp) passed as a constant: XXH3's short-input paths branch on
// the length, and a constant lets the compiler fold them (370 -> 660 M hashes/s in a tight loop,
// measured). More special cases made the common one slower.
inline hash_family hash_key(std::span<const std::byte> key, u64 seed) noexcept {
  const XXH128_hash_t h = key.size() == 13 ? XXH3_128bits_withSeed(key.data(), 13, seed)
                                           : XXH3_128bits_withSeed(key.data(), key.size(), seed);
  return hash_family(hash128{h.low64, h.high64});
}

// An array of hash families to fill (hash_family has no default constructor on purpose).
template <usize... I>
constexpr std::array<hash_family, sizeof...(I)> blank_families(std::index_sequence<I...>) noexcept {
  return {((void)I, hash_family(hash128{0, 0}))...};
}
inline std::array<hash_family, burst_size> blank_burst() noexcept {
  return blank_families(std::make_index_sequence<burst_size>{});
}

// Sketches at most this large stay in L2: update_burst skips the prefetch pass for them, which
// would only cost instructions.
inline constexpr usize prefetch_threshold_bytes = usize{256} << 10;
// Deepest sketch whose burst slots are kept (burst_size * 8 * 8 bytes = 2 KiB of stack); deeper
// ones prefetch and then recompute their slots.
inline constexpr u32 max_burst_depth = 8;

// The burst engine of update_burst, for n <= burst_size hash families (hashed first, in a plain
// loop the compiler keeps tight): computes every row's slot for all of them and prefetches it,
// then calls add(h, depth, policy) per key in order, with a policy replaying the slots. Sketches
// that fit in L2 skip the prefetch pass. Counters end up exactly as scalar updates leave them:
// the adds are the kernel's, in the same order.
template <class Counter, class Add>
inline void run_burst(const Counter* counters, usize memory_bytes, const shape& s,
                      const hash_family* hashes, usize n, Add&& add) {
  with_shape(s, [&](auto depth, auto w) {
    if (memory_bytes <= prefetch_threshold_bytes) {
      for (usize i = 0; i < n; ++i)
        add(hashes[i], depth, w);
      return;
    }
    if (u32{depth} > max_burst_depth) {
      for (usize i = 0; i < n; ++i)
        prefetch_rows(counters, depth, w, hashes[i]);
      for (usize i = 0; i < n; ++i)
        add(hashes[i], depth, w);
      return;
    }
    std::array<u64, burst_size * max_burst_depth> slots;
    const u32 d = depth;
    for (usize i = 0; i < n; ++i) {
      for (u32 r = 0; r < d; ++r) {
        const u64 at = slot(w, hashes[i], r);
        slots[i * d + r] = at;
        __builtin_prefetch(counters + at, 1, 3);
      }
    }
    for (usize i = 0; i < n; ++i)
      add(hashes[i], depth, precomputed_slots{slots.data() + i * d});
  });
}

}  // namespace innet::sketch::detail
