// The row kernel of every innet sketch: the one copy of the Count-Min and Count Sketch update and
// query logic, shared by the run-time sketches (count_min.hpp, count_sketch.hpp), the
// compile-time fragments (fixed_sketch.hpp), XDP programs (clang -target bpf) and the P4
// generator's reference.
//
// Layout: `depth` rows of `width` counters, row-major, no padding:
//
//     counters[r * width + c]  = row r, column c          (0 <= r < depth, 0 <= c < width)
//
//     row 0: | c0 | c1 | ... | c(w-1) |
//     row 1: | c0 | c1 | ... | c(w-1) |      a key touches exactly one column per row:
//     ...                                    c = h.index(r, width), Lemire's multiply-shift
//
// A key is hashed once into an innet::hash_family (core/hash_family.hpp); row r's column is
// h.index(r, width) and Count Sketch's sign is h.sign(r). Because the column is the high bits of
// a 64-bit value times the width, index(r, w/2) == index(r, w) >> 1 for even w: a sketch folds to
// half its width by adding adjacent columns (2c, 2c+1) -> c, exactly (see count_min::fold).
//
// Arithmetic wraps: unsigned counters use unsigned arithmetic, signed counters add through their
// unsigned twin, so an overflowing counter wraps modulo 2^bits exactly like a switch register
// (and never invokes signed-overflow UB). Conservative update assumes no counter wraps.
//
// Freestanding: includes only core/detail and core/hash_family.hpp, so the same functions compile
// for BPF with -nostdinc; INNET_HD forces inlining there (BPF calls cannot pass structs), which
// also lets constant depths unroll.
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/hash_family.hpp"

// Sketch depths are small and usually compile-time constants (fixed_count_min, the run-time
// sketches' dispatch on depths 3-5): unrolled, a row loop is straight-line code whose loads and
// multiplies overlap. GCC at -O2 does not unroll such loops on its own.
#if defined(__clang__)
#define INNET_UNROLL_ROWS _Pragma("unroll 8")
#elif defined(__GNUC__)
#define INNET_UNROLL_ROWS _Pragma("GCC unroll 8")
#else
#define INNET_UNROLL_ROWS
#endif

