// The memory-region concept (core/memory_region.hpp) over a peer's registered
// memory, through one-sided RDMA on an RC queue pair: READ, WRITE,
// ATOMIC_FETCH_AND_ADD and ATOMIC_CMP_AND_SWP against the region a region_server
// exposes. The peer's CPU takes no part in any operation.
//
// Data path. The caller's buffers in a memory_op are not registered with the
// device, so every operation goes through a registered staging buffer: a WRITE's
// bytes are copied in when it is posted (or sent inline, with no copy, when they
// fit the QP's inline size), a READ's bytes are copied out when its completion is
// polled, and an atomic's old value lands in 8 staging bytes. The staging buffer is
// a FIFO ring (detail/staging_ring.hpp) because completions arrive in post order.
//
// Pipelining. post() chains the accepted prefix of a batch into one
// ibv_post_send (one doorbell) and returns how many it accepted: it stops at the
// window (`window` requests in flight, the send-queue depth) or when the staging
// ring is full, and the caller polls and posts the rest. Every request is
// signalled; its wr_id is a sequence number, so the completion finds its slot and
// poll() hands completions back in post order with the caller's ids.
//
// Errors. Bounds and alignment are checked before posting, exactly as
// host::local_memory_region does (errc::out_of_range, errc::misaligned), and such
// an operation completes in order without touching the wire. A failed work
// completion maps through detail::completion_errc (a wrong rkey is
// errc::remote_error); it also moves the queue pair to the error state, after which
// nothing can succeed, so the region stops posting, completes everything after it
// with errc::unavailable and keeps the first failure, with the device's words for
// it, in status().
//
// Blocking calls (read, write, fetch_add, compare_swap) post one request and spin
// on the completion queue until it completes or `op_timeout` passes. They share the
// window with posted requests, so with the window full of completions nobody has
// polled yet they return errc::would_block. A region is used by one thread at a
// time, like the queue pair under it.
#pragma once

#include <infiniband/verbs.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"
#include "innet/core/status.hpp"
#include "innet/rdma/completion_queue.hpp"
#include "innet/rdma/connection.hpp"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/staging_ring.hpp"
#include "innet/rdma/device.hpp"
#include "innet/rdma/memory_registration.hpp"
#include "innet/rdma/protection_domain.hpp"
#include "innet/rdma/region_descriptor.hpp"

namespace innet::rdma {

struct region_options {
  std::uint32_t window = 32;                   // requests in flight (send-queue depth)
  std::size_t staging_bytes = 256 * 1024;      // also the largest single posted READ/WRITE
  std::uint32_t max_inline_data = 64;          // WRITEs up to this size skip the staging copy
  std::chrono::milliseconds op_timeout{5000};  // a blocking call's limit
};

struct remote_region_options {
  std::string address{};  // the region server
  std::uint16_t port = 0;
  std::chrono::milliseconds connect_timeout{5000};
  std::uint8_t ack_timeout = 0;  // connect_options::ack_timeout
  region_options region{};
};

class remote_region {
 public:
  remote_region(remote_region&&) noexcept = default;
  // Not the implicit member-wise assignment, which would replace the PD and the CQ
  // (EBUSY: left allocated) while the old queue pair and staging registration still
  // used them, and free the staging memory under a live registration. The
  // temporary's destructor takes the old state down as a whole, queue pair first.
  remote_region& operator=(remote_region&& other) noexcept {
    remote_region incoming(std::move(other));
    using std::swap;
    swap(device_, incoming.device_);
    swap(pd_, incoming.pd_);
    swap(cq_, incoming.cq_);
    swap(staging_memory_, incoming.staging_memory_);
    swap(staging_, incoming.staging_);
    swap(connection_, incoming.connection_);
    swap(remote_, incoming.remote_);
    swap(window_, incoming.window_);
    swap(max_inline_, incoming.max_inline_);
    swap(op_timeout_, incoming.op_timeout_);
    swap(slots_, incoming.slots_);
    swap(requests_, incoming.requests_);
    swap(entries_, incoming.entries_);
    swap(ring_, incoming.ring_);
    swap(head_, incoming.head_);
    swap(tail_, incoming.tail_);
    swap(idle_polls_, incoming.idle_polls_);
    swap(failure_, incoming.failure_);
    return *this;
  }
  remote_region(const remote_region&) = delete;
  remote_region& operator=(const remote_region&) = delete;
  ~remote_region() = default;

