// A frame ring in shared memory: one direction of a packet port between two
// processes, placed in a sealed memfd that both map.
//
// The region holds exactly the ring that ring_port uses in process memory; its full
// layout, with the memory-ordering argument, is in detail/frame_ring.hpp. In short
// (host byte order; the region never leaves the machine):
//
//   0    header   magic "INRG", version, slot_count, max_frame, slot_size,
//                 slots_offset, region_size                       (64 bytes)
//   128  produced u64, the producer's index                 (own 128 bytes)
//   256  consumed u64, the consumer's index                 (own 128 bytes)
//   384  length[slot_count] u32                             (padded to 128)
//   slots_offset  slot[slot_count], slot_size bytes each (64-byte aligned)
//
// create() makes the memfd, sizes it, seals its size (F_SEAL_SHRINK | F_SEAL_GROW |
// F_SEAL_SEAL) and formats the ring. The fd travels to the peer by fork()
// inheritance or SCM_RIGHTS (it is close-on-exec, so clear FD_CLOEXEC to pass it
// across exec). attach() trusts none of it: it requires the size seals, since a
// peer that could shrink the file would kill this process with SIGBUS on its next
// access; it checks that the fd is big enough for the header, that magic and
// version match, that the geometry is one create() could have produced, and that it
// covers the fd exactly; and it fixes that geometry for its lifetime, so a peer
// rewriting the header later changes nothing here.
//
// Why single-producer/single-consumer, and no MPMC ring: a port end is polled by
// one thread, as a DPDK queue is by one lcore, so a second producer never exists;
// fan-in is one ring per producer. SPSC also survives a peer that dies mid-burst:
// each side owns one index and publishes with one store, so a crash leaves the
// ring consistent, whereas in a Vyukov-style MPMC ring a producer that dies
// between claiming a slot and publishing its sequence number stalls every
// consumer behind it forever. (An MPMC variant is not provided.)
//
// A shm_ring is only the mapped, validated region; shm_port (shm_port.hpp) produces
// into one and consumes from another. Each ring must have one producing and one
// consuming shm_port at a time, in whichever processes.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/host/detail/frame_ring.hpp"

namespace innet::host {

struct shm_ring_config {
  std::uint32_t slot_count = 1024;      // frames the ring holds; a power of two
  std::uint32_t max_frame = 2048;       // largest frame, bytes
  const char* name = "innet-shm-ring";  // memfd name, shown in /proc/<pid>/fd
};

class shm_ring {
 public:
  static absl::StatusOr<shm_ring> create(const shm_ring_config& config);
  // Maps and validates the ring behind `fd`. Does not take `fd`: the ring keeps its
  // own duplicate, and the caller may close theirs.
  static absl::StatusOr<shm_ring> attach(int fd);

  shm_ring(shm_ring&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        base_(std::exchange(other.base_, nullptr)),
        geometry_(other.geometry_) {}
  shm_ring& operator=(shm_ring&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
      base_ = std::exchange(other.base_, nullptr);
      geometry_ = other.geometry_;
    }
    return *this;
  }
  shm_ring(const shm_ring&) = delete;
  shm_ring& operator=(const shm_ring&) = delete;
  ~shm_ring() { reset(); }

  // The memfd, to hand to the peer.
  int fd() const noexcept { return fd_; }
  std::uint32_t slot_count() const noexcept { return geometry_.slot_count; }
  std::uint32_t max_frame() const noexcept { return geometry_.max_frame; }
  std::uint64_t size() const noexcept { return geometry_.region_size; }

 private:
  friend class shm_port;

  shm_ring(int fd, std::byte* base, const detail::ring_geometry& geometry) noexcept
      : fd_(fd), base_(base), geometry_(geometry) {}

  void reset() noexcept {
    if (base_ != nullptr) ::munmap(base_, geometry_.region_size);
    if (fd_ >= 0) ::close(fd_);
    base_ = nullptr;
    fd_ = -1;
  }

  std::byte* base() const noexcept { return base_; }
  const detail::ring_geometry& geometry() const noexcept { return geometry_; }

