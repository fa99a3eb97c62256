// Captures what DPDK logs while rte_bpf loads a program, so a refusal's
// absl::Status carries the verifier's reason ("loops detected", "memory boundary
// violation at pc: 12") and not only rte_errno's EINVAL.
//
// DPDK has one log stream per process. A capture points it at a memory stream for
// its lifetime and puts the previous stream back afterwards; captures are serialised
// by a mutex. It also raises the global and the "lib.bpf" log levels to at least
// WARNING for that window, since an application may have lowered them (rte_bpf logs
// its reasons at ERR). Anything another thread logs in the window lands in the
// capture rather than the usual stream; loads are rare and short, so that is the
// price of a reason in the Status.
//
// rte_log works without rte_eal_init(), and so does rte_bpf.
#pragma once

#include <rte_log.h>
#include <stdio.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace innet::ebpf::detail {

class rte_log_capture {
 public:
  rte_log_capture() : lock_(mutex()) {
    stream_ = ::open_memstream(&buffer_, &size_);
    if (stream_ == nullptr) return;  // then the Status has rte_errno alone
    previous_stream_ = ::rte_log_get_stream();
    ::rte_openlog_stream(stream_);
    previous_global_ = ::rte_log_get_global_level();
    if (previous_global_ < RTE_LOG_WARNING) ::rte_log_set_global_level(RTE_LOG_WARNING);
    bpf_type_ = ::rte_log_register("lib.bpf");
    if (bpf_type_ >= 0) {
      previous_bpf_ = ::rte_log_get_level(static_cast<std::uint32_t>(bpf_type_));
      if (previous_bpf_ >= 0 && previous_bpf_ < static_cast<int>(RTE_LOG_WARNING)) {
        ::rte_log_set_level(static_cast<std::uint32_t>(bpf_type_), RTE_LOG_WARNING);
      }
    }
  }

  ~rte_log_capture() {
    if (stream_ == nullptr) return;
    restore();
    std::fclose(stream_);
    std::free(buffer_);
  }

  rte_log_capture(const rte_log_capture&) = delete;
  rte_log_capture& operator=(const rte_log_capture&) = delete;

  // What was logged so far.
  std::string text() {
    if (stream_ == nullptr) return {};
    std::fflush(stream_);
    return std::string(buffer_, size_);
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }

  void restore() noexcept {
    if (bpf_type_ >= 0 && previous_bpf_ >= 0) {
      ::rte_log_set_level(static_cast<std::uint32_t>(bpf_type_),
                          static_cast<std::uint32_t>(previous_bpf_));
    }
    ::rte_log_set_global_level(previous_global_);
    // Before rte_eal_init() the default stream is stderr; handing stderr back
    // explicitly would pin it, so give back "the default" instead.
    ::rte_openlog_stream(previous_stream_ == stderr ? nullptr : previous_stream_);
  }

  std::lock_guard<std::mutex> lock_;
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  FILE* stream_ = nullptr;
  FILE* previous_stream_ = nullptr;
  std::uint32_t previous_global_ = 0;
  int bpf_type_ = -1;
  int previous_bpf_ = -1;
};

}  // namespace innet::ebpf::detail
