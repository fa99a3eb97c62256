// A completion queue: where the device reports finished work requests.
//
// The runtime polls it (no completion channel, no interrupts): one-sided operations
// finish in microseconds, and a poll loop is how their latency stays that low.
#pragma once

#include <infiniband/verbs.h>

#include <cerrno>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"
#include "innet/rdma/device.hpp"

namespace innet::rdma {

class completion_queue {
 public:
  // Room for at least `depth` completions; the device may round it up. The device
  // must outlive the queue.
  static absl::StatusOr<completion_queue> create(const device& dev, int depth) {
    if (depth < 1 || depth > dev.attributes().max_cqe)
      return absl::InvalidArgumentError(absl::StrCat("completion queue depth ", depth, " of ",
                                                     dev.name(), " must be in [1, ",
                                                     dev.attributes().max_cqe, "]"));
    errno = 0;
    detail::cq_handle cq(ibv_create_cq(dev.context(), depth, nullptr, nullptr, 0));
    if (cq == nullptr) return detail::errno_status(errno, "ibv_create_cq");
    return completion_queue(std::move(cq));
  }

  ibv_cq* get() const noexcept { return cq_.get(); }
  int depth() const noexcept { return cq_->cqe; }

  // Reaps up to size(out) completions; returns how many, or -1 when the device
  // reports the queue broken (after which nothing more will complete).
  int poll(std::span<ibv_wc> out) noexcept {
    return ibv_poll_cq(cq_.get(), static_cast<int>(out.size()), out.data());
  }

 private:
  explicit completion_queue(detail::cq_handle cq) noexcept : cq_(std::move(cq)) {}

  detail::cq_handle cq_;
};

}  // namespace innet::rdma
