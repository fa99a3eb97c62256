// result<T>: a value or an errc, for hot paths that cannot afford absl::StatusOr.
//
// It is deliberately small: T must be default-constructible and cheap to copy
// (header views, integers, small structs), so a result is just {T, errc} with no
// union, no allocation and no exceptions, and it is usable in constant evaluation,
// BPF and device code. Reading value() of an error result is a contract violation
// (checked by assert in debug builds of host code).
//
// Freestanding: includes nothing from the standard library.
#pragma once

#include "innet/core/errc.hpp"

namespace innet {

template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  INNET_HD constexpr result(T value) noexcept : value_(static_cast<T&&>(value)) {}  // NOLINT
  // An error result. `e` must not be errc::ok: an ok result needs a value.
  INNET_HD constexpr result(errc e) noexcept
      : error_(e == errc::ok ? errc::malformed : e) {}  // NOLINT

  INNET_HD constexpr bool ok() const noexcept { return error_ == errc::ok; }
  INNET_HD constexpr explicit operator bool() const noexcept { return ok(); }
  INNET_HD constexpr errc error() const noexcept { return error_; }

  INNET_HD constexpr const T& value() const& noexcept { return value_; }
  INNET_HD constexpr T& value() & noexcept { return value_; }
  INNET_HD constexpr const T& operator*() const& noexcept { return value_; }
  INNET_HD constexpr T& operator*() & noexcept { return value_; }
  INNET_HD constexpr const T* operator->() const noexcept { return &value_; }
  INNET_HD constexpr T* operator->() noexcept { return &value_; }

  // The value, or `fallback` when this holds an error.
  INNET_HD constexpr T value_or(T fallback) const noexcept { return ok() ? value_ : fallback; }

 private:
  T value_{};
  errc error_ = errc::ok;
};

}  // namespace innet