  // Connects to a region_server and attaches to the region it describes.
  static absl::StatusOr<remote_region> connect(const remote_region_options& options) {
    if (auto s = validate(options.region); !s.ok()) return s;
    const auto until = detail::deadline_after(options.connect_timeout);
    auto dev = device::route_to(options.address, options.connect_timeout);
    if (!dev.ok()) return dev.status();
    auto pd = protection_domain::create(*dev);
    if (!pd.ok()) return pd.status();
    auto cq = completion_queue::create(*dev, static_cast<int>(options.region.window));
    if (!cq.ok()) return cq.status();
    const connect_options how{.address = options.address,
                              .port = options.port,
                              .timeout = std::chrono::milliseconds(detail::remaining_ms(until)),
                              .queue_pair = {.max_send_wr = options.region.window,
                                             .max_inline_data = options.region.max_inline_data},
                              .ack_timeout = options.ack_timeout};
    auto conn = connection::connect(*pd, *cq, how);
    if (!conn.ok()) return conn.status();
    const auto remote = decode_region_descriptor(conn->peer_data());
    if (!remote.ok())
      return absl::FailedPreconditionError(absl::StrCat(
          detail::peer_name(options.address, options.port),
          " accepted the connection but sent no valid region descriptor (",
          to_string(remote.error()), "); is it an innet region server of the same version?"));
    return attach(std::move(*dev), std::move(*pd), std::move(*cq), std::move(*conn), *remote,
                  options.region);
  }

  // Attaches to `remote` over a connection built by hand (the descriptor may have
  // come another way). The connection must be on `pd` and `cq`, which are on `dev`.
  static absl::StatusOr<remote_region> attach(device dev, protection_domain pd, completion_queue cq,
                                              connection conn, const region_descriptor& remote,
                                              const region_options& options) {
    // The parameters are destroyed in an order the compiler chooses (g++: dev, pd,
    // cq, conn), which on an error return would deallocate the PD and the CQ under
    // the live queue pair. Owned here instead, they go in reverse declaration order:
    // the connection first, the device last.
    struct owned {
      device dev;
      protection_domain pd;
      completion_queue cq;
      connection conn;
    } parts{std::move(dev), std::move(pd), std::move(cq), std::move(conn)};
    if (auto s = validate(options); !s.ok()) return s;
    if (parts.dev.attributes().atomic_cap == IBV_ATOMIC_NONE)
      return absl::UnimplementedError(absl::StrCat("device ", parts.dev.name(),
                                                   " has no RDMA atomics, which the memory-region "
                                                   "concept needs"));
    if (options.window > parts.conn.max_send_wr() ||
        static_cast<int>(options.window) > parts.cq.depth())
      return absl::InvalidArgumentError(absl::StrCat(
          "window ", options.window, " exceeds the queue pair's ", parts.conn.max_send_wr(),
          " send requests or the completion queue's ", parts.cq.depth(), " entries"));
    const std::size_t words = options.staging_bytes / 8;
    auto memory = std::make_unique<std::uint64_t[]>(words);
    auto staging = memory_registration::create(
        parts.pd, std::as_writable_bytes(std::span(memory.get(), words)), access::local_write);
    if (!staging.ok()) return staging.status();
    return remote_region(std::move(parts.dev), std::move(parts.pd), std::move(parts.cq),
                         std::move(memory), std::move(*staging), std::move(parts.conn), remote,
                         options);
  }

  std::uint64_t size() const noexcept { return remote_.size; }
  const region_descriptor& descriptor() const noexcept { return remote_; }
  std::uint32_t window() const noexcept { return window_; }
  std::size_t in_flight() const noexcept { return static_cast<std::size_t>(tail_ - head_); }

  // OK while the queue pair works; afterwards the first failure, in the device's
  // words (which work request, which completion status).
  const absl::Status& status() const noexcept { return failure_; }

  errc read(std::uint64_t offset, std::span<std::byte> dst) noexcept {
    if (const errc e = check_range(remote_.size, offset, dst.size()); e != errc::ok) return e;
    for (std::size_t done = 0; done < dst.size();) {
      const std::size_t n = std::min(dst.size() - done, ring_.capacity());
      const memory_completion c = execute(
          {.opcode = memory_opcode::read, .offset = offset + done, .local = dst.subspan(done, n)});
      if (c.status != errc::ok) return c.status;
      done += n;
    }
    return errc::ok;
  }

