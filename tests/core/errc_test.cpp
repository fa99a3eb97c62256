#include "innet/core/errc.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "innet/core/result.hpp"
#include "innet/core/status.hpp"

namespace {
constexpr innet::errc all_errors[] = {
    innet::errc::truncated,    innet::errc::malformed,  innet::errc::unsupported,
    innet::errc::out_of_range, innet::errc::misaligned, innet::errc::checksum_mismatch,
    innet::errc::incompatible, innet::errc::not_found,  innet::errc::would_block,
    innet::errc::remote_error, innet::errc::unavailable};
}

TEST_CASE("every errc has its own name and a non-OK status code") {
  std::set<std::string> names{innet::to_string(innet::errc::ok)};
  for (const auto e : all_errors) {
    CHECK(names.insert(innet::to_string(e)).second);
    CHECK(innet::status_code(e) != absl::StatusCode::kOk);
    CHECK(innet::status_code(e) != absl::StatusCode::kUnknown);
  }
  CHECK(innet::to_status(innet::errc::ok, "x").ok());
}

TEST_CASE("to_status names the context and the error") {
  const absl::Status s = innet::to_status(innet::errc::truncated, "parsing RoCEv2 BTH");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "parsing RoCEv2 BTH: truncated");
}

TEST_CASE("result carries a value or an error, never both") {
  constexpr innet::result<int> good = 7;
  constexpr innet::result<int> bad = innet::errc::not_found;
  static_assert(good.ok() && *good == 7 && good.error() == innet::errc::ok);
  static_assert(!bad.ok() && bad.error() == innet::errc::not_found && bad.value_or(3) == 3);
  // An "ok" error without a value would let a caller read a default T as if real.
  constexpr innet::result<int> misuse = innet::errc::ok;
  static_assert(!misuse.ok());

  const auto ok_status = innet::to_status_or(good, "ctx");
  REQUIRE(ok_status.ok());
  CHECK(*ok_status == 7);
  CHECK(innet::to_status_or(bad, "ctx").status().code() == absl::StatusCode::kNotFound);
}
