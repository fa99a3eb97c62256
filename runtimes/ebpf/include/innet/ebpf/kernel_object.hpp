// kernel_object: a BPF ELF object opened and loaded into the kernel through libbpf,
// with failures explained.
//
// libbpf reports a failed load as an errno and prints the reason (its own warnings,
// the verifier's log) to stderr. load_object() instead collects both and returns
// them in the absl::Status, so a caller, a test or a CI log shows *why* the verifier
// refused a program, e.g.
//
//   INVALID_ARGUMENT: kernel verifier rejected program 'spin' of /tmp/x.bpf.o:
//   Invalid argument (EINVAL); verifier log ends with: ... infinite loop detected at insn 1
//
// Each program gets its own log buffer, so the log is the failing program's. The
// kernel writes the log only on failure (libbpf loads with log level 0 first and
// retries with level 1 to explain a refusal). libbpf never enlarges a buffer it was
// given: a log that does not fit makes the kernel return ENOSPC in place of the real
// error, and keeps the log's tail (Linux 6.4+, where the reason is) or its head
// (older kernels). Such a refusal says "verifier log truncated at N bytes"; raise
// kernel_load_options::log_size to see all of it.
//
// libbpf keeps pointing at the buffers for the object's life (bpf_program__log_buf()
// returns them, and a loaded object, even one whose load failed, no longer lets them
// be unset), so they live as long as the object: a kernel_object owns them, and a
// caller of load_object() on its own object keeps the kernel_log_buffers it passes
// until after bpf_object__close().
//
// load_object() also serves libbpf skeletons: open with <name>__open(), set
// .rodata, then load_object(skel->obj, buffers) instead of <name>__load(), with
// `buffers` declared before the skeleton so that it is destroyed after it.
//
// Section names. rte_bpf finds code by ELF section, so an object holding several
// programs for both executors gives each its own section: SEC("syscall/<name>").
// libbpf 1.x recognises only the exact SEC("syscall"), so load_object() gives
// programs in "syscall/..." sections the syscall type (and the sleepable flag the
// kernel requires of it) itself.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
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
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "innet/ebpf/detail/libbpf_log.hpp"

namespace innet::ebpf {

struct kernel_load_options {
  // Programs to load, by name (the C symbol). Empty: every program, as libbpf would.
  // Naming them lets one object carry programs for other targets (an rte_bpf-only
  // program with helpers the kernel does not have) or deliberately unsafe ones.
  std::span<const std::string_view> programs = {};
  // Bytes of verifier log kept per program when its load fails: 128 to 2^30 - 1, the
  // range the kernel accepts.
  std::uint32_t log_size = 1U << 20;
};

namespace detail {
struct kernel_log_buffers_access;
}  // namespace detail

// The verifier log buffers libbpf was given for one object's programs. libbpf keeps
// pointers to them, so they must outlive the bpf_object they were loaded with.
class kernel_log_buffers {
 public:
  kernel_log_buffers() = default;
  kernel_log_buffers(kernel_log_buffers&&) noexcept = default;
  kernel_log_buffers& operator=(kernel_log_buffers&&) noexcept = default;
  kernel_log_buffers(const kernel_log_buffers&) = delete;
  kernel_log_buffers& operator=(const kernel_log_buffers&) = delete;
  ~kernel_log_buffers() = default;

  // Bytes held, all programs together.
  std::size_t size_bytes() const noexcept {
    std::size_t total = 0;
    for (const log& l : logs_)
      total += l.size;
    return total;
  }

 private:
  struct log {
    ::bpf_program* program = nullptr;
    std::unique_ptr<char[]> text;
    std::size_t size = 0;
  };
  friend struct detail::kernel_log_buffers_access;

  std::vector<log> logs_;
};

namespace detail {

// The last `max_lines` non-empty lines of a verifier log, one space-separated line.
inline std::string log_tail(absl::string_view log, std::size_t max_lines) {
  std::vector<absl::string_view> lines;
  while (!log.empty()) {
    const std::size_t end = log.find('\n');
    const absl::string_view line = log.substr(0, end);
    if (line.find_first_not_of(" \t") != absl::string_view::npos) lines.push_back(line);
    if (end == absl::string_view::npos) break;
    log.remove_prefix(end + 1);
  }
  const std::size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : " | ", lines[i]);
  }
  return out;
}

