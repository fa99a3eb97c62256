// Conversions between the hot-path errc and absl::Status at API edges.
//
// Hot paths return errc/result<T> (core/result.hpp); functions that configure,
// load or report return absl::Status/StatusOr. These helpers keep the mapping in
// one place so every area reports the same canonical code for the same failure.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/result.hpp"

namespace innet {

constexpr absl::StatusCode status_code(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return absl::StatusCode::kOk;
    case errc::truncated:
    case errc::malformed:
    case errc::checksum_mismatch:
      return absl::StatusCode::kInvalidArgument;
    case errc::unsupported:
      return absl::StatusCode::kUnimplemented;
    case errc::out_of_range:
      return absl::StatusCode::kOutOfRange;
    case errc::misaligned:
    case errc::incompatible:
      return absl::StatusCode::kFailedPrecondition;
    case errc::not_found:
      return absl::StatusCode::kNotFound;
    case errc::would_block:
      return absl::StatusCode::kResourceExhausted;
    case errc::remote_error:
      return absl::StatusCode::kAborted;
    case errc::unavailable:
      return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kUnknown;
}

// "<context>: <errc name>", with the canonical code for `e`; OkStatus for errc::ok.
inline absl::Status to_status(errc e, absl::string_view context) {
  if (e == errc::ok) return absl::OkStatus();
  return {status_code(e), absl::StrCat(context, ": ", to_string(e))};
}

template <class T>
absl::StatusOr<T> to_status_or(const result<T>& r, absl::string_view context) {
  if (r.ok()) return r.value();
  return to_status(r.error(), context);
}

}  // namespace innet
