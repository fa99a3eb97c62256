// ebpf_digest: one BPF object file, run by DPDK's rte_bpf JIT in this process and by
// the kernel, with the same context; prints both results and checks they agree.
//
//   ebpf_digest [path/to/innet_ebpf_digest.bpf.o] [message]
//
// The program is innet's digest (innet/ebpf/digest.hpp): XXH3-64 of a 64-byte
// block plus a fold over its first `len` bytes. The kernel part needs root (or
// CAP_BPF and CAP_PERFMON) and Linux 5.14+; without them the example says so and
// exits 1. Exit 0 means both ran and agreed.
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "innet/ebpf/digest.hpp"
#include "innet/ebpf/kernel_executor.hpp"
#include "innet/ebpf/rte_executor.hpp"

namespace {

using innet::ebpf::digest_ctx;

void print(const char* engine, const digest_ctx& ctx, std::uint64_t ret) {
  std::printf("%-22s hash %016llx  fold %016llx  odd bytes %u  (returned %llu)\n", engine,
              static_cast<unsigned long long>(ctx.hash), static_cast<unsigned long long>(ctx.fold),
              ctx.odd, static_cast<unsigned long long>(ret));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string object = argc > 1 ? argv[1] : INNET_EBPF_DIGEST_OBJECT;
  const std::string message = argc > 2 ? argv[2] : "innet: one program, two executors";

  digest_ctx input{};
  input.seed = 2024;
  input.len = static_cast<std::uint32_t>(message.size() < 64 ? message.size() : 64);
  std::memcpy(input.data, message.data(), input.len);
  std::printf("digest of \"%.*s\" (seed %llu), object %s\n", static_cast<int>(input.len),
              message.c_str(), static_cast<unsigned long long>(input.seed), object.c_str());

  auto jit = innet::ebpf::rte_executor::load({.path = object,
                                              .section = "syscall",
                                              .ctx_size = sizeof(digest_ctx),
                                              .engine = innet::ebpf::rte_engine::jit});
  if (!jit.ok()) {
    std::fprintf(stderr, "ebpf_digest: %s\n", jit.status().ToString().c_str());
    return 1;
  }
  digest_ctx by_jit = input;
  const auto jit_ret = jit->run(std::as_writable_bytes(std::span(&by_jit, 1)));
  if (!jit_ret.ok()) {
    std::fprintf(stderr, "ebpf_digest: rte_bpf JIT run: %s\n", innet::to_string(jit_ret.error()));
    return 1;
  }
  print("rte_bpf JIT:", by_jit, *jit_ret);

  auto kernel = innet::ebpf::kernel_executor::load({.path = object, .program = "run_digest"});
  if (!kernel.ok()) {
    std::fprintf(stderr, "ebpf_digest: %s\n", kernel.status().ToString().c_str());
    return 1;
  }
  digest_ctx by_kernel = input;
  const auto kernel_ret = kernel->run(std::as_writable_bytes(std::span(&by_kernel, 1)));
  if (!kernel_ret.ok()) {
    std::fprintf(stderr, "ebpf_digest: kernel test run: %s\n",
                 innet::to_string(kernel_ret.error()));
    return 1;
  }
  print("kernel (test run):", by_kernel, *kernel_ret);

  const bool same = std::memcmp(&by_jit, &by_kernel, sizeof by_jit) == 0 && *jit_ret == *kernel_ret;
  std::printf("%s\n", same ? "identical" : "DIFFERENT");
  return same ? 0 : 1;
}
