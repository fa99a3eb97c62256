// kernel_executor: one BPF program loaded into the kernel, run with BPF_PROG_TEST_RUN.
//
// The bpf_executor model for the kernel (innet/ebpf/bpf_executor.hpp). run(ctx) is
// for BPF_PROG_TYPE_SYSCALL programs (SEC("syscall"), Linux 5.14+): the kernel copies
// ctx in, runs the program on it, and copies it back into the same buffer, which is
// the rte_bpf model of a context, so one object file runs under both. The kernel
// accepts neither `repeat` nor a separate ctx_out for this type, so every run is
// one bpf(2) system call.
//
// run_packet() is for packet programs (XDP, tc, socket filters): data in, data out,
// and `repeat`, which the kernel times itself and reports as nanoseconds per run.
//
// The executor owns its object; only the named program is loaded, so an object may
// also hold programs this kernel would refuse (or that target rte_bpf only).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/result.hpp"
#include "innet/ebpf/kernel_object.hpp"

namespace innet::ebpf {

struct kernel_executor_params {
  std::string path;                   // the BPF ELF object
  std::string program;                // the program's name: its C symbol, not its section
  std::uint32_t log_size = 1U << 20;  // verifier log kept if the load fails
};

// What one BPF_PROG_TEST_RUN of a packet program reports.
struct packet_run {
  std::uint32_t retval = 0;         // the program's verdict (XDP_PASS, TC_ACT_OK, ...)
  std::uint32_t data_size_out = 0;  // bytes of packet written to `out`
  std::uint32_t duration_ns = 0;    // the kernel's mean time per repetition
};

class kernel_executor {
 public:
  static absl::StatusOr<kernel_executor> load(const kernel_executor_params& params) {
    const std::string_view names[] = {params.program};
    absl::StatusOr<kernel_object> object =
        kernel_object::open(params.path, {.programs = names, .log_size = params.log_size});
    if (!object.ok()) return object.status();
    absl::StatusOr<::bpf_program*> program = object->program(params.program);
    if (!program.ok()) return program.status();
    const int fd = ::bpf_program__fd(*program);
    const ::bpf_prog_type type = ::bpf_program__type(*program);
    return kernel_executor(std::move(*object), fd, type);
  }

  // Runs a syscall program on `ctx` in place; see bpf_executor for the contract.
  // errc::unsupported for another program type, errc::out_of_range when ctx is
  // shorter than the program reads (or above the kernel's 64 KiB), errc::unavailable
  // when the kernel refuses for another reason.
  result<std::uint64_t> run(std::span<std::byte> ctx) const noexcept {
    if (type_ != BPF_PROG_TYPE_SYSCALL) return errc::unsupported;
    if (ctx.size() > 0xFFFF) return errc::out_of_range;
    // Not LIBBPF_OPTS: it is a statement expression, which -Wpedantic refuses in C++.
    ::bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.ctx_in = ctx.empty() ? nullptr : ctx.data();
    opts.ctx_size_in = static_cast<std::uint32_t>(ctx.size());
    if (::bpf_prog_test_run_opts(fd_, &opts) != 0) {
      // EINVAL is what the kernel answers to a ctx below the highest offset the
      // verifier saw the program read.
      return errno == EINVAL ? errc::out_of_range : errc::unavailable;
    }
    return std::uint64_t{opts.retval};
  }

  // Runs a packet program `repeat` times over a copy of `in`, leaving the packet the
  // last run produced in `out`. errc::unsupported for a syscall program,
  // errc::truncated when `out` cannot hold the result, errc::malformed when the
  // kernel refuses the input (too short for the program type, for instance).
  result<packet_run> run_packet(std::span<const std::byte> in, std::span<std::byte> out,
                                std::uint32_t repeat = 1) const noexcept {
    if (type_ == BPF_PROG_TYPE_SYSCALL) return errc::unsupported;
    if (in.size() > 0xFFFFFFFFU || out.size() > 0xFFFFFFFFU) return errc::out_of_range;
    ::bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = in.data();
    opts.data_size_in = static_cast<std::uint32_t>(in.size());
    opts.data_out = out.empty() ? nullptr : out.data();
    opts.data_size_out = static_cast<std::uint32_t>(out.size());
    opts.repeat = repeat;
    if (::bpf_prog_test_run_opts(fd_, &opts) != 0) {
      switch (errno) {
        case ENOSPC:
          return errc::truncated;
        case EINVAL:
          return errc::malformed;
        default:
          return errc::unavailable;
      }
    }
    return packet_run{opts.retval, opts.data_size_out, opts.duration};
  }

  int fd() const noexcept { return fd_; }
  ::bpf_prog_type type() const noexcept { return type_; }
  const kernel_object& object() const noexcept { return object_; }

 private:
  kernel_executor(kernel_object object, int fd, ::bpf_prog_type type)
      : object_(std::move(object)), fd_(fd), type_(type) {}

  kernel_object object_;
  int fd_;
  ::bpf_prog_type type_;
};

}  // namespace innet::ebpf
