// ebpf_bench: nanoseconds per run of one program, the digest (innet/ebpf/digest.hpp),
// under every executor of the eBPF runtime, in one run:
//
//   native              the same function compiled by the host compiler (the bound)
//   rte_interpreter     DPDK rte_bpf's interpreter
//   rte_jit             DPDK rte_bpf's JIT
//   kernel_syscall      BPF_PROG_TEST_RUN of the syscall program: one bpf(2) call per
//                       run, since the kernel refuses `repeat` for this program type;
//                       what a userspace caller of a kernel program pays
//   kernel_xdp_repeat   the same computation as an XDP program, BPF_PROG_TEST_RUN
//                       with `repeat`; the time is the kernel's own per-run figure,
//                       i.e. the kernel JIT's code plus its test loop, no system call
//
// Every benchmark reports `per_run`, seconds per program run (printed with an SI
// prefix, e.g. 41.2n); for all but kernel_xdp_repeat it equals the iteration time.
// Each run works on one of 64 contexts in turn, in place, so no run sees its
// predecessor's output as input. The kernel benchmarks need root (or CAP_BPF and
// CAP_PERFMON) and report an error otherwise; rte_bpf needs the DPDK runtime.
//
// Build with the release preset: cmake --build --preset release --target ebpf_bench.
#include <bpf/libbpf.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>

#include <benchmark/benchmark.h>

#include "innet/ebpf/digest.hpp"
#include "innet/ebpf/kernel_executor.hpp"
#if INNET_EBPF_HAVE_RTE_BPF
#include "innet/ebpf/rte_executor.hpp"
#endif

namespace {

using innet::ebpf::digest_ctx;

constexpr const char* digest_object = INNET_EBPF_DIGEST_OBJECT;
constexpr std::size_t context_count = 64;

std::array<digest_ctx, context_count> make_contexts() {
  std::array<digest_ctx, context_count> contexts{};
  std::mt19937_64 rng(42);
  for (digest_ctx& c : contexts) {
    c.seed = rng();
    c.len = static_cast<std::uint32_t>(rng() % 65);
    for (auto& b : c.data)
      b = static_cast<std::uint8_t>(rng());
  }
  return contexts;
}

void set_per_run(benchmark::State& state, double runs_per_iteration) {
  state.counters["per_run"] =
      benchmark::Counter(runs_per_iteration, benchmark::Counter::kIsIterationInvariantRate |
                                                 benchmark::Counter::kInvert);
}

void native(benchmark::State& state) {
  auto contexts = make_contexts();
  std::size_t i = 0;
  for (auto _ : state) {
    digest_ctx* ctx = &contexts[i++ % context_count];
    benchmark::DoNotOptimize(ctx);
    benchmark::DoNotOptimize(innet::ebpf::digest(*ctx));
    benchmark::ClobberMemory();
  }
  set_per_run(state, 1);
}
BENCHMARK(native);

// Runs `executor` over the contexts in turn; the executor is loaded by the caller.
template <class Executor>
void run_loop(benchmark::State& state, const Executor& executor) {
  auto contexts = make_contexts();
  std::size_t i = 0;
  for (auto _ : state) {
    auto bytes = std::as_writable_bytes(std::span(&contexts[i++ % context_count], 1));
    const auto r = executor.run(bytes);
    if (!r.ok()) {
      state.SkipWithError(innet::to_string(r.error()));
      break;
    }
    benchmark::DoNotOptimize(*r);
  }
  set_per_run(state, 1);
}

#if INNET_EBPF_HAVE_RTE_BPF
void rte(benchmark::State& state, innet::ebpf::rte_engine engine) {
  auto executor = innet::ebpf::rte_executor::load({.path = digest_object,
                                                   .section = "syscall",
                                                   .ctx_size = sizeof(digest_ctx),
                                                   .engine = engine});
  if (!executor.ok()) {
    state.SkipWithError(executor.status().ToString().c_str());
    return;
  }
  run_loop(state, *executor);
}
BENCHMARK_CAPTURE(rte, interpreter, innet::ebpf::rte_engine::interpreter)->Name("rte_interpreter");
BENCHMARK_CAPTURE(rte, jit, innet::ebpf::rte_engine::jit)->Name("rte_jit");
#endif

void kernel_syscall(benchmark::State& state) {
  auto executor =
      innet::ebpf::kernel_executor::load({.path = digest_object, .program = "run_digest"});
  if (!executor.ok()) {
    state.SkipWithError(executor.status().ToString().c_str());
    return;
  }
  run_loop(state, *executor);
}
BENCHMARK(kernel_syscall);

// The kernel times `repeat` runs itself and reports the mean; a repeated test run
// also costs some 20 ms of set-up per call, which that figure leaves out and a wall
// clock would not, so this benchmark reports the kernel's time (manual time).
void kernel_xdp_repeat(benchmark::State& state) {
  auto executor =
      innet::ebpf::kernel_executor::load({.path = digest_object, .program = "digest_xdp"});
  if (!executor.ok()) {
    state.SkipWithError(executor.status().ToString().c_str());
    return;
  }
  const auto repeat = static_cast<std::uint32_t>(state.range(0));
  auto contexts = make_contexts();
  digest_ctx out{};
  std::size_t i = 0;
  for (auto _ : state) {
    const auto r = executor->run_packet(std::as_bytes(std::span(&contexts[i++ % context_count], 1)),
                                        std::as_writable_bytes(std::span(&out, 1)), repeat);
    if (!r.ok()) {
      state.SkipWithError(innet::to_string(r.error()));
      break;
    }
    state.SetIterationTime(static_cast<double>(r->duration_ns) * repeat * 1e-9);
  }
  set_per_run(state, repeat);
}
BENCHMARK(kernel_xdp_repeat)->Arg(1 << 20)->UseManualTime()->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
