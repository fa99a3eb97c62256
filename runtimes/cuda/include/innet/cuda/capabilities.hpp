// What the CUDA stack of this machine offers: the driver and runtime versions, every
// visible device, and which pairs of devices reach each other's memory directly.
//
// probe() is the first call of a CUDA-using program and the one call that must not assume
// a GPU. Without a usable driver or device it returns kUnavailable with a message that
// names CUDA's error and what to do, e.g.
//
//   no CUDA device: cudaErrorInsufficientDriver (CUDA driver version is insufficient for
//   CUDA runtime version); no NVIDIA driver is loaded; install one that supports CUDA 13.0
//   or later, or run on a machine with a GPU
//
// and GPU tests print exactly that as their reason to skip.
//
// The peer matrix is what AQUA's placement needs to know before it leases memory on a
// neighbouring GPU: `access` says copies and loads go over NVLink/PCIe peer-to-peer instead
// of bouncing through host memory; `native_atomics` says a kernel may use atomics on the
// peer's memory; `performance_rank` is the driver's relative link quality (lower is better).
//
// Host-only: plain C++ may include this header.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "innet/cuda/detail/cuda_status.hpp"

namespace innet::cuda {

struct device_properties {
  int ordinal = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t global_memory_bytes = 0;
  int multiprocessor_count = 0;
  std::string pci_bus_id;   // domain:bus:device.function in hex (cudaDeviceGetPCIBusId)
  int host_numa_node = -1;  // the host NUMA node closest to the device; -1 when unknown
  bool can_map_host_memory = false;
  bool gpu_direct_rdma = false;  // an RDMA NIC can DMA straight into this device's memory
};

struct peer_attributes {
  bool access = false;
  bool native_atomics = false;
  int performance_rank = 0;
};

struct capabilities {
  int driver_version = 0;  // newest CUDA the driver supports, 1000 * major + 10 * minor
  int runtime_version = 0;
  std::vector<device_properties> devices;
  // Row-major, devices.size() squared; entry (from, to) describes `from` reaching `to`'s
  // memory. The diagonal stays default: a device reaches its own memory without peering.
  std::vector<peer_attributes> peers;

  // The link from one device to another; no access for an ordinal that does not exist.
  const peer_attributes& peer(int from, int to) const noexcept {
    static const peer_attributes none{};
    const auto n = static_cast<int>(devices.size());
    if (from < 0 || to < 0 || from >= n || to >= n) return none;
    return peers[static_cast<std::size_t>(from * n + to)];
  }

  // A few human-readable lines: versions, one line per device, the peer matrix.
  std::string summary() const {
    std::string out = absl::StrCat("CUDA driver ", detail::cuda_version_string(driver_version),
                                   ", runtime ", detail::cuda_version_string(runtime_version), ", ",
                                   devices.size(), " device(s)\n");
    for (const device_properties& d : devices) {
      absl::StrAppendFormat(
          &out, "  [%d] %s  sm_%d%d  %d SMs  %.1f GiB  pci %s  numa %d%s\n", d.ordinal, d.name,
          d.compute_major, d.compute_minor, d.multiprocessor_count,
          static_cast<double>(d.global_memory_bytes) / (1024.0 * 1024 * 1024), d.pci_bus_id,
          d.host_numa_node, d.gpu_direct_rdma ? "  gpudirect-rdma" : "");
    }
    if (devices.size() < 2) return out;
    absl::StrAppend(&out, "  peer access (row reaches column; a = with native atomics):\n     ");
    for (const device_properties& d : devices)
      absl::StrAppendFormat(&out, " %3d", d.ordinal);
    absl::StrAppend(&out, "\n");
    for (const device_properties& from : devices) {
      absl::StrAppendFormat(&out, "  %3d", from.ordinal);
      for (const device_properties& to : devices) {
        const peer_attributes& p = peer(from.ordinal, to.ordinal);
        const char* cell = from.ordinal == to.ordinal ? "-" : !p.access ? "." : "y";
        if (p.access && p.native_atomics) cell = "a";
        absl::StrAppendFormat(&out, " %3s", cell);
      }
      absl::StrAppend(&out, "\n");
    }
    return out;
  }
};

// Describes the CUDA stack, or says clearly why there is none to use.
inline absl::StatusOr<capabilities> probe() {
  capabilities caps;
  cudaRuntimeGetVersion(&caps.runtime_version);
  cudaDriverGetVersion(&caps.driver_version);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  // The runtime reports "no device" as an error, but be safe against a driver that does not.
  if (e == cudaSuccess && count == 0) e = cudaErrorNoDevice;
  if (e != cudaSuccess) return detail::cuda_status(e, "no CUDA device");

  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (e = cudaGetDeviceProperties(&p, d); e != cudaSuccess)
      return detail::cuda_status(e, absl::StrCat("cudaGetDeviceProperties(", d, ")"));
    char bus_id[32] = {};
    if (e = cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, d); e != cudaSuccess)
      return detail::cuda_status(e, absl::StrCat("cudaDeviceGetPCIBusId(", d, ")"));
    caps.devices.push_back({
        .ordinal = d,
        .name = p.name,
        .compute_major = p.major,
        .compute_minor = p.minor,
        .global_memory_bytes = p.totalGlobalMem,
        .multiprocessor_count = p.multiProcessorCount,
        .pci_bus_id = bus_id,
        .host_numa_node = p.hostNumaId,
        .can_map_host_memory = p.canMapHostMemory != 0,
        .gpu_direct_rdma = p.gpuDirectRDMASupported != 0,
    });
  }

  caps.peers.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(count));
  for (int from = 0; from < count; ++from) {
    for (int to = 0; to < count; ++to) {
      if (from == to) continue;
      peer_attributes& link = caps.peers[static_cast<std::size_t>(from * count + to)];
      int access = 0;
      if (e = cudaDeviceCanAccessPeer(&access, from, to); e != cudaSuccess) {
        return detail::cuda_status(e,
                                   absl::StrCat("cudaDeviceCanAccessPeer(", from, ", ", to, ")"));
      }
      link.access = access != 0;
      if (!link.access) continue;
      int atomics = 0;
      if (e = cudaDeviceGetP2PAttribute(&atomics, cudaDevP2PAttrNativeAtomicSupported, from, to);
          e != cudaSuccess) {
        return detail::cuda_status(e,
                                   absl::StrCat("cudaDeviceGetP2PAttribute(", from, ", ", to, ")"));
      }
      link.native_atomics = atomics != 0;
      if (e = cudaDeviceGetP2PAttribute(&link.performance_rank, cudaDevP2PAttrPerformanceRank, from,
                                        to);
          e != cudaSuccess) {
        return detail::cuda_status(e,
                                   absl::StrCat("cudaDeviceGetP2PAttribute(", from, ", ", to, ")"));
      }
    }
  }
  return caps;
}

}  // namespace innet::cuda
