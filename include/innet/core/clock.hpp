// The clock concept and a manual clock for deterministic tests and simulations.
//
// A clock is anything with `now()` returning nanoseconds as std::uint64_t from an
// arbitrary epoch. Structures that age state (time windows, leases, timeouts) take
// the clock as a template parameter, so a simulation drives them with
// manual_clock and the runtimes supply a real one (innet::host::steady_clock,
// rte_rdtsc in DPDK, bpf_ktime_get_ns in BPF).
//
// Contract: successive calls on the same object never go backwards.
#pragma once

#include <concepts>
#include <cstdint>

namespace innet {

template <class C>
concept clock = requires(const C& c) {
  { c.now() } -> std::same_as<std::uint64_t>;
};

// Time moves only when the owner says so.
class manual_clock {
 public:
  constexpr explicit manual_clock(std::uint64_t start_ns = 0) noexcept : now_(start_ns) {}

  constexpr std::uint64_t now() const noexcept { return now_; }
  constexpr void advance(std::uint64_t ns) noexcept { now_ += ns; }
  // Moves to `ns` if it is later; a manual clock never goes backwards either.
  constexpr void advance_to(std::uint64_t ns) noexcept {
    if (ns > now_) now_ = ns;
  }

 private:
  std::uint64_t now_;
};

static_assert(clock<manual_clock>);

}  // namespace innet
