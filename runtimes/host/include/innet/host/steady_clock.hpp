// The host runtime's clock: CLOCK_MONOTONIC through std::chrono::steady_clock.
#pragma once

#include <chrono>
#include <cstdint>

#include "innet/core/clock.hpp"

namespace innet::host {

class steady_clock {
 public:
  std::uint64_t now() const noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }
};

static_assert(innet::clock<steady_clock>);

}  // namespace innet::host
