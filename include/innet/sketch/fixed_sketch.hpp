// Compile-time-dimension sketch fragments for switch, NIC and BPF targets.
//
// A fixed_count_min / fixed_count_sketch is a plain aggregate holding nothing but its counters,
// row-major exactly like the run-time sketches (sketch/detail/rows.hpp):
//
//     counters[r * Width + c]     row r, column c;   sizeof == Depth * Width * sizeof(Counter)
//
// so it can be a BPF map value or a P4 register array, and its counters, exported as they are,
// become a run-time sketch with count_min<Counter>::from_counters(Depth, Width, seed, ...) (or
// count_sketch's): for the same seed and dimensions the two hold identical counters after the
// same updates, because both call the one kernel in detail/rows.hpp.
//
// Hashing is the caller's: pass innet::hash_family(xxh3_128(key, len, seed)) (core/xxh3.hpp in
// freestanding code, make_hash_family on the host). The seed lives with whoever exports the
// fragment, not in the aggregate, so the map value is only counters.
//
// Zero-initialise with `fixed_count_min<u32, 4, 1024> s{};` (or the map's zeroed memory).
//
// Freestanding: compiles with clang -target bpf -nostdinc.
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/hash_family.hpp"
#include "innet/sketch/detail/rows.hpp"

namespace innet::sketch {

template <class Counter, u32 Depth, u32 Width>
struct fixed_count_min {
  static_assert(Depth >= 1 && Width >= 1, "a sketch needs at least one row and one column");
  static_assert(static_cast<Counter>(-1) > static_cast<Counter>(0),
                "Count-Min counters are unsigned integers");

  static constexpr u32 depth = Depth, width = Width;
  Counter counters[Depth * Width];

  INNET_HD constexpr void update(const hash_family& h, Counter weight = 1) noexcept {
    sketch::count_min_add(counters, Depth, u64{Width}, h, weight);
  }
  INNET_HD constexpr void update_conservative(const hash_family& h, Counter weight = 1) noexcept {
    sketch::count_min_add_conservative(counters, Depth, u64{Width}, h, weight);
  }
  // For maps shared by many CPUs (see count_min_add_atomic).
  INNET_HD void update_atomic(const hash_family& h, Counter weight = 1) noexcept {
    sketch::count_min_add_atomic(counters, Depth, u64{Width}, h, weight);
  }
  INNET_HD constexpr Counter estimate(const hash_family& h) const noexcept {
    return sketch::count_min_query(counters, Depth, u64{Width}, h);
  }
};

template <class Counter, u32 Depth, u32 Width>
struct fixed_count_sketch {
  static_assert(Depth >= 1 && Width >= 1, "a sketch needs at least one row and one column");
  static_assert(static_cast<Counter>(-1) < static_cast<Counter>(0),
                "Count Sketch counters are signed integers");

  static constexpr u32 depth = Depth, width = Width;
  Counter counters[Depth * Width];

  INNET_HD constexpr void update(const hash_family& h, Counter weight = 1) noexcept {
    sketch::count_sketch_add(counters, Depth, u64{Width}, h, weight);
  }
  INNET_HD void update_atomic(const hash_family& h, Counter weight = 1) noexcept {
    sketch::count_sketch_add_atomic(counters, Depth, u64{Width}, h, weight);
  }
  // Row `row`'s signed estimate; 0 for row >= Depth.
  INNET_HD constexpr Counter row_estimate(const hash_family& h, u32 row) const noexcept {
    if (row >= Depth) return Counter{0};
    return sketch::count_sketch_row_estimate(counters, Depth, u64{Width}, h, row);
  }
  // The median of the rows' estimates (lower midpoint for even Depth), as count_sketch computes.
  INNET_HD constexpr Counter estimate(const hash_family& h) const noexcept {
    Counter rows[Depth];
    for (u32 r = 0; r < Depth; ++r)
      rows[r] = row_estimate(h, r);
    return detail::median_in_place(rows, Depth);
  }
};

}  // namespace innet::sketch
