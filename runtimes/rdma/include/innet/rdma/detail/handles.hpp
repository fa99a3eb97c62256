// Owning handles for ibverbs and RDMA-CM objects.
//
// Every verbs object is created by a C call and destroyed by another; wrapping each
// in a unique_ptr with a stateless deleter makes the runtime's types movable and
// their destruction order explicit (members are destroyed in reverse declaration
// order, so a type lists the objects it depends on first). The wrapped objects are
// allocated by the libraries, so moving a handle never moves the object itself and
// raw pointers handed to other verbs objects (a PD inside a QP) stay valid.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <memory>

namespace innet::rdma::detail {

template <auto Destroy>
struct destroy_with {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) (void)Destroy(p);
  }
};

using device_list_handle = std::unique_ptr<ibv_context*, destroy_with<&rdma_free_devices>>;
using pd_handle = std::unique_ptr<ibv_pd, destroy_with<&ibv_dealloc_pd>>;
using cq_handle = std::unique_ptr<ibv_cq, destroy_with<&ibv_destroy_cq>>;
using mr_handle = std::unique_ptr<ibv_mr, destroy_with<&ibv_dereg_mr>>;
using event_channel_handle =
    std::unique_ptr<rdma_event_channel, destroy_with<&rdma_destroy_event_channel>>;

// An RDMA-CM identifier and the QP created on it (if any): the QP must go before
// the id, and rdma_destroy_id blocks until every event retrieved for the id has
// been acknowledged, which detail::cm_events guarantees by acknowledging at once.
struct cm_id_deleter {
  void operator()(rdma_cm_id* id) const noexcept {
    if (id == nullptr) return;
    if (id->qp != nullptr) rdma_destroy_qp(id);
    (void)rdma_destroy_id(id);
  }
};
using cm_id_handle = std::unique_ptr<rdma_cm_id, cm_id_deleter>;

// An id that may be connected: disconnecting first tells the peer at once instead
// of at its next transport timeout. Harmless (EINVAL) on an id that never connected.
struct connected_id_deleter {
  void operator()(rdma_cm_id* id) const noexcept {
    if (id != nullptr && id->qp != nullptr) (void)rdma_disconnect(id);
    cm_id_deleter{}(id);
  }
};
using connected_id_handle = std::unique_ptr<rdma_cm_id, connected_id_deleter>;

}  // namespace innet::rdma::detail
