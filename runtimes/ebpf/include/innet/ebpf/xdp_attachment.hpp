// xdp_attachment: an XDP program attached to a network interface for a scope.
//
// attach() installs the program with bpf_xdp_attach() (netlink) and refuses to
// replace another program already there; the destructor (or detach()) removes it
// with XDP_FLAGS_REPLACE naming this program, so it never takes down a program that
// someone else attached in the meantime. The attachment holds its own duplicate of
// the program's descriptor, so the program may be closed before the attachment.
// (A BPF link, bpf_program__attach_xdp(), would detach on close by itself; the
// netlink attachment is the one every XDP-capable kernel and `ip link` understand.)
//
// The interface index is resolved in the calling thread's network namespace at
// attach time; destroy the attachment in that same namespace (an index means a
// different interface, or none, in another).
//
// Modes: native runs in the driver's receive path (veth, most NICs); generic runs
// after the kernel has built an skb and works on any interface, more slowly.
#pragma once

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace innet::ebpf {

enum class xdp_mode : std::uint8_t { native, generic };

class xdp_attachment {
 public:
  static absl::StatusOr<xdp_attachment> attach(int program_fd, int ifindex, xdp_mode mode) {
    if (program_fd < 0 || ifindex <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("xdp_attachment::attach: program fd ", program_fd, ", ifindex ", ifindex));
    }
    const std::uint32_t mode_flag =
        mode == xdp_mode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    const int error =
        -::bpf_xdp_attach(ifindex, program_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag, nullptr);
    if (error != 0) return attach_error(error, ifindex, mode);
    const int own_fd = ::fcntl(program_fd, F_DUPFD_CLOEXEC, 3);
    if (own_fd < 0) {
      const int dup_error = errno;
      // Remove only our program: with XDP_FLAGS_REPLACE naming it, the kernel leaves
      // alone one that someone else attached in the meantime.
      ::bpf_xdp_attach_opts opts{};
      opts.sz = sizeof opts;
      opts.old_prog_fd = program_fd;
      (void)::bpf_xdp_detach(ifindex, mode_flag | XDP_FLAGS_REPLACE, &opts);
      return absl::ErrnoToStatus(dup_error, "xdp_attachment::attach: duplicating program fd");
    }
    return xdp_attachment(ifindex, own_fd, mode_flag);
  }

  xdp_attachment(xdp_attachment&& other) noexcept
      : ifindex_(std::exchange(other.ifindex_, 0)),
        program_fd_(std::exchange(other.program_fd_, -1)),
        mode_flag_(other.mode_flag_) {}
  xdp_attachment& operator=(xdp_attachment&& other) noexcept {
    if (this != &other) {
      reset();
      ifindex_ = std::exchange(other.ifindex_, 0);
      program_fd_ = std::exchange(other.program_fd_, -1);
      mode_flag_ = other.mode_flag_;
    }
    return *this;
  }
  xdp_attachment(const xdp_attachment&) = delete;
  xdp_attachment& operator=(const xdp_attachment&) = delete;
  ~xdp_attachment() { reset(); }

  // Detaches now and says whether that worked. ENODEV (the interface is gone, and
  // the program with it) counts as detached.
  absl::Status detach() {
    if (program_fd_ < 0) return absl::OkStatus();
    ::bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    opts.old_prog_fd = program_fd_;
    const int error = -::bpf_xdp_detach(ifindex_, mode_flag_ | XDP_FLAGS_REPLACE, &opts);
    ::close(std::exchange(program_fd_, -1));
    if (error == 0 || error == ENODEV) return absl::OkStatus();
    return absl::ErrnoToStatus(error, absl::StrCat("detaching XDP from ifindex ", ifindex_));
  }

  int ifindex() const noexcept { return ifindex_; }
  bool attached() const noexcept { return program_fd_ >= 0; }

 private:
  xdp_attachment(int ifindex, int program_fd, std::uint32_t mode_flag) noexcept
      : ifindex_(ifindex), program_fd_(program_fd), mode_flag_(mode_flag) {}

  void reset() noexcept { (void)detach(); }

  static absl::Status attach_error(int error, int ifindex, xdp_mode mode) {
    const std::string where =
        absl::StrCat("attaching XDP (", mode == xdp_mode::native ? "native" : "generic",
                     ") to ifindex ", ifindex);
    switch (error) {
      case EBUSY:
      case EEXIST:
        return absl::FailedPreconditionError(
            absl::StrCat(where, ": the interface already has an XDP program; detach it first"));
      case EOPNOTSUPP:
        return absl::UnimplementedError(
            absl::StrCat(where, ": the driver has no native XDP; attach with xdp_mode::generic"));
      case EPERM:
        return absl::PermissionDeniedError(
            absl::StrCat(where, ": needs root, or CAP_NET_ADMIN and CAP_BPF"));
      case ENODEV:
        return absl::NotFoundError(
            absl::StrCat(where, ": no such interface in this thread's network namespace"));
      default:
        return absl::ErrnoToStatus(error, where);
    }
  }

  int ifindex_ = 0;
  int program_fd_ = -1;
  std::uint32_t mode_flag_ = 0;
};

}  // namespace innet::ebpf
