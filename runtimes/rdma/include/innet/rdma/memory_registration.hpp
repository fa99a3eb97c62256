// A memory registration: pins a byte range and gives the device a local key (lkey,
// for this side's scatter/gather entries) and a remote key (rkey, which a peer
// quotes in one-sided requests) for it.
//
// The registration borrows the memory; the caller keeps it alive and unmoved for
// the registration's life. The access flags are exactly what a peer may do with the
// rkey: without remote_atomic, a peer's fetch_add fails with a remote access error.
#pragma once

#include <infiniband/verbs.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/rdma/detail/errors.hpp"
#include "innet/rdma/detail/handles.hpp"
#include "innet/rdma/protection_domain.hpp"

namespace innet::rdma {

enum class access : unsigned {
  none = 0,
  local_write = IBV_ACCESS_LOCAL_WRITE,
  remote_write = IBV_ACCESS_REMOTE_WRITE,
  remote_read = IBV_ACCESS_REMOTE_READ,
  remote_atomic = IBV_ACCESS_REMOTE_ATOMIC,
};

constexpr access operator|(access a, access b) noexcept {
  return static_cast<access>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(access set, access flag) noexcept {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

// Everything a peer may do to a memory region.
inline constexpr access remote_all =
    access::remote_read | access::remote_write | access::remote_atomic;

class memory_registration {
 public:
  // ibverbs refuses remote_write and remote_atomic without local_write (the device
  // writes the memory on the peer's behalf), so those imply it here.
  static absl::StatusOr<memory_registration> create(const protection_domain& pd,
                                                    std::span<std::byte> memory, access flags) {
    if (memory.empty()) return absl::InvalidArgumentError("cannot register an empty memory range");
    if (has(flags, access::remote_write) || has(flags, access::remote_atomic))
      flags = flags | access::local_write;
    errno = 0;
    detail::mr_handle mr(ibv_reg_mr(pd.get(), memory.data(), memory.size(),
                                    static_cast<int>(static_cast<unsigned>(flags))));
    if (mr == nullptr)
      return detail::errno_status(
          errno, absl::StrCat("ibv_reg_mr of ", memory.size(), " bytes"),
          errno == ENOMEM ? "raise the locked-memory limit (ulimit -l)" : absl::string_view{});
    return memory_registration(std::move(mr));
  }

  std::byte* data() const noexcept { return static_cast<std::byte*>(mr_->addr); }
  std::size_t size() const noexcept { return mr_->length; }
  std::uint32_t lkey() const noexcept { return mr_->lkey; }
  std::uint32_t rkey() const noexcept { return mr_->rkey; }
  ibv_mr* get() const noexcept { return mr_.get(); }

 private:
  explicit memory_registration(detail::mr_handle mr) noexcept : mr_(std::move(mr)) {}

  detail::mr_handle mr_;
};

}  // namespace innet::rdma
