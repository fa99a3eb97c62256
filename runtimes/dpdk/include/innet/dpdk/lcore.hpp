// Running C++ callables on DPDK worker lcores.
//
// rte_eal_remote_launch() takes a C function pointer and a void*, and hands the
// function's int result to rte_eal_wait_lcore(). launch() takes any callable
// instead and returns an lcore_task whose wait() returns what the callable
// returned, of any type: the callable and its result live in a heap block that
// a trampoline reaches through the void*, and that the task keeps until the
// lcore is done with it.
//
//   auto task = innet::dpdk::launch(worker, [&] { return forward(rx, tx, stop); });
//   ...
//   std::size_t forwarded = task->wait();
//
// DPDK's rules, checked at launch: only the main lcore launches and waits, the
// target is an enabled worker lcore (not the main one), and a worker runs one
// callable at a time. A task that is destroyed without wait() waits anyway, as
// std::jthread joins: the worker still references the callable.
//
// An exception that leaves the callable must not unwind through DPDK's C worker
// loop (that would be std::terminate): the trampoline catches it, and wait()
// rethrows it on the main lcore, as std::future::get() does. A task destroyed
// without wait() discards it.
//
// worker_lcores() walks the worker lcores (RTE_LCORE_FOREACH_WORKER as a range).
#pragma once

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <cassert>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace innet::dpdk {

namespace detail {

template <class R>
struct lcore_job_base {
  virtual ~lcore_job_base() = default;
  std::optional<R> result;
  std::exception_ptr error;  // what the callable threw, for wait() to rethrow
};

template <>
struct lcore_job_base<void> {
  virtual ~lcore_job_base() = default;
  std::exception_ptr error;
};

template <class F, class R>
struct lcore_job final : lcore_job_base<R> {
  explicit lcore_job(F f) : fn(std::move(f)) {}

  // The lcore_function_t that rte_eal_remote_launch() calls on the worker. It
  // returns into C, so nothing may propagate out of it.
  static int trampoline(void* arg) noexcept {
    auto* job = static_cast<lcore_job*>(arg);
    try {
      if constexpr (std::is_void_v<R>) {
        job->fn();
      } else {
        job->result.emplace(job->fn());
      }
    } catch (...) {
      job->error = std::current_exception();
      return -1;
    }
    return 0;
  }

  F fn;
};

}  // namespace detail

template <class R>
class lcore_task {
 public:
  lcore_task(lcore_task&& other) noexcept
      : lcore_id_(other.lcore_id_), job_(std::move(other.job_)) {}
  lcore_task& operator=(lcore_task&& other) noexcept {
    if (this != &other) {
      join();
      lcore_id_ = other.lcore_id_;
      job_ = std::move(other.job_);
    }
    return *this;
  }
  lcore_task(const lcore_task&) = delete;
  lcore_task& operator=(const lcore_task&) = delete;
  ~lcore_task() { join(); }

  unsigned lcore_id() const noexcept { return lcore_id_; }

  // True once the callable has returned; wait() then does not block.
  bool done() const noexcept {
    return job_ == nullptr || ::rte_eal_get_lcore_state(lcore_id_) == WAIT;
  }

  // Blocks until the callable returns and returns its result, or rethrows what
  // it threw. Once per task, from the main lcore.
  R wait() {
    assert(job_ != nullptr && "lcore_task::wait() called twice");
    ::rte_eal_wait_lcore(lcore_id_);
    const std::unique_ptr<detail::lcore_job_base<R>> job = std::move(job_);
    if (job->error) std::rethrow_exception(job->error);
    if constexpr (!std::is_void_v<R>) return std::move(*job->result);
  }

 private:
  template <class F>
  friend absl::StatusOr<lcore_task<std::invoke_result_t<F&>>> launch(unsigned, F);

  lcore_task(unsigned lcore_id, std::unique_ptr<detail::lcore_job_base<R>> job) noexcept
      : lcore_id_(lcore_id), job_(std::move(job)) {}

  void join() noexcept {
    if (job_ != nullptr) ::rte_eal_wait_lcore(lcore_id_);
    job_.reset();
  }

  unsigned lcore_id_;
  std::unique_ptr<detail::lcore_job_base<R>> job_;
};

// Runs `f()` on worker lcore `lcore_id`. Call from the main lcore.
template <class F>
absl::StatusOr<lcore_task<std::invoke_result_t<F&>>> launch(unsigned lcore_id, F f) {
  using R = std::invoke_result_t<F&>;
  static_assert(!std::is_reference_v<R>, "an lcore callable returns its result by value");
  if (::rte_lcore_id() != ::rte_get_main_lcore()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "launch(lcore ", lcore_id, ") from lcore ", ::rte_lcore_id(),
        ": DPDK launches and waits only from the main lcore ", ::rte_get_main_lcore()));
  }
  if (lcore_id >= RTE_MAX_LCORE || !::rte_lcore_is_enabled(lcore_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lcore ", lcore_id, " is not enabled; eal_params::lcores names the lcores"));
  }
  if (lcore_id == ::rte_get_main_lcore()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lcore ", lcore_id, " is the main lcore, the caller itself: call the function directly"));
  }
  auto job = std::make_unique<detail::lcore_job<F, R>>(std::move(f));
  if (const int rc =
          ::rte_eal_remote_launch(&detail::lcore_job<F, R>::trampoline, job.get(), lcore_id);
      rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("rte_eal_remote_launch on lcore ", lcore_id, " failed: ",
                     rc == -EBUSY ? "the lcore still runs an earlier task; wait() for it first"
                                  : ::rte_strerror(-rc)));
  }
  return lcore_task<R>(lcore_id, std::move(job));
}

// The worker lcores in id order, as a range: for (unsigned id : worker_lcores()).
class worker_lcore_range {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using value_type = unsigned;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(unsigned id) noexcept : id_(id) {}

    unsigned operator*() const noexcept { return id_; }
    iterator& operator++() noexcept {
      id_ = ::rte_get_next_lcore(id_, /*skip_main=*/1, /*wrap=*/0);
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(iterator, iterator) = default;

   private:
    unsigned id_ = RTE_MAX_LCORE;
  };

  // rte_get_next_lcore() starts after its argument: -1 wraps to lcore 0.
  iterator begin() const noexcept {
    return iterator(::rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0));
  }
  iterator end() const noexcept { return iterator(RTE_MAX_LCORE); }
};

static_assert(std::forward_iterator<worker_lcore_range::iterator>);

inline worker_lcore_range worker_lcores() noexcept {
  return {};
}

}  // namespace innet::dpdk