  int fd_ = -1;
  std::byte* base_ = nullptr;
  detail::ring_geometry geometry_{};
};

namespace detail {

inline absl::StatusOr<std::byte*> map_shared(int fd, std::uint64_t size, absl::string_view what) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat(what, ": mmap of ", size, " bytes"));
  }
  return static_cast<std::byte*>(p);
}

// The checks attach() makes before believing a header; `file_size` is the fd's.
inline absl::StatusOr<ring_geometry> validate_ring_header(const ring_header& h,
                                                          std::uint64_t file_size) {
  constexpr absl::string_view what = "shm_ring::attach";
  if (h.magic != ring_magic) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": no ring magic at offset 0 (found 0x", absl::Hex(h.magic), ", expected 0x",
        absl::Hex(ring_magic), "): the fd is not a shm_ring, or its creator has not finished"));
  }
  if (h.version != ring_version) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ring layout version ", h.version, ", this build reads version ",
                     ring_version, ": build both processes from the same innet"));
  }
  auto g = ring_geometry::make(h.slot_count, h.max_frame, "shm_ring::attach: header");
  if (!g.ok()) return g.status();
  if (h.slot_size != g->slot_size || h.slots_offset != g->slots_offset ||
      h.region_size != g->region_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": header is inconsistent: slot_count ", h.slot_count, " and max_frame ",
                     h.max_frame, " give slot_size ", g->slot_size, ", slots_offset ",
                     g->slots_offset, ", region_size ", g->region_size, "; it says ", h.slot_size,
                     ", ", h.slots_offset, ", ", h.region_size, ": the region is corrupt"));
  }
  if (file_size != g->region_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the fd holds ", file_size, " bytes but its ring header describes ",
                     g->region_size, ": the region is truncated or not a shm_ring"));
  }
  return *g;
}

}  // namespace detail

inline absl::StatusOr<shm_ring> shm_ring::create(const shm_ring_config& config) {
  constexpr absl::string_view what = "shm_ring::create";
  auto geometry = detail::ring_geometry::make(config.slot_count, config.max_frame, what);
  if (!geometry.ok()) return geometry.status();
  const detail::ring_geometry& g = *geometry;

  const int fd = ::memfd_create(config.name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return absl::ErrnoToStatus(errno, "shm_ring::create: memfd_create");
  // From here on the ring owns fd (and later the mapping), so every failure path
  // releases them.
  shm_ring ring(fd, nullptr, g);
  if (::ftruncate(fd, static_cast<off_t>(g.region_size)) != 0) {
    const int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat(what, ": sizing the memfd to ", g.region_size, " bytes"));
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return absl::ErrnoToStatus(errno, "shm_ring::create: sealing the memfd's size");
  auto base = detail::map_shared(fd, g.region_size, what);
  if (!base.ok()) return base.status();
  ring.base_ = *base;
  detail::format_ring(ring.base_, g);
  return ring;
}

inline absl::StatusOr<shm_ring> shm_ring::attach(int fd) {
  constexpr absl::string_view what = "shm_ring::attach";
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat(what, ": fd ", fd, " is not open"));
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat(what, ": duplicating fd ", fd));
  }
  shm_ring ring(own, nullptr, {});

  const int seals = ::fcntl(own, F_GET_SEALS);
  if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": fd ", fd,
        " is not a memfd sealed against resizing; a peer that shrank it would crash this "
        "process with SIGBUS. Create rings with shm_ring::create"));
  }
  struct stat st {};
  if (::fstat(own, &st) != 0) return absl::ErrnoToStatus(errno, "shm_ring::attach: fstat");
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < detail::ring_lengths_offset) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": fd ", fd, " holds ", file_size, " bytes, less than a ring's ",
        detail::ring_lengths_offset, "-byte control block: not a shm_ring, or truncated"));
  }
  auto base = detail::map_shared(own, file_size, what);
  if (!base.ok()) return base.status();
  ring.base_ = *base;
  ring.geometry_.region_size = file_size;  // what to unmap should validation fail

  auto geometry = detail::validate_ring_header(detail::read_ring_header(ring.base_), file_size);
  if (!geometry.ok()) return geometry.status();
  ring.geometry_ = *geometry;
  return ring;
}

}  // namespace innet::host
