// Shared scaffolding of the eBPF runtime's tests: the BPF objects CMake built, the
// digest program's independent reference, and skipping what the host cannot run.
//
// A case that needs something this host lacks (root, a kernel with syscall
// programs, network namespaces) prints why and exits 77, which ctest reports as
// skipped (tests/runtimes/ebpf/CMakeLists.txt sets SKIP_RETURN_CODE). Each case runs
// in its own process under ctest, so exiting ends only that case.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/ebpf/digest.hpp"

namespace innet::ebpf::testing {

// Paths of the objects innet_add_bpf_object built (see CMakeLists.txt).
inline constexpr const char* digest_object = INNET_EBPF_DIGEST_OBJECT;
inline constexpr const char* unsafe_object = INNET_EBPF_TEST_UNSAFE_OBJECT;
inline constexpr const char* helpers_object = INNET_EBPF_TEST_HELPERS_OBJECT;

[[noreturn]] inline void skip(const std::string& reason) {
  std::printf("SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  std::exit(77);
}

// Why this process cannot load and test-run syscall programs, if it cannot. First
// a trivial XDP program, which tells missing privileges (EPERM) apart from a kernel
// that has no syscall programs (libbpf's probe answers "no" to both).
inline std::optional<std::string> kernel_bpf_missing() {
  const bpf_insn return_zero[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  const int fd = ::bpf_prog_load(BPF_PROG_TYPE_XDP, nullptr, "GPL", return_zero, 2, nullptr);
  if (fd < 0) {
    return std::string("the kernel refuses to load even a trivial BPF program (") +
           std::strerror(-fd) + "); run as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN";
  }
  ::close(fd);
  if (::libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SYSCALL, nullptr) != 1) {
    return "this kernel has no BPF_PROG_TYPE_SYSCALL programs (Linux 5.14+)";
  }
  return std::nullopt;
}

inline void require_kernel_bpf() {
  if (auto missing = kernel_bpf_missing()) skip(*missing);
}

template <class T>
T require_ok(absl::StatusOr<T> s) {
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(*s);
}

inline std::span<std::byte> bytes_of(digest_ctx& ctx) {
  return std::as_writable_bytes(std::span(&ctx, 1));
}

// The digest's specification, computed without innet's code: libxxhash for the hash,
// a plain loop for the fold (see innet/ebpf/digest.hpp).
inline digest_ctx digest_reference(const digest_ctx& in) {
  digest_ctx out = in;
  out.hash = XXH3_64bits_withSeed(in.data, sizeof in.data, in.seed);
  const std::size_t len = in.len < 64 ? in.len : 64;
  std::uint64_t fold = 0xcbf29ce484222325ULL ^ in.seed;
  std::uint32_t odd = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    const std::uint64_t b = i < len ? in.data[i] : 0;
    fold = (fold ^ b) * 0x100000001b3ULL + (b & 1) * i;
    odd += static_cast<std::uint32_t>(b & 1);
  }
  out.fold = fold;
  out.odd = odd;
  return out;
}

// Contexts covering every length class of the fold (0, 1..63, 64, above 64), zero and
// all-ones blocks, and random ones; garbage in the output fields, which the program
// must overwrite.
inline std::vector<digest_ctx> digest_inputs(std::size_t random_count) {
  std::vector<digest_ctx> inputs;
  std::mt19937_64 rng(0x1badb002);
  const auto make = [&](std::uint64_t seed, std::uint32_t len, std::uint8_t fill, bool random) {
    digest_ctx ctx{};
    ctx.seed = seed;
    ctx.len = len;
    for (auto& b : ctx.data)
      b = random ? static_cast<std::uint8_t>(rng()) : fill;
    ctx.odd = static_cast<std::uint32_t>(rng());
    ctx.hash = rng();
    ctx.fold = rng();
    return ctx;
  };
  for (std::uint32_t len : {0U, 1U, 7U, 8U, 9U, 31U, 32U, 63U, 64U, 65U, 1000U, 0xFFFFFFFFU}) {
    inputs.push_back(make(0, len, 0x00, false));
    inputs.push_back(make(~std::uint64_t{0}, len, 0xFF, false));
    inputs.push_back(make(rng(), len, 0, true));
  }
  for (std::size_t i = 0; i < random_count; ++i) {
    inputs.push_back(make(rng(), static_cast<std::uint32_t>(rng() % 80), 0, true));
  }
  return inputs;
}

inline bool same_bytes(const digest_ctx& a, const digest_ctx& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Runs every input through `executor` and compares the whole context and R0 with the
// reference. One failing input is reported with its index, not a thousand.
template <class Executor>
void check_digest(const Executor& executor, std::size_t random_count = 2000) {
  const std::vector<digest_ctx> inputs = digest_inputs(random_count);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    digest_ctx ctx = inputs[i];
    const digest_ctx expected = digest_reference(inputs[i]);
    const auto r = executor.run(bytes_of(ctx));
    INFO("input ", i, " (len ", inputs[i].len, ", seed ", inputs[i].seed, ")");
    REQUIRE(r.ok());
    REQUIRE(*r == expected.odd);
    REQUIRE(ctx.hash == expected.hash);
    REQUIRE(ctx.fold == expected.fold);
    REQUIRE(same_bytes(ctx, expected));
  }
}

}  // namespace innet::ebpf::testing
