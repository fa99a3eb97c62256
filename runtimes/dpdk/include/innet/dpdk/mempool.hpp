// A packet-buffer (mbuf) pool, owned.
//
// Every frame a port receives or sends lives in an mbuf from a pool like this
// one. Layout of one element, as rte_pktmbuf_pool_create() builds it:
//
//   | struct rte_mbuf (128 B) | private (0 B) | headroom (128 B) | data room ... |
//                                            <------------- data_room ----------->
//
// so the largest single-segment frame is data_room - RTE_PKTMBUF_HEADROOM bytes
// (2048 with the default RTE_MBUF_DEFAULT_BUF_SIZE of 2176). The rte_mbuf
// fields are DPDK's, in host byte order; the frame bytes are as on the wire.
//
// Lifetime: the pool must outlive every port, ring and queue that holds its
// mbufs; rte_mempool_free() does not know about mbufs still in flight.
#pragma once

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace innet::dpdk {

struct mempool_params {
  // Unique in the process, shorter than RTE_MEMPOOL_NAMESIZE (26 characters).
  std::string name = "innet_mbufs";
  // 2^q - 1 uses the backing ring best. Size it for every rx descriptor of every
  // queue, plus what is in flight: af_xdp needs 16384.
  unsigned mbufs = 8191;
  // Per-lcore cache; at most RTE_MEMPOOL_CACHE_MAX_SIZE and mbufs / 1.5.
  unsigned cache_size = 256;
  // Headroom plus the largest frame.
  std::uint16_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
  int socket = SOCKET_ID_ANY;
};

class mempool {
 public:
  static absl::StatusOr<mempool> create(const mempool_params& params) {
    if (params.data_room <= RTE_PKTMBUF_HEADROOM) {
      return absl::InvalidArgumentError(absl::StrCat("mempool '", params.name, "': data_room ",
                                                     params.data_room, " leaves no room after the ",
                                                     RTE_PKTMBUF_HEADROOM, "-byte headroom"));
    }
    rte_mempool* pool = ::rte_pktmbuf_pool_create(
        params.name.c_str(), params.mbufs, params.cache_size, 0, params.data_room, params.socket);
    if (pool == nullptr) {
      const int error = rte_errno;
      return absl::ResourceExhaustedError(absl::StrCat(
          "mempool '", params.name, "' (", params.mbufs, " mbufs of ", params.data_room,
          " bytes): rte_pktmbuf_pool_create failed: ", ::rte_strerror(error),
          error == ENOMEM ? "; lower mbufs or raise eal_params::memory_mb"
          : error == EEXIST
              ? "; a pool of that name exists: names are unique per process"
              : "; is the EAL running (eal_init) and the cache no larger than mbufs / 1.5?"));
    }
    return mempool(pool);
  }

  mempool(mempool&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)) {}
  mempool& operator=(mempool&& other) noexcept {
    if (this != &other) {
      release();
      pool_ = std::exchange(other.pool_, nullptr);
    }
    return *this;
  }
  mempool(const mempool&) = delete;
  mempool& operator=(const mempool&) = delete;
  ~mempool() { release(); }

  rte_mempool* get() const noexcept { return pool_; }

  // Mbufs free in the pool, per-lcore caches included.
  unsigned available() const noexcept { return ::rte_mempool_avail_count(pool_); }
  // Mbufs held by ports, rings and the application.
  unsigned in_use() const noexcept { return ::rte_mempool_in_use_count(pool_); }
  // The largest frame one mbuf holds.
  std::size_t max_frame() const noexcept {
    return ::rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM;
  }

 private:
  explicit mempool(rte_mempool* pool) noexcept : pool_(pool) {}

  void release() noexcept {
    if (pool_ != nullptr) ::rte_mempool_free(pool_);
    pool_ = nullptr;
  }

  rte_mempool* pool_ = nullptr;
};

}  // namespace innet::dpdk
