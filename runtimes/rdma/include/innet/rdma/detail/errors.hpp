// How the RDMA runtime reports failures: errno values from setup calls become
// absl::Status with a message that says what to do, and work-completion statuses
// become the hot path's errc.
//
// The mapping of work completions follows the memory-region contract: failures the
// responder reported (it rejected the rkey, the range or the opcode) are
// errc::remote_error; failures of the transport or of this side's queue pair (retry
// budget exhausted, the QP already in the error state so the request was flushed)
// are errc::unavailable. After any error the RC queue pair is in the error state and
// every later request fails, which is why remote_region stops posting.
#pragma once

#include <infiniband/verbs.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/errc.hpp"

namespace innet::rdma::detail {

// What a user without an RDMA NIC does to get one; every "no device" message ends
// with it so the fix is one copy-paste away.
inline constexpr absl::string_view soft_roce_hint =
    "load rdma_rxe and create rxe0 with `rdma link add rxe0 type rxe netdev <ifname>` "
    "(modprobe rdma_rxe; needs a kernel with CONFIG_RDMA_RXE)";

inline absl::Status no_device_status(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat("no RDMA device (", why, "): ", soft_roce_hint));
}

inline absl::StatusCode errno_code(int error) noexcept {
  switch (error) {
    case ENODEV:
    case ENOSYS:
    case ENXIO:
    case ECONNREFUSED:
    case ECONNRESET:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
      return absl::StatusCode::kUnavailable;
    case ETIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case ENOMEM:
    case ENOSPC:
    case EAGAIN:
      return absl::StatusCode::kResourceExhausted;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case EADDRINUSE:
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EINVAL:
    case EOPNOTSUPP:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

// "<what>: <strerror>[; <hint>]" with the code errno_code() picks. ibverbs calls
// return the error number directly; others set errno; the caller passes whichever.
inline absl::Status errno_status(int error, absl::string_view what, absl::string_view hint = {}) {
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (!hint.empty()) absl::StrAppend(&message, "; ", hint);
  return {errno_code(error), message};
}

constexpr errc completion_errc(ibv_wc_status status) noexcept {
  switch (status) {
    case IBV_WC_SUCCESS:
      return errc::ok;
    case IBV_WC_REM_ACCESS_ERR:      // wrong rkey, range outside the MR, or no permission
    case IBV_WC_REM_INV_REQ_ERR:     // the responder found the request invalid
    case IBV_WC_REM_OP_ERR:          // the responder could not complete it
    case IBV_WC_REM_INV_RD_REQ_ERR:  // read/atomic beyond the responder's resources
    case IBV_WC_REM_ABORT_ERR:
    case IBV_WC_BAD_RESP_ERR:  // the responder answered with something unexpected
      return errc::remote_error;
    default:
      // Retry exhaustion, flushes, local protection/length errors, fatal errors:
      // the queue pair can no longer carry requests.
      return errc::unavailable;
  }
}

}  // namespace innet::rdma::detail
