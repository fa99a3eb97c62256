#include "innet/rdma/detail/errors.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using innet::errc;
using innet::rdma::detail::completion_errc;

TEST_CASE("work-completion statuses map to the memory-region contract's errors") {
  CHECK(completion_errc(IBV_WC_SUCCESS) == errc::ok);
  // The responder refused: a wrong rkey, a range outside its registration, an
  // opcode its registration does not allow.
  CHECK(completion_errc(IBV_WC_REM_ACCESS_ERR) == errc::remote_error);
  CHECK(completion_errc(IBV_WC_REM_INV_REQ_ERR) == errc::remote_error);
  CHECK(completion_errc(IBV_WC_REM_OP_ERR) == errc::remote_error);
  CHECK(completion_errc(IBV_WC_REM_INV_RD_REQ_ERR) == errc::remote_error);
  CHECK(completion_errc(IBV_WC_REM_ABORT_ERR) == errc::remote_error);
  CHECK(completion_errc(IBV_WC_BAD_RESP_ERR) == errc::remote_error);
  // The transport or this queue pair can no longer carry requests.
  CHECK(completion_errc(IBV_WC_RETRY_EXC_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_RNR_RETRY_EXC_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_WR_FLUSH_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_FATAL_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_RESP_TIMEOUT_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_LOC_PROT_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_LOC_LEN_ERR) == errc::unavailable);
  CHECK(completion_errc(IBV_WC_GENERAL_ERR) == errc::unavailable);
}

TEST_CASE("setup failures carry a canonical code and say what to do") {
  const absl::Status s =
      innet::rdma::detail::errno_status(EADDRINUSE, "cannot listen", "pick another port");
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(std::string(s.message()) ==
        std::string("cannot listen: ") + std::strerror(EADDRINUSE) + "; pick another port");
  CHECK(innet::rdma::detail::errno_code(ETIMEDOUT) == absl::StatusCode::kDeadlineExceeded);
  CHECK(innet::rdma::detail::errno_code(ENODEV) == absl::StatusCode::kUnavailable);
  CHECK(innet::rdma::detail::errno_code(ENOMEM) == absl::StatusCode::kResourceExhausted);

  const absl::Status none = innet::rdma::detail::no_device_status("test");
  CHECK(none.code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(none.message()).find("rdma link add rxe0 type rxe netdev") !=
        std::string::npos);
}
