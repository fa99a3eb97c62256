// An opened RDMA device: the verbs context every other object of the runtime hangs
// off (protection domains, completion queues, queue pairs).
//
// The context comes from librdmacm's device list, not from ibv_open_device: RDMA-CM
// picks the device of a connection from the IP route and hands out its own context
// for it, and a PD or CQ can only be used with a QP of the same context. Taking the
// context from the same list makes a device opened here the one a connection on it
// uses, and lets open() fail early, with what to do, on a machine without a device.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "innet/rdma/detail/cm_events.hpp"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"

namespace innet::rdma {

class device {
 public:
  // The device named `name` (as `rdma link show` prints it, e.g. "rxe0"), or the
  // first one when `name` is empty.
  static absl::StatusOr<device> open(absl::string_view name = {}) {
    auto list = device_list();
    if (!list.ok()) return list.status();
    std::string names;
    for (ibv_context** it = list->get(); *it != nullptr; ++it) {
      const absl::string_view candidate = ibv_get_device_name((*it)->device);
      if (name.empty() || candidate == name) return from_list(std::move(*list), *it);
      absl::StrAppend(&names, names.empty() ? "" : ", ", candidate);
    }
    return absl::NotFoundError(
        absl::StrCat("no RDMA device named '", name, "' (devices here: ", names, ")"));
  }

  // The device RDMA-CM would use to reach `host`: the one on the network interface
  // the IP route to `host` leaves through.
  static absl::StatusOr<device> route_to(const std::string& host,
                                         std::chrono::milliseconds timeout) {
    auto list = device_list();
    if (!list.ok()) return list.status();
    auto channel = detail::create_event_channel();
    if (!channel.ok()) return channel.status();
    rdma_cm_id* raw = nullptr;
    if (rdma_create_id(channel->get(), &raw, nullptr, RDMA_PS_TCP) != 0)
      return detail::errno_status(errno, "rdma_create_id");
    const detail::cm_id_handle id(raw);
    auto address = detail::socket_address(host, 0);
    if (!address.ok()) return address.status();
    const auto until = detail::deadline_after(timeout);
    if (rdma_resolve_addr(id.get(), nullptr, reinterpret_cast<sockaddr*>(&*address),
                          detail::remaining_ms(until)) != 0)
      return detail::errno_status(errno, absl::StrCat("rdma_resolve_addr(", host, ")"));
    auto resolved = detail::expect_event(channel->get(), RDMA_CM_EVENT_ADDR_RESOLVED, until, host);
    if (!resolved.ok()) return resolved.status();
    for (ibv_context** it = list->get(); *it != nullptr; ++it)
      if (*it == id->verbs) return from_list(std::move(*list), *it);
    return absl::InternalError(absl::StrCat(host, " resolved to a device librdmacm did not list"));
  }

  ibv_context* context() const noexcept { return context_; }
  absl::string_view name() const noexcept { return ibv_get_device_name(context_->device); }
  const ibv_device_attr& attributes() const noexcept { return attributes_; }

 private:
  device(detail::device_list_handle list, ibv_context* context, const ibv_device_attr& attributes)
      : list_(std::move(list)), context_(context), attributes_(attributes) {}

  // librdmacm's list; rdma_get_devices only says ENODEV, so libibverbs is asked
  // first to tell "the kernel has no RDMA support" from "it has no device".
  static absl::StatusOr<detail::device_list_handle> device_list() {
    int count = 0;
    errno = 0;
    ibv_device** verbs = ibv_get_device_list(&count);
    const int error = errno;
    if (verbs == nullptr) {
      if (error == ENOSYS)
        return detail::no_device_status("the kernel has no RDMA verbs support loaded");
      return detail::errno_status(error, "ibv_get_device_list", detail::soft_roce_hint);
    }
    ibv_free_device_list(verbs);
    if (count == 0) return detail::no_device_status("libibverbs lists none");
    errno = 0;
    detail::device_list_handle list(rdma_get_devices(&count));
    if (list == nullptr || count == 0)
      return detail::no_device_status("librdmacm lists none; is rdma_ucm loaded?");
    return list;
  }

  static absl::StatusOr<device> from_list(detail::device_list_handle list, ibv_context* context) {
    ibv_device_attr attributes{};
    if (const int rc = ibv_query_device(context, &attributes); rc != 0)
      return detail::errno_status(rc, "ibv_query_device");
    return device(std::move(list), context, attributes);
  }

  detail::device_list_handle list_;  // keeps librdmacm's reference on the context
  ibv_context* context_;
  ibv_device_attr attributes_;
};

}  // namespace innet::rdma
