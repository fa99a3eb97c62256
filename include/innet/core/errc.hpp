// The error vocabulary of innet's hot paths and device code.
//
// Parsers, memory-region operations and packet paths return an `errc` (or a
// `result<T>` carrying one) instead of throwing or allocating: the same code runs
// in eBPF programs, CUDA kernels and DPDK poll loops, where neither exceptions nor
// absl::Status exist. API edges convert with `to_status()` (core/status.hpp).
//
// Freestanding: includes nothing from the standard library.
#pragma once

#include "innet/core/detail/freestanding.hpp"

namespace innet {

enum class errc : u8 {
  ok = 0,
  truncated,          // input ends before the format says it should
  malformed,          // a field holds a value the format forbids
  unsupported,        // well-formed, but a feature this code does not handle
  out_of_range,       // offset/length outside a buffer or memory region
  misaligned,         // an atomic operation's offset is not 8-byte aligned
  checksum_mismatch,  // a checksum or CRC does not match the bytes it covers
  incompatible,       // two objects cannot be combined (merge of different shapes)
  not_found,          // a lookup found nothing
  would_block,        // no space or no data right now; retry later
  remote_error,       // the remote side reported a failure (NAK, access error)
  unavailable,        // a device, peer or service cannot be reached
};

// A stable, human-readable name; never returns null.
INNET_HD constexpr const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::truncated:
      return "truncated";
    case errc::malformed:
      return "malformed";
    case errc::unsupported:
      return "unsupported";
    case errc::out_of_range:
      return "out of range";
    case errc::misaligned:
      return "misaligned";
    case errc::checksum_mismatch:
      return "checksum mismatch";
    case errc::incompatible:
      return "incompatible";
    case errc::not_found:
      return "not found";
    case errc::would_block:
      return "would block";
    case errc::remote_error:
      return "remote error";
    case errc::unavailable:
      return "unavailable";
  }
  return "unknown error";
}

}  // namespace innet