  errc write(std::uint64_t offset, std::span<const std::byte> src) noexcept {
    if (const errc e = check_range(remote_.size, offset, src.size()); e != errc::ok) return e;
    for (std::size_t done = 0; done < src.size();) {
      const std::size_t n = std::min(src.size() - done, ring_.capacity());
      const memory_completion c = execute({.opcode = memory_opcode::write,
                                           .offset = offset + done,
                                           .local = writable(src.subspan(done, n))});
      if (c.status != errc::ok) return c.status;
      done += n;
    }
    return errc::ok;
  }

  result<std::uint64_t> fetch_add(std::uint64_t offset, std::uint64_t add) noexcept {
    if (const errc e = check_atomic(remote_.size, offset); e != errc::ok) return e;
    const memory_completion c =
        execute({.opcode = memory_opcode::fetch_add, .offset = offset, .operand = add});
    if (c.status != errc::ok) return c.status;
    return c.old_value;
  }

  result<std::uint64_t> compare_swap(std::uint64_t offset, std::uint64_t expected,
                                     std::uint64_t desired) noexcept {
    if (const errc e = check_atomic(remote_.size, offset); e != errc::ok) return e;
    const memory_completion c = execute({.opcode = memory_opcode::compare_swap,
                                         .offset = offset,
                                         .operand = expected,
                                         .swap = desired});
    if (c.status != errc::ok) return c.status;
    return c.old_value;
  }

  std::size_t post(std::span<const memory_op> ops) noexcept {
    std::size_t accepted = 0;
    std::size_t chained = 0;
    for (const memory_op& op : ops) {
      if (in_flight() == window_ || !stage(op, /*internal=*/false, chained)) break;
      ++accepted;
    }
    submit(chained);
    return accepted;
  }

  std::size_t poll(std::span<memory_completion> out) noexcept {
    if (drain() == 0 && in_flight() > 0) idle();
    std::size_t n = 0;
    while (head_ != tail_) {
      slot& s = slot_for(head_);
      if (!s.done) break;
      if (!s.internal) {
        if (n == out.size()) break;
        out[n++] = s.completion;
      }
      retire(s);
    }
    return n;
  }

 private:
  // One request in flight, indexed by its sequence number modulo the window.
  struct slot {
    std::uint64_t sequence = 0;
    memory_completion completion{};
    memory_opcode opcode = memory_opcode::read;
    std::span<std::byte> destination{};  // a READ's bytes go here on completion
    std::size_t staging_offset = 0;
    std::size_t staging_charge = 0;  // released to the ring when the slot retires
    bool done = false;
    bool internal = false;  // a blocking call's: it takes the completion itself
  };

  remote_region(device dev, protection_domain pd, completion_queue cq,
                std::unique_ptr<std::uint64_t[]> staging_memory, memory_registration staging,
                connection conn, const region_descriptor& remote, const region_options& options)
      : device_(std::move(dev)),
        pd_(std::move(pd)),
        cq_(std::move(cq)),
        staging_memory_(std::move(staging_memory)),
        staging_(std::move(staging)),
        connection_(std::move(conn)),
        remote_(remote),
        window_(options.window),
        max_inline_(std::min(options.max_inline_data, connection_.max_inline_data())),
        op_timeout_(options.op_timeout),
        slots_(std::make_unique<slot[]>(options.window)),
        requests_(std::make_unique<ibv_send_wr[]>(options.window)),
        entries_(std::make_unique<ibv_sge[]>(options.window)),
        ring_(staging_.size()) {}

  static absl::Status validate(const region_options& options) {
    if (options.window == 0) return absl::InvalidArgumentError("window must be at least 1");
    // A scatter/gather entry's length is 32 bits; 2 GiB keeps clear of it.
    if (options.staging_bytes < 8 || options.staging_bytes % 8 != 0 ||
        options.staging_bytes > (std::size_t{1} << 31))
      return absl::InvalidArgumentError(absl::StrCat("staging_bytes ", options.staging_bytes,
                                                     " must be a multiple of 8 in [8, 2 GiB]"));
    return absl::OkStatus();
  }

  // memory_op carries one mutable span for both directions; a WRITE only reads it.
  static std::span<std::byte> writable(std::span<const std::byte> src) noexcept {
    return {const_cast<std::byte*>(src.data()), src.size()};
  }

  slot& slot_for(std::uint64_t sequence) noexcept { return slots_[sequence % window_]; }