namespace innet::sketch {

namespace detail {

// The unsigned type with the same width as T: signed counters add through it so that overflow
// wraps instead of being undefined. (std::make_unsigned is not available freestanding.)
template <class T>
struct unsigned_twin {
  using type = T;
};
template <>
struct unsigned_twin<signed char> {
  using type = unsigned char;
};
template <>
struct unsigned_twin<short> {
  using type = unsigned short;
};
template <>
struct unsigned_twin<int> {
  using type = unsigned int;
};
template <>
struct unsigned_twin<long> {
  using type = unsigned long;
};
template <>
struct unsigned_twin<long long> {
  using type = unsigned long long;
};

// a + b modulo 2^bits, for signed and unsigned counters alike (C++20 defines the conversion back).
template <class Counter>
INNET_HD constexpr Counter wrapping_add(Counter a, Counter b) noexcept {
  using U = typename unsigned_twin<Counter>::type;
  return static_cast<Counter>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}

// -a modulo 2^bits.
template <class Counter>
INNET_HD constexpr Counter wrapping_negate(Counter a) noexcept {
  using U = typename unsigned_twin<Counter>::type;
  return static_cast<Counter>(static_cast<U>(U{0} - static_cast<U>(a)));
}

// Where row r's counter for key h lives ("width policies"). The first two give the same slot for
// the same width; the power-of-two form is a shift where the general one is a 64x64->128
// multiply. The third replays slots computed earlier (update_burst computes them while
// prefetching), so the add and query logic below exists once for all three.
struct any_width {
  u64 width;
  INNET_HD constexpr u64 size() const noexcept { return width; }
  INNET_HD constexpr u64 column(const hash_family& h, u32 row) const noexcept {
    return h.index(row, width);
  }
  INNET_HD constexpr u64 slot(const hash_family& h, u32 row) const noexcept {
    return u64{row} * width + column(h, row);
  }
};
struct pow2_width {
  unsigned bits;  // 1 <= bits <= 63; width == 1 uses any_width
  INNET_HD constexpr u64 size() const noexcept { return u64{1} << bits; }
  INNET_HD constexpr u64 column(const hash_family& h, u32 row) const noexcept {
    return h.index_pow2(row, bits);
  }
  INNET_HD constexpr u64 slot(const hash_family& h, u32 row) const noexcept {
    return (u64{row} << bits) + column(h, row);
  }
};
struct precomputed_slots {
  const u64* slots;  // slots[r]: row r's counter position, from one of the policies above
  INNET_HD constexpr u64 slot(const hash_family&, u32 row) const noexcept { return slots[row]; }
};

// The position of key h's counter in row r.
template <class Width>
INNET_HD constexpr u64 slot(Width w, const hash_family& h, u32 row) noexcept {
  return w.slot(h, row);
}

template <class Counter, class Width>
INNET_HD constexpr void count_min_add(Counter* counters, u32 depth, Width w, const hash_family& h,
                                      Counter weight) noexcept {
  INNET_UNROLL_ROWS
  for (u32 r = 0; r < depth; ++r) {
    Counter& c = counters[slot(w, h, r)];
    c = wrapping_add(c, weight);
  }
}

template <class Counter, class Width>
INNET_HD constexpr Counter count_min_query(const Counter* counters, u32 depth, Width w,
                                           const hash_family& h) noexcept {
  Counter least = counters[slot(w, h, 0)];
  INNET_UNROLL_ROWS
  for (u32 r = 1; r < depth; ++r) {
    const Counter c = counters[slot(w, h, r)];
    least = c < least ? c : least;
  }
  return least;
}

// Estan and Varghese's conservative update: raise each of the key's counters only as far as the
// new estimate (old minimum + weight). Every counter still bounds every key mapped to it from
// above, so estimates never fall below the truth, and they are never above standard update's.
template <class Counter, class Width>
INNET_HD constexpr void count_min_add_conservative(Counter* counters, u32 depth, Width w,
                                                   const hash_family& h, Counter weight) noexcept {
  const Counter target = wrapping_add(count_min_query(counters, depth, w, h), weight);
  INNET_UNROLL_ROWS
  for (u32 r = 0; r < depth; ++r) {
    Counter& c = counters[slot(w, h, r)];
    c = c < target ? target : c;
  }
}

template <class Counter, class Width>
INNET_HD constexpr void count_sketch_add(Counter* counters, u32 depth, Width w,
                                         const hash_family& h, Counter weight) noexcept {
  INNET_UNROLL_ROWS
  for (u32 r = 0; r < depth; ++r) {
    Counter& c = counters[slot(w, h, r)];
    c = wrapping_add(c, h.sign(r) < 0 ? wrapping_negate(weight) : weight);
  }
}

// count_sketch_add that also stores each row's estimate of the key after the add in
// row_estimates[0, depth): one pass over the key's counters for a caller that needs the new
// estimate at once (UnivMon offers every updated key to its heavy-hitter candidates).
template <class Counter, class Width>
INNET_HD constexpr void count_sketch_add_estimate(Counter* counters, u32 depth, Width w,
                                                  const hash_family& h, Counter weight,
                                                  Counter* row_estimates) noexcept {
  INNET_UNROLL_ROWS
  for (u32 r = 0; r < depth; ++r) {
    Counter& c = counters[slot(w, h, r)];
    const bool negative = h.sign(r) < 0;
    c = wrapping_add(c, negative ? wrapping_negate(weight) : weight);
    row_estimates[r] = negative ? wrapping_negate(c) : c;
  }
}

template <class Counter, class Width>
INNET_HD constexpr Counter count_sketch_row_estimate(const Counter* counters, Width w,
                                                     const hash_family& h, u32 row) noexcept {
  const Counter c = counters[slot(w, h, row)];
  return h.sign(row) < 0 ? wrapping_negate(c) : c;
}

// The median of values[0, n), sorted ascending, n >= 1; for even n, the lower midpoint
// floor((a + b) / 2) of the two middle values, computed without overflow.
template <class Counter>
INNET_HD constexpr Counter sorted_median(const Counter* values, u32 n) noexcept {
  if (n % 2 == 1) return values[n / 2];
  using U = typename unsigned_twin<Counter>::type;
  const Counter lo = values[n / 2 - 1];
  const Counter hi = values[n / 2];
  // hi - lo fits the unsigned twin; half of it added to lo stays within [lo, hi].
  return wrapping_add(
      lo, static_cast<Counter>(static_cast<U>(static_cast<U>(hi) - static_cast<U>(lo)) / 2));
}

// Sorts values[0, n) ascending (insertion sort: n is a sketch depth, a handful of rows) and
// returns sorted_median.
template <class Counter>
INNET_HD constexpr Counter median_in_place(Counter* values, u32 n) noexcept {
  for (u32 i = 1; i < n; ++i) {
    const Counter v = values[i];
    u32 j = i;
    for (; j > 0 && v < values[j - 1]; --j)
      values[j] = values[j - 1];
    values[j] = v;
  }
  return sorted_median(values, n);
}

// median_in_place's result, computed without data-dependent branches: an odd-even transposition
// network (n rounds of min/max exchanges sort n values) that compiles to conditional moves for a
// constant n. For a hot path that takes a median per update (univmon), where the insertion sort's
// branches mispredict on random row estimates. `depth` is a u32 or a std::integral_constant:
// each compile-time depth gets its own small instantiation, which compilers inline and unroll
// (clang does not inline one shared by all depths).
template <class Counter, class Depth>
INNET_HD constexpr Counter median_branchless(Counter* values, Depth depth) noexcept {
  const u32 n = depth;
  INNET_UNROLL_ROWS
  for (u32 round = 0; round < n; ++round) {
    INNET_UNROLL_ROWS
    for (u32 i = round % 2; i + 1 < n; i += 2) {
      const Counter a = values[i];
      const Counter b = values[i + 1];
      values[i] = b < a ? b : a;
      values[i + 1] = b < a ? a : b;
    }
  }
  return sorted_median(values, n);
}

}  // namespace detail

// ---- Public kernel: row-major counters, any width > 0, depth >= 1. ----

// Count-Min, standard update: every row's counter grows by `weight`.
template <class Counter>
INNET_HD constexpr void count_min_add(Counter* counters, u32 depth, u64 width, const hash_family& h,
                                      Counter weight) noexcept {
  detail::count_min_add(counters, depth, detail::any_width{width}, h, weight);
}

// Count-Min, conservative update (see detail::count_min_add_conservative).
template <class Counter>
INNET_HD constexpr void count_min_add_conservative(Counter* counters, u32 depth, u64 width,
                                                   const hash_family& h, Counter weight) noexcept {
  detail::count_min_add_conservative(counters, depth, detail::any_width{width}, h, weight);
}

// Count-Min estimate: the least of the key's counters (never below the key's true count while no
// counter has wrapped).
template <class Counter>
INNET_HD constexpr Counter count_min_query(const Counter* counters, u32 depth, u64 width,
                                           const hash_family& h) noexcept {
  return detail::count_min_query(counters, depth, detail::any_width{width}, h);
}

// Count Sketch: row r's counter grows by sign(r) * weight.
template <class Counter>
INNET_HD constexpr void count_sketch_add(Counter* counters, u32 depth, u64 width,
                                         const hash_family& h, Counter weight) noexcept {
  detail::count_sketch_add(counters, depth, detail::any_width{width}, h, weight);
}

// Row r's unbiased estimate of the key's count: sign(r) * counters[r * width + index(r, width)].
// `depth` is unused but kept so every kernel function has the same leading parameters.
template <class Counter>
INNET_HD constexpr Counter count_sketch_row_estimate(const Counter* counters, u32 depth, u64 width,
                                                     const hash_family& h, u32 row) noexcept {
  (void)depth;
  return detail::count_sketch_row_estimate(counters, detail::any_width{width}, h, row);
}

// Concurrent forms for programs that update one sketch from many CPUs at once (XDP): relaxed
// atomic adds, which clang lowers to BPF_ATOMIC_ADD for 32- and 64-bit counters. Counts are exact
// (each add lands once); a reader may see a key's rows mid-update. Not constexpr: atomics cannot
// be constant-evaluated.
template <class Counter>
INNET_HD inline void count_min_add_atomic(Counter* counters, u32 depth, u64 width,
                                          const hash_family& h, Counter weight) noexcept {
  for (u32 r = 0; r < depth; ++r)
    __atomic_fetch_add(&counters[u64{r} * width + h.index(r, width)], weight, __ATOMIC_RELAXED);
}

template <class Counter>
INNET_HD inline void count_sketch_add_atomic(Counter* counters, u32 depth, u64 width,
                                             const hash_family& h, Counter weight) noexcept {
  // Atomic read-modify-write on signed integers is defined to wrap (two's complement).
  for (u32 r = 0; r < depth; ++r)
    __atomic_fetch_add(&counters[u64{r} * width + h.index(r, width)],
                       h.sign(r) < 0 ? detail::wrapping_negate(weight) : weight, __ATOMIC_RELAXED);
}

}  // namespace innet::sketch
