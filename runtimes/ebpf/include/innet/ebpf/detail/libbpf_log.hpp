// Captures libbpf's warnings while one thread opens or loads an object, so that a
// failure's absl::Status can say what libbpf said ("unsupported map linkage static",
// "failed to find BTF for extern", ...) instead of leaving it on stderr.
//
// libbpf has one process-wide print callback. A capture installs its own for its
// lifetime and restores the previous one afterwards; captures are serialised by a
// mutex. Messages from other threads in that window, and debug-level ones, are passed
// to the previous callback unchanged, so an application's own libbpf logging keeps
// working.
#pragma once

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace innet::ebpf::detail {

class libbpf_log_capture {
 public:
  libbpf_log_capture() : lock_(state().mutex) {
    sink_ = &text_;
    state().previous = libbpf_set_print(&print);
  }
  ~libbpf_log_capture() {
    libbpf_set_print(state().previous);
    sink_ = nullptr;
  }
  libbpf_log_capture(const libbpf_log_capture&) = delete;
  libbpf_log_capture& operator=(const libbpf_log_capture&) = delete;

  // The warnings printed so far, one per line, each without libbpf's "libbpf: " prefix.
  const std::string& text() const noexcept { return text_; }

 private:
  struct shared_state {
    std::mutex mutex;
    libbpf_print_fn_t previous = nullptr;
  };
  static shared_state& state() {
    static shared_state s;
    return s;
  }

  static int print(enum libbpf_print_level level, const char* format, va_list args) {
    if (sink_ == nullptr || level != LIBBPF_WARN) {
      return state().previous != nullptr ? state().previous(level, format, args) : 0;
    }
    va_list measure;
    va_copy(measure, args);
    const int length = std::vsnprintf(nullptr, 0, format, measure);
    va_end(measure);
    if (length <= 0) return 0;
    std::string line(static_cast<std::size_t>(length), '\0');
    std::vsnprintf(line.data(), line.size() + 1, format, args);
    constexpr std::string_view prefix = "libbpf: ";
    if (line.starts_with(prefix)) line.erase(0, prefix.size());
    sink_->append(line);
    if (!line.empty() && line.back() != '\n') sink_->push_back('\n');
    return length;
  }

  static inline thread_local std::string* sink_ = nullptr;

  std::lock_guard<std::mutex> lock_;
  std::string text_;
};

}  // namespace innet::ebpf::detail
