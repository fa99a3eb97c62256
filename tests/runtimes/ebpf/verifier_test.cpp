// Unsafe programs are refused by both verifiers, and the reason reaches the caller.
//
// The programs (bpf/unsafe.bpf.c and bpf/unsafe_oob.bpf.cpp, linked into one object)
// are syscall programs, so the same section is offered to rte_bpf and the same
// function to the kernel. Each check names the phrase its verifier uses for that
// fault, so a Status that only said "Invalid argument" would fail.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "ebpf_testing.hpp"
#include "innet/ebpf/kernel_executor.hpp"
#include "innet/ebpf/kernel_object.hpp"
#if INNET_EBPF_HAVE_RTE_BPF
#include "innet/ebpf/rte_executor.hpp"
#endif

namespace {

using namespace innet::ebpf;
using namespace innet::ebpf::testing;

void check_refusal(const absl::Status& status, absl::StatusCode code,
                   std::initializer_list<const char*> phrases) {
  INFO(status.ToString());
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == code);
  for (const char* phrase : phrases)
    CHECK(absl::StrContains(status.message(), phrase));
}

#if INNET_EBPF_HAVE_RTE_BPF
absl::Status rte_load(const std::string& section, std::size_t ctx_size = 64) {
  return rte_executor::load({.path = unsafe_object,
                             .section = section,
                             .ctx_size = ctx_size,
                             .engine = rte_engine::interpreter})
      .status();
}
#endif

absl::Status kernel_load(const std::string& program) {
  return kernel_executor::load({.path = unsafe_object, .program = program}).status();
}

TEST_CASE("an unbounded loop is refused by rte_bpf and by the kernel with their reasons") {
#if INNET_EBPF_HAVE_RTE_BPF
  check_refusal(rte_load("syscall/spin"), absl::StatusCode::kInvalidArgument,
                {"syscall/spin", "rte_errno 22", "loops detected"});
#endif
  require_kernel_bpf();
  check_refusal(kernel_load("spin"), absl::StatusCode::kInvalidArgument,
                {"kernel verifier rejected program 'spin'", "infinite loop detected"});
}

TEST_CASE("a read of an uninitialised register is refused by rte_bpf and by the kernel") {
#if INNET_EBPF_HAVE_RTE_BPF
  check_refusal(rte_load("syscall/uninit"), absl::StatusCode::kInvalidArgument,
                {"syscall/uninit", "src reg value is undefined"});
#endif
  require_kernel_bpf();
  check_refusal(kernel_load("uninit"), absl::StatusCode::kInvalidArgument,
                {"program 'uninit'", "R3 !read_ok"});
}

TEST_CASE("a context read past its end is refused by rte_bpf at load, by the kernel at run") {
#if INNET_EBPF_HAVE_RTE_BPF
  check_refusal(rte_load("syscall/oob"), absl::StatusCode::kInvalidArgument,
                {"syscall/oob", "memory boundary violation"});
  // The same program with a context that holds offset 4000 is fine.
  CHECK(rte_load("syscall/oob", 4096).ok());
#endif
  require_kernel_bpf();
  const kernel_executor executor =
      require_ok(kernel_executor::load({.path = unsafe_object, .program = "oob"}));
  std::array<std::byte, 64> small{};
  CHECK(executor.run(small).error() == innet::errc::out_of_range);
  std::vector<std::byte> large(4096);
  large[4000] = std::byte{42};
  const auto r = executor.run(large);
  REQUIRE(r.ok());
  CHECK(*r == 42);
}

TEST_CASE("the kernel loads only the named program, so one object can hold refused ones") {
  require_kernel_bpf();
  // Loading everything fails on the first unsafe program...
  const absl::StatusOr<kernel_object> all = kernel_object::open(unsafe_object);
  REQUIRE_FALSE(all.ok());
  CHECK(absl::StrContains(all.status().message(), "kernel verifier rejected program"));
  // ...naming a program that does not exist says which ones do.
  check_refusal(kernel_load("no_such_program"), absl::StatusCode::kNotFound,
                {"no program 'no_such_program'", "spin", "uninit", "oob"});
}

TEST_CASE("a verifier log size the kernel would refuse is rejected before loading") {
  check_refusal(
      kernel_executor::load({.path = unsafe_object, .program = "spin", .log_size = 64}).status(),
      absl::StatusCode::kInvalidArgument, {"log_size 64 is out of range", "128"});
  check_refusal(kernel_object::open(unsafe_object, {.log_size = 1U << 30}).status(),
                absl::StatusCode::kInvalidArgument, {"log_size 1073741824 is out of range"});
}

TEST_CASE("a verifier log too small for the reason says it was truncated") {
  require_kernel_bpf();
  check_refusal(
      kernel_executor::load({.path = unsafe_object, .program = "uninit", .log_size = 128}).status(),
      absl::StatusCode::kInvalidArgument,
      {"kernel verifier rejected program 'uninit'", "verifier log truncated at 128 bytes",
       "raise kernel_load_options::log_size"});
}

TEST_CASE("missing files and sections are reported as not found") {
  check_refusal(kernel_executor::load({.path = "/nonexistent/x.bpf.o", .program = "x"}).status(),
                absl::StatusCode::kNotFound, {"/nonexistent/x.bpf.o"});
#if INNET_EBPF_HAVE_RTE_BPF
  check_refusal(
      rte_executor::load({.path = "/nonexistent/x.bpf.o", .section = "syscall", .ctx_size = 8})
          .status(),
      absl::StatusCode::kNotFound, {"/nonexistent/x.bpf.o"});
  const absl::Status no_section = rte_load("syscall/none");
  INFO(no_section.ToString());
  CHECK_FALSE(no_section.ok());
  CHECK(absl::StrContains(no_section.message(), "syscall/none"));
#endif
}

}  // namespace