  // Claims the next slot for `op` and, unless it completes locally, appends its
  // work request to the chain of `chained` requests submit() will post. False when
  // the staging ring has no room for it now (the slot stays free).
  bool stage(const memory_op& op, bool internal, std::size_t& chained) noexcept {
    const bool atomic =
        op.opcode == memory_opcode::fetch_add || op.opcode == memory_opcode::compare_swap;
    const std::size_t length = atomic ? 8 : op.local.size();
    slot& s = slot_for(tail_);
    s = slot{
        .sequence = tail_, .completion = {.id = op.id}, .opcode = op.opcode, .internal = internal};
    errc local = check_memory_op(remote_.size, op);
    if (local == errc::ok && !failure_.ok()) local = errc::unavailable;
    if (local == errc::ok && length > ring_.capacity()) local = errc::unsupported;
    if (local != errc::ok || length == 0) {
      s.completion.status = local;
      s.done = true;
      ++tail_;
      return true;
    }

    ibv_sge& sge = entries_[chained];
    ibv_send_wr& wr = requests_[chained];
    wr = ibv_send_wr{};
    wr.wr_id = tail_;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.send_flags = IBV_SEND_SIGNALED;
    if (op.opcode == memory_opcode::write && length <= max_inline_) {
      // The device copies inline data at post time: no staging, no registration.
      sge = {.addr = reinterpret_cast<std::uintptr_t>(op.local.data()),
             .length = static_cast<std::uint32_t>(length),
             .lkey = 0};
      wr.send_flags |= IBV_SEND_INLINE;
    } else {
      const auto grant = ring_.acquire((length + 7) & ~std::size_t{7});
      if (!grant) return false;
      s.staging_offset = grant->offset;
      s.staging_charge = grant->charge;
      std::byte* staged = staging_.data() + grant->offset;
      sge = {.addr = reinterpret_cast<std::uintptr_t>(staged),
             .length = static_cast<std::uint32_t>(length),
             .lkey = staging_.lkey()};
      if (op.opcode == memory_opcode::write) std::memcpy(staged, op.local.data(), length);
      if (op.opcode == memory_opcode::read) s.destination = op.local;
    }
    const std::uint64_t remote_address = remote_.base + op.offset;
    switch (op.opcode) {
      case memory_opcode::read:
        wr.opcode = IBV_WR_RDMA_READ;
        wr.wr.rdma = {.remote_addr = remote_address, .rkey = remote_.rkey};
        break;
      case memory_opcode::write:
        wr.opcode = IBV_WR_RDMA_WRITE;
        wr.wr.rdma = {.remote_addr = remote_address, .rkey = remote_.rkey};
        break;
      case memory_opcode::fetch_add:
        wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
        wr.wr.atomic = {.remote_addr = remote_address,
                        .compare_add = op.operand,
                        .swap = 0,
                        .rkey = remote_.rkey};
        break;
      case memory_opcode::compare_swap:
        wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
        wr.wr.atomic = {.remote_addr = remote_address,
                        .compare_add = op.operand,
                        .swap = op.swap,
                        .rkey = remote_.rkey};
        break;
    }
    if (chained > 0) requests_[chained - 1].next = &wr;
    ++chained;
    ++tail_;
    return true;
  }

  void submit(std::size_t chained) noexcept {
    if (chained == 0) return;
    ibv_send_wr* bad = nullptr;
    if (const int rc = ibv_post_send(connection_.qp(), &requests_[0], &bad); rc != 0) {
      fail(detail::errno_status(rc, "ibv_post_send"));
      // Requests from `bad` on never reached the device; they complete here.
      for (ibv_send_wr* w = bad != nullptr ? bad : &requests_[0]; w != nullptr; w = w->next)
        complete(slot_for(w->wr_id), errc::unavailable);
    }
  }

  // Moves completions from the device into their slots; returns how many.
  int drain() noexcept {
    std::array<ibv_wc, 16> wcs;
    const int n = cq_.poll(wcs);
    if (n < 0) {
      fail(absl::UnavailableError("ibv_poll_cq failed: the completion queue is broken"));
      abandon_in_flight();
      return 0;
    }
    for (int i = 0; i < n; ++i) {
      const ibv_wc& wc = wcs[static_cast<std::size_t>(i)];
      slot& s = slot_for(wc.wr_id);
      if (s.sequence != wc.wr_id || s.done) continue;  // abandoned after a timeout
      const errc e = detail::completion_errc(wc.status);
      if (e == errc::ok) {
        const std::byte* staged = staging_.data() + s.staging_offset;
        if (s.opcode == memory_opcode::read && !s.destination.empty())
          std::memcpy(s.destination.data(), staged, s.destination.size());
        if (s.opcode == memory_opcode::fetch_add || s.opcode == memory_opcode::compare_swap)
          std::memcpy(&s.completion.old_value, staged, 8);  // host order, as the contract says
      } else if (failure_.ok()) {
        fail({status_code(e), absl::StrCat("work request ", wc.wr_id, " (", opcode_name(s.opcode),
                                           ") failed: ", ibv_wc_status_str(wc.status),
                                           " (vendor error 0x", absl::Hex(wc.vendor_err), ")")});
      }
      complete(s, e);
    }
    return n;
  }

