// One object file, every executor: the digest program (innet/ebpf/digest.hpp, built
// from runtimes/ebpf/programs/digest.bpf.cpp) under native code, rte_bpf's
// interpreter and JIT, the kernel as a syscall program, and the kernel as XDP over
// packet bytes. Each must reproduce the independent reference (libxxhash and a plain
// loop, ebpf_testing.hpp) on every input, whole context and return value.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "ebpf_testing.hpp"
#include "innet/ebpf/bpf_executor.hpp"
#include "innet/ebpf/digest.hpp"
#include "innet/ebpf/kernel_executor.hpp"
#if INNET_EBPF_HAVE_RTE_BPF
#include "innet/ebpf/rte_executor.hpp"
#endif

namespace {

using namespace innet::ebpf;
using namespace innet::ebpf::testing;

// The native build of the same function, wrapped as an executor so that the one
// check_digest() drives it too.
struct native_digest {
  innet::result<std::uint64_t> run(std::span<std::byte> ctx) const noexcept {
    if (ctx.size() < sizeof(digest_ctx)) return innet::errc::out_of_range;
    digest_ctx copy;
    std::memcpy(&copy, ctx.data(), sizeof copy);
    const std::uint32_t odd = digest(copy);
    std::memcpy(ctx.data(), &copy, sizeof copy);
    return std::uint64_t{odd};
  }
};

static_assert(bpf_executor<native_digest>);
static_assert(bpf_executor<kernel_executor>);

// Every executor refuses a context shorter than the program reads, and runs nothing.
template <class Executor>
void check_short_context_refused(const Executor& executor) {
  std::array<std::byte, sizeof(digest_ctx) - 8> short_ctx{};
  const auto r = executor.run(short_ctx);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == innet::errc::out_of_range);
  for (std::byte b : short_ctx)
    REQUIRE(b == std::byte{0});
}

TEST_CASE("digest compiled natively matches the reference") {
  check_digest(native_digest{});
  check_short_context_refused(native_digest{});
}

#if INNET_EBPF_HAVE_RTE_BPF
static_assert(bpf_executor<rte_executor>);

TEST_CASE("digest under the rte_bpf interpreter matches the reference") {
  const rte_executor executor = require_ok(rte_executor::load({.path = digest_object,
                                                               .section = "syscall",
                                                               .ctx_size = sizeof(digest_ctx),
                                                               .engine = rte_engine::interpreter}));
  CHECK(executor.engine() == rte_engine::interpreter);
  check_digest(executor);
  check_short_context_refused(executor);
}

TEST_CASE("digest under the rte_bpf JIT matches the reference") {
  const rte_executor executor = require_ok(rte_executor::load({.path = digest_object,
                                                               .section = "syscall",
                                                               .ctx_size = sizeof(digest_ctx),
                                                               .engine = rte_engine::jit}));
  CHECK(executor.engine() == rte_engine::jit);
  CHECK(executor.jit_size() > 0);
  check_digest(executor);
  check_short_context_refused(executor);
}

TEST_CASE("rte_bpf burst runs give each context its own result") {
  for (const rte_engine engine : {rte_engine::interpreter, rte_engine::jit}) {
    const rte_executor executor = require_ok(rte_executor::load({.path = digest_object,
                                                                 .section = "syscall",
                                                                 .ctx_size = sizeof(digest_ctx),
                                                                 .engine = engine}));
    std::vector<digest_ctx> contexts = digest_inputs(61);
    const std::vector<digest_ctx> inputs = contexts;
    std::vector<void*> pointers;
    for (digest_ctx& c : contexts)
      pointers.push_back(&c);
    std::vector<std::uint64_t> results(pointers.size(), ~std::uint64_t{0});
    REQUIRE(executor.run_burst(pointers, results) == pointers.size());
    for (std::size_t i = 0; i < contexts.size(); ++i) {
      const digest_ctx expected = digest_reference(inputs[i]);
      INFO("input ", i);
      REQUIRE(results[i] == expected.odd);
      REQUIRE(same_bytes(contexts[i], expected));
    }
  }
}
#else
TEST_CASE("digest under rte_bpf needs the DPDK runtime") {
  skip("built without the DPDK runtime (INNET_WITH_DPDK), which provides rte_bpf");
}
#endif

TEST_CASE("digest as a kernel syscall program matches the reference") {
  require_kernel_bpf();
  const kernel_executor executor =
      require_ok(kernel_executor::load({.path = digest_object, .program = "run_digest"}));
  CHECK(executor.type() == BPF_PROG_TYPE_SYSCALL);
  check_digest(executor);
  check_short_context_refused(executor);
}

TEST_CASE("digest as a kernel XDP program over packet bytes matches the reference") {
  require_kernel_bpf();
  const kernel_executor executor =
      require_ok(kernel_executor::load({.path = digest_object, .program = "digest_xdp"}));
  CHECK(executor.type() == BPF_PROG_TYPE_XDP);
  // A syscall-only entry point is refused, not misused.
  std::array<std::byte, sizeof(digest_ctx)> scratch{};
  CHECK(executor.run(scratch).error() == innet::errc::unsupported);

  const std::vector<digest_ctx> inputs = digest_inputs(2000);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    digest_ctx packet = inputs[i];
    digest_ctx out{};
    const digest_ctx expected = digest_reference(inputs[i]);
    // A few calls repeat the program on the one buffer (the kernel's `repeat`, what
    // the benchmark uses); the program is idempotent, so the packet that comes out is
    // the same. Only a few: a repeated run costs the kernel some 20 ms of set-up.
    const std::uint32_t repeat = i < 3 ? 5 : 1;
    const auto r = executor.run_packet(std::as_bytes(std::span(&packet, 1)), bytes_of(out), repeat);
    INFO("input ", i, ", repeat ", repeat);
    REQUIRE(r.ok());
    REQUIRE(r->retval == XDP_PASS);
    REQUIRE(r->data_size_out == sizeof(digest_ctx));
    REQUIRE(same_bytes(out, expected));
  }

  // A packet shorter than a digest_ctx is aborted, untouched.
  std::array<std::byte, 64> short_packet{};
  std::array<std::byte, 64> short_out{};
  const auto r = executor.run_packet(short_packet, short_out);
  REQUIRE(r.ok());
  CHECK(r->retval == XDP_ABORTED);
  CHECK(short_out == short_packet);
}

}  // namespace