inline std::string errno_text(int error) {
  return absl::StrCat(std::strerror(error), " (errno ", error, ")");
}

// libbpf's warnings, without the lines that only announce the failure we already report.
inline std::string libbpf_warnings(const std::string& text) {
  std::string out;
  absl::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const absl::string_view line = rest.substr(0, end);
    if (!line.empty() && line.find("failed to load object") == absl::string_view::npos) {
      absl::StrAppend(&out, out.empty() ? "" : " | ", line);
    }
    if (end == absl::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return out;
}

// The range of log sizes the kernel accepts (kernel/bpf/log.c, bpf_vlog_init).
inline constexpr std::uint32_t min_log_size = 128;
inline constexpr std::uint32_t max_log_size = UINT32_MAX >> 2;

inline absl::Status check_log_size(std::uint32_t log_size) {
  if (log_size >= min_log_size && log_size <= max_log_size) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "kernel_load_options::log_size ", log_size, " is out of range: the kernel takes ",
      min_log_size, " to ", max_log_size, " bytes of verifier log"));
}

struct kernel_log_buffers_access {
  static auto& logs(kernel_log_buffers& b) noexcept { return b.logs_; }
};

// load_object(), naming the object `object_name` in messages. The log buffers go
// into `buffers`, which must outlive `object`.
inline absl::Status load_named_object(::bpf_object* object, const std::string& object_name,
                                      kernel_log_buffers& buffers,
                                      const kernel_load_options& options) {
  if (absl::Status s = check_log_size(options.log_size); !s.ok()) return s;
  std::vector<std::string> wanted(options.programs.begin(), options.programs.end());
  std::vector<std::string> available;
  ::bpf_program* program = nullptr;
  bpf_object__for_each_program(program, object) {
    const std::string name = ::bpf_program__name(program);
    available.push_back(name);
    if (::bpf_program__type(program) == BPF_PROG_TYPE_UNSPEC &&
        std::string_view(::bpf_program__section_name(program)).starts_with("syscall/")) {
      ::bpf_program__set_type(program, BPF_PROG_TYPE_SYSCALL);
      ::bpf_program__set_flags(program, ::bpf_program__flags(program) | BPF_F_SLEEPABLE);
    }
    if (!wanted.empty()) {
      const bool load = std::find(wanted.begin(), wanted.end(), name) != wanted.end();
      ::bpf_program__set_autoload(program, load);
    }
  }
  for (const std::string& name : wanted) {
    if (std::find(available.begin(), available.end(), name) == available.end()) {
      return absl::NotFoundError(absl::StrCat("BPF object ", object_name, " has no program '", name,
                                              "' (it has: ", absl::StrJoin(available, ", "), ")"));
    }
  }

  // One buffer per loaded program: whichever refuses, its log is its own. They stay
  // in `buffers` after the load: libbpf keeps pointing at them (a loaded object,
  // even one that failed to load, refuses to unset them with EBUSY).
  auto& logs = kernel_log_buffers_access::logs(buffers);
  const std::size_t first_log = logs.size();
  bpf_object__for_each_program(program, object) {
    if (!::bpf_program__autoload(program)) continue;
    auto& log = logs.emplace_back();
    log.program = program;
    log.size = options.log_size;
    log.text = std::make_unique<char[]>(log.size);  // zeroed
    if (const int e = ::bpf_program__set_log_buf(program, log.text.get(), log.size); e != 0) {
      return absl::Status(
          absl::ErrnoToStatusCode(-e),
          absl::StrCat("setting the verifier log buffer of program '", ::bpf_program__name(program),
                       "' of ", object_name, ": ", detail::errno_text(-e),
                       e == -EBUSY ? " (the object is already loaded)" : ""));
    }
  }

  int error = 0;
  std::string warnings;
  {
    detail::libbpf_log_capture capture;
    error = ::bpf_object__load(object);
    warnings = detail::libbpf_warnings(capture.text());
  }
  if (error == 0) return absl::OkStatus();
  error = error < 0 ? -error : error;

  for (std::size_t i = first_log; i < logs.size(); ++i) {
    const auto& entry = logs[i];
    const absl::string_view log(entry.text.get(), ::strnlen(entry.text.get(), entry.size));
    if (log.empty()) continue;
    // A log that did not fit: the kernel returns ENOSPC instead of the real error, and
    // keeps the tail (Linux 6.4+) or the head (older) of the log.
    const bool truncated = error == ENOSPC || log.size() + 1 >= entry.size;
    const std::string truncation =
        truncated
            ? absl::StrCat("; verifier log truncated at ", entry.size,
                           " bytes (raise kernel_load_options::log_size",
                           error == ENOSPC ? "; ENOSPC stands in for the real error" : "", ")")
            : std::string();
    return absl::InvalidArgumentError(
        absl::StrCat("kernel verifier rejected program '", ::bpf_program__name(entry.program),
                     "' of ", object_name, ": ", detail::errno_text(error), truncation,
                     "; verifier log ends with: ", detail::log_tail(log, 12)));
  }
  if (error == EPERM) {
    return absl::PermissionDeniedError(
        absl::StrCat("loading BPF object ", object_name, ": ", detail::errno_text(error),
                     "; run as root, or grant CAP_BPF and CAP_PERFMON (CAP_NET_ADMIN for XDP)",
                     warnings.empty() ? "" : "; libbpf: ", warnings));
  }
  return absl::Status(
      absl::ErrnoToStatusCode(error),
      absl::StrCat("loading BPF object ", object_name, ": ", detail::errno_text(error),
                   warnings.empty() ? "" : "; libbpf: ", warnings));
}

}  // namespace detail