  // Called when a poll found nothing while requests are in flight. Every 1024th
  // time, asks RDMA-CM whether the server has disconnected: its requests would
  // otherwise wait for the transport's retry budget (connect_options::ack_timeout).
  void idle() noexcept {
    if (++idle_polls_ % 1024 != 0 || !connection_.disconnected()) return;
    fail(absl::UnavailableError("the region server disconnected"));
    abandon_in_flight();
  }

  static const char* opcode_name(memory_opcode op) noexcept {
    switch (op) {
      case memory_opcode::read:
        return "RDMA READ";
      case memory_opcode::write:
        return "RDMA WRITE";
      case memory_opcode::fetch_add:
        return "ATOMIC FETCH_AND_ADD";
      case memory_opcode::compare_swap:
        return "ATOMIC CMP_AND_SWP";
    }
    return "?";
  }

  void complete(slot& s, errc e) noexcept {
    s.completion.status = e;
    s.done = true;
  }

  void fail(absl::Status why) noexcept {
    if (failure_.ok()) failure_ = std::move(why);
  }

  // Gives up on every request still in flight: the queue pair goes to the error
  // state (the device stops working on them), nothing is posted after a failure
  // (their staging bytes are never handed to a later request), and a late
  // completion is ignored by its sequence number.
  void abandon_in_flight() noexcept {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_ERR;
    (void)ibv_modify_qp(connection_.qp(), &attr, IBV_QP_STATE);
    for (std::uint64_t seq = head_; seq != tail_; ++seq) {
      slot& s = slot_for(seq);
      if (!s.done) {
        s.destination = {};
        complete(s, errc::unavailable);
      }
    }
  }

  void retire(slot& s) noexcept {
    if (s.staging_charge != 0) ring_.release(s.staging_charge);
    ++head_;
  }

  // Retires the completed blocking calls at the head, whose completions nobody polls.
  void retire_internal() noexcept {
    while (head_ != tail_ && slot_for(head_).done && slot_for(head_).internal)
      retire(slot_for(head_));
  }

  memory_completion execute(const memory_op& op) noexcept {
    retire_internal();
    const std::uint64_t sequence = tail_;
    std::size_t chained = 0;
    if (in_flight() == window_ || !stage(op, /*internal=*/true, chained))
      return {.id = op.id, .status = errc::would_block};
    submit(chained);
    slot& s = slot_for(sequence);
    const auto until = std::chrono::steady_clock::now() + op_timeout_;
    for (std::uint32_t spin = 1; !s.done; ++spin) {
      if (drain() == 0) idle();
      // The clock is read every 1024 polls: a poll is far cheaper than a clock read.
      if (spin % 1024 == 0 && !s.done && std::chrono::steady_clock::now() > until) {
        fail(absl::DeadlineExceededError(
            absl::StrCat("an ", opcode_name(op.opcode), " did not complete within ",
                         op_timeout_.count(), " ms; the peer or the path is gone")));
        abandon_in_flight();
      }
    }
    const memory_completion c = s.completion;
    retire_internal();
    return c;
  }

  // Destroyed bottom-up: the queue pair (connection_) before the staging
  // registration, the registration before its memory, then the CQ, the PD and the
  // device, which is the order ibverbs requires.
  device device_;
  protection_domain pd_;
  completion_queue cq_;
  std::unique_ptr<std::uint64_t[]> staging_memory_;
  memory_registration staging_;
  connection connection_;
  region_descriptor remote_;
  std::uint32_t window_;
  std::uint32_t max_inline_;
  std::chrono::milliseconds op_timeout_;
  std::unique_ptr<slot[]> slots_;
  std::unique_ptr<ibv_send_wr[]> requests_;
  std::unique_ptr<ibv_sge[]> entries_;
  detail::staging_ring ring_;
  std::uint64_t head_ = 0;  // oldest sequence number not yet retired
  std::uint64_t tail_ = 0;  // next sequence number to hand out
  std::uint32_t idle_polls_ = 0;
  absl::Status failure_;
};

static_assert(innet::batched_memory_region<remote_region>);

}  // namespace innet::rdma
