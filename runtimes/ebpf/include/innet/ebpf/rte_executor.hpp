// rte_executor: one section of a BPF ELF object, loaded by DPDK's rte_bpf and run in
// this process, by rte_bpf's interpreter or by the native code its JIT emits.
//
// The bpf_executor model for userspace (innet/ebpf/bpf_executor.hpp). Loading takes
// an explicit parameter struct, as rte_bpf_prm does: the ELF path and section, the
// context size, the helpers (innet/ebpf/rte_helper.hpp), and the engine. The context
// is an RTE_BPF_ARG_PTR of ctx_size bytes: rte_bpf's verifier refuses a program that
// may touch bytes beyond it, and run() refuses a shorter buffer.
//
// What rte_bpf (DPDK 22.11) accepts, compared with the kernel:
// - no backward jumps at all ("loops detected"): loops must be unrolled;
// - every path is evaluated separately, so a program with n independent branches
//   costs 2^n at load time: keep programs straight-line;
// - no maps, no kernel helpers, no BPF-to-BPF calls, no global data; calls go to the
//   registered helpers only.
// A program inside those limits and using only its context (a SEC("syscall") program
// in particular, see innet/ebpf/digest.hpp) runs unchanged in the kernel too.
//
// Refusals are absl::Status with rte_errno and the reason rte_bpf logged; no EAL
// initialisation is needed.
#pragma once

#include <rte_bpf.h>
#include <rte_errno.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/core/errc.hpp"
#include "innet/core/result.hpp"
#include "innet/ebpf/detail/rte_log.hpp"
#include "innet/ebpf/rte_helper.hpp"

namespace innet::ebpf {

enum class rte_engine : std::uint8_t { interpreter, jit };

struct rte_load_params {
  std::string path;          // the BPF ELF object
  std::string section;       // the code section to load, e.g. "syscall"
  std::size_t ctx_size = 0;  // bytes R1 points to
  std::span<const rte_helper> helpers = {};
  rte_engine engine = rte_engine::jit;
};

class rte_executor {
 public:
  static absl::StatusOr<rte_executor> load(const rte_load_params& params) {
    if (params.ctx_size == 0) {
      return absl::InvalidArgumentError(
          "rte_executor::load: ctx_size is 0; give the size of the buffer run() passes");
    }
    // rte_bpf reports a missing file as EINVAL, like a refused program.
    if (::access(params.path.c_str(), R_OK) != 0) {
      const int error = errno;
      return absl::Status(absl::ErrnoToStatusCode(error),
                          absl::StrCat("rte_executor::load: cannot read ", params.path, ": ",
                                       std::strerror(error)));
    }
    // rte_bpf copies the symbol table but not the names it points to.
    auto names = std::make_unique<std::string[]>(params.helpers.size());
    std::vector<rte_bpf_xsym> symbols(params.helpers.size());
    for (std::size_t i = 0; i < params.helpers.size(); ++i) {
      const rte_helper& h = params.helpers[i];
      if (h.function == nullptr || h.arg_count > EBPF_FUNC_MAX_ARGS) {
        return absl::InvalidArgumentError(absl::StrCat("rte_executor::load: helper '", h.name,
                                                       "' has no function or more than ",
                                                       EBPF_FUNC_MAX_ARGS, " arguments"));
      }
      names[i] = h.name;
      rte_bpf_xsym& s = symbols[i];
      s.name = names[i].c_str();
      s.type = RTE_BPF_XTYPE_FUNC;
      s.func.val = h.function;
      s.func.nb_args = h.arg_count;
      for (std::size_t a = 0; a < EBPF_FUNC_MAX_ARGS; ++a)
        s.func.args[a] = h.args[a];
      s.func.ret = h.ret;
    }

    rte_bpf_prm prm{};
    prm.xsym = symbols.empty() ? nullptr : symbols.data();
    prm.nb_xsym = static_cast<std::uint32_t>(symbols.size());
    prm.prog_arg.type = RTE_BPF_ARG_PTR;
    prm.prog_arg.size = params.ctx_size;

    rte_bpf* raw = nullptr;
    int error = 0;
    std::string log;
    {
      detail::rte_log_capture capture;
      raw = ::rte_bpf_elf_load(&prm, params.path.c_str(), params.section.c_str());
      error = rte_errno;
      log = capture.text();
    }
    if (raw == nullptr) return load_error(params, error, log);

    rte_executor executor(raw, params.ctx_size, std::move(names));
    rte_bpf_jit jit{};
    if (::rte_bpf_get_jit(raw, &jit) == 0) executor.jit_size_ = jit.sz;
    if (params.engine == rte_engine::jit) {
      if (jit.func == nullptr) {
        return absl::UnimplementedError(absl::StrCat(
            "rte_bpf loaded section '", params.section, "' of ", params.path,
            " but produced no JIT code (its JIT targets x86-64 and arm64, and gives up on "
            "some instructions); load with rte_engine::interpreter"));
      }
      executor.jit_ = jit.func;
    }
    return executor;
  }