// Loads an opened object: selects the programs in `options`, then explains a refusal.
// The verifier log buffers go into `buffers`, which must outlive `object` (destroy it
// after bpf_object__close() or the skeleton's __destroy()).
inline absl::Status load_object(::bpf_object* object, kernel_log_buffers& buffers,
                                const kernel_load_options& options = {}) {
  if (object == nullptr) return absl::InvalidArgumentError("load_object: null bpf_object");
  return detail::load_named_object(object, ::bpf_object__name(object), buffers, options);
}

class kernel_object {
 public:
  // Opens the ELF file at `path` and loads it (see load_object).
  static absl::StatusOr<kernel_object> open(const std::string& path,
                                            const kernel_load_options& options = {}) {
    if (absl::Status s = detail::check_log_size(options.log_size); !s.ok()) return s;
    ::bpf_object* raw = nullptr;
    int error = 0;
    std::string warnings;
    {
      detail::libbpf_log_capture capture;
      raw = ::bpf_object__open_file(path.c_str(), nullptr);
      error = errno;  // before anything else can change it
      warnings = detail::libbpf_warnings(capture.text());
    }
    if (raw == nullptr) {
      if (error == 0) error = EINVAL;
      return absl::Status(absl::ErrnoToStatusCode(error),
                          absl::StrCat("opening BPF object ", path, ": ", detail::errno_text(error),
                                       warnings.empty() ? "" : "; libbpf: ", warnings));
    }
    kernel_object object(raw, path);
    if (absl::Status s = detail::load_named_object(raw, path, *object.logs_, options); !s.ok()) {
      return s;
    }
    return object;
  }

  ::bpf_object* get() const noexcept { return object_.get(); }
  const std::string& path() const noexcept { return path_; }

  absl::StatusOr<::bpf_program*> program(absl::string_view name) const {
    ::bpf_program* p = ::bpf_object__find_program_by_name(get(), std::string(name).c_str());
    if (p == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("BPF object ", path_, " has no program '", name, "'"));
    }
    if (::bpf_program__fd(p) < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "program '", name, "' of ", path_, " was not loaded; name it in kernel_load_options"));
    }
    return p;
  }

  absl::StatusOr<int> map_fd(absl::string_view name) const {
    const int fd = ::bpf_object__find_map_fd_by_name(get(), std::string(name).c_str());
    if (fd < 0) {
      return absl::NotFoundError(absl::StrCat("BPF object ", path_, " has no map '", name, "'"));
    }
    return fd;
  }

 private:
  struct closer {
    void operator()(::bpf_object* o) const noexcept { ::bpf_object__close(o); }
  };

  kernel_object(::bpf_object* object, std::string path)
      : logs_(std::make_unique<kernel_log_buffers>()), object_(object), path_(std::move(path)) {}

  // Declared before object_, so destroyed after it: libbpf points at these buffers.
  // Held by pointer so that moving a kernel_object moves no buffer.
  std::unique_ptr<kernel_log_buffers> logs_;
  std::unique_ptr<::bpf_object, closer> object_;
  std::string path_;
};

}  // namespace innet::ebpf
