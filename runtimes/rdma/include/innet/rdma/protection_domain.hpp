// A protection domain: the scope in which memory registrations and queue pairs may
// be used together. A remote peer's rkey only opens memory registered in the PD of
// the queue pair the request arrives on.
#pragma once

#include <infiniband/verbs.h>

#include <cerrno>
#include <utility>

#include "absl/status/statusor.h"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"
#include "innet/rdma/device.hpp"

namespace innet::rdma {

class protection_domain {
 public:
  // The device must outlive the domain.
  static absl::StatusOr<protection_domain> create(const device& dev) {
    errno = 0;
    detail::pd_handle pd(ibv_alloc_pd(dev.context()));
    if (pd == nullptr) return detail::errno_status(errno, "ibv_alloc_pd");
    return protection_domain(std::move(pd));
  }

  ibv_pd* get() const noexcept { return pd_.get(); }

 private:
  explicit protection_domain(detail::pd_handle pd) noexcept : pd_(std::move(pd)) {}

  detail::pd_handle pd_;
};

}  // namespace innet::rdma