  // Runs the program on ctx in place; see bpf_executor for the contract.
  result<std::uint64_t> run(std::span<std::byte> ctx) const noexcept {
    if (ctx.size() < ctx_size_) return errc::out_of_range;
    if (jit_ != nullptr) return jit_(ctx.data());
    return ::rte_bpf_exec(bpf_.get(), ctx.data());
  }

  // Runs the program once per context, R0 of ctxs[i] into results[i]; returns how
  // many ran (the shorter span's size). Each context must hold ctx_size() bytes; the
  // pointers are not checked.
  std::size_t run_burst(std::span<void* const> ctxs,
                        std::span<std::uint64_t> results) const noexcept {
    const std::size_t n = ctxs.size() < results.size() ? ctxs.size() : results.size();
    if (jit_ != nullptr) {
      for (std::size_t i = 0; i < n; ++i)
        results[i] = jit_(ctxs[i]);
      return n;
    }
    std::size_t done = 0;
    while (done < n) {
      const auto chunk =
          static_cast<std::uint32_t>(n - done > 0xFFFFFFFFU ? 0xFFFFFFFFU : n - done);
      // rte_bpf_exec_burst takes non-const pointers to the array it only reads.
      done += ::rte_bpf_exec_burst(bpf_.get(), const_cast<void**>(ctxs.data() + done),
                                   results.data() + done, chunk);
    }
    return n;
  }

  rte_engine engine() const noexcept {
    return jit_ != nullptr ? rte_engine::jit : rte_engine::interpreter;
  }
  std::size_t ctx_size() const noexcept { return ctx_size_; }
  // Bytes of native code the JIT emitted; 0 when it emitted none.
  std::size_t jit_size() const noexcept { return jit_size_; }

 private:
  struct destroyer {
    void operator()(rte_bpf* bpf) const noexcept { ::rte_bpf_destroy(bpf); }
  };

  rte_executor(rte_bpf* bpf, std::size_t ctx_size, std::unique_ptr<std::string[]> names)
      : bpf_(bpf), ctx_size_(ctx_size), names_(std::move(names)) {}

  static absl::Status load_error(const rte_load_params& params, int error, absl::string_view log) {
    // rte_bpf logs one reason per line (the validator's end with ';').
    std::string reasons;
    while (!log.empty()) {
      const std::size_t end = log.find('\n');
      const absl::string_view line = absl::StripAsciiWhitespace(log.substr(0, end));
      log.remove_prefix(end == absl::string_view::npos ? log.size() : end + 1);
      if (!line.empty()) absl::StrAppend(&reasons, reasons.empty() ? "" : " ", line);
    }
    return absl::Status(
        absl::ErrnoToStatusCode(error),
        absl::StrCat("rte_bpf could not load section '", params.section, "' of ", params.path, ": ",
                     ::rte_strerror(error), " (rte_errno ", error, ")",
                     reasons.empty() ? "" : "; rte_bpf says: ", reasons));
  }

  std::unique_ptr<rte_bpf, destroyer> bpf_;
  std::uint64_t (*jit_)(void*) = nullptr;
  std::size_t ctx_size_ = 0;
  std::size_t jit_size_ = 0;
  std::unique_ptr<std::string[]> names_;
};

}  // namespace innet::ebpf
