// rte_executor beyond the digest: helpers registered from C++ functions, what the
// verifier checks about their arguments, and the load-time parameter checks.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "absl/strings/match.h"
#include "ebpf_testing.hpp"

#if INNET_EBPF_HAVE_RTE_BPF
#include "innet/ebpf/rte_executor.hpp"
#include "innet/ebpf/rte_helper.hpp"

namespace {

using namespace innet::ebpf;
using namespace innet::ebpf::testing;

// The layout of bpf/helper_call.bpf.cpp's context.
struct helper_ctx {
  std::uint64_t a;
  std::uint64_t b;
  std::uint64_t out;
};
struct word_pair {
  std::uint64_t first;
  std::uint64_t second;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  return (a ^ (b >> 7)) * 0x9E3779B97F4A7C15ULL + b;
}
std::uint64_t sum(const word_pair* words) {
  return words->first + words->second;
}

std::vector<rte_helper> helpers() {
  return {rte_helper::of<&mix>("innet_test_mix"), rte_helper::of<&sum>("innet_test_sum")};
}

TEST_CASE("rte_helper describes a C++ function's arguments to rte_bpf") {
  const rte_helper m = rte_helper::of<&mix>("innet_test_mix");
  CHECK(m.name == "innet_test_mix");
  CHECK(m.arg_count == 2);
  CHECK(m.args[0].type == RTE_BPF_ARG_RAW);
  CHECK(m.args[0].size == sizeof(std::uint64_t));
  CHECK(m.ret.type == RTE_BPF_ARG_RAW);
  CHECK(m.function(3, 1000, 0, 0, 0) == mix(3, 1000));

  const rte_helper s = rte_helper::of<&sum>("innet_test_sum");
  CHECK(s.arg_count == 1);
  CHECK(s.args[0].type == RTE_BPF_ARG_PTR);
  CHECK(s.args[0].size == sizeof(word_pair));
  const word_pair pair{40, 2};
  CHECK(s.function(reinterpret_cast<std::uintptr_t>(&pair), 0, 0, 0, 0) == 42);
}

TEST_CASE("a program calls registered helpers under the interpreter and the JIT") {
  const std::vector<rte_helper> table = helpers();
  for (const rte_engine engine : {rte_engine::interpreter, rte_engine::jit}) {
    const rte_executor executor = require_ok(rte_executor::load({.path = helpers_object,
                                                                 .section = "syscall/helper",
                                                                 .ctx_size = sizeof(helper_ctx),
                                                                 .helpers = table,
                                                                 .engine = engine}));
    std::mt19937_64 rng(7);
    for (int i = 0; i < 500; ++i) {
      helper_ctx ctx{rng(), rng(), 0};
      const std::uint64_t expected = mix(ctx.a, ctx.b) + ctx.a + ctx.b;
      const auto r = executor.run(std::as_writable_bytes(std::span(&ctx, 1)));
      REQUIRE(r.ok());
      REQUIRE(ctx.out == expected);
      REQUIRE(*r == (expected & 0xFFFF));
    }
  }
}

TEST_CASE("a program calling an unregistered helper is refused, naming the symbol") {
  const std::vector<rte_helper> only_mix = {rte_helper::of<&mix>("innet_test_mix")};
  const absl::Status status = rte_executor::load({.path = helpers_object,
                                                  .section = "syscall/helper",
                                                  .ctx_size = sizeof(helper_ctx),
                                                  .helpers = only_mix})
                                  .status();
  INFO(status.ToString());
  REQUIRE_FALSE(status.ok());
  CHECK(absl::StrContains(status.message(), "innet_test_sum"));
}

TEST_CASE("the verifier checks a helper's pointer argument against the context size") {
  // The program passes &ctx->a as a word_pair*: 16 bytes, so a context that ends
  // after `a` leaves the helper's argument out of bounds.
  const std::vector<rte_helper> table = helpers();
  const absl::Status status = rte_executor::load({.path = helpers_object,
                                                  .section = "syscall/helper",
                                                  .ctx_size = sizeof(std::uint64_t),
                                                  .helpers = table})
                                  .status();
  INFO(status.ToString());
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("rte_executor::load refuses a zero context size before calling rte_bpf") {
  const absl::Status status =
      rte_executor::load({.path = digest_object, .section = "syscall", .ctx_size = 0}).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), "ctx_size"));
}

}  // namespace
#endif
