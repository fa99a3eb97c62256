// cuda_probe: what the CUDA stack of this machine offers, and one round trip through
// device memory when there is a GPU.
//
//   $ build/default/examples/cuda/cuda_probe        (a machine with one GPU)
//   CUDA driver <version>, runtime 13.0, 1 device(s)
//     [0] <name>  sm_90  <n> SMs  <size> GiB  pci <bus id>  numa <node>
//   region of 4096 bytes on device 0: wrote "hello from innet", read "hello from innet";
//   fetch_add: 0, 40
//
// Without a GPU it prints why there is none to use and exits 0: a probe that finds nothing
// has still done its job. It exits 1 only if a GPU is there and the round trip fails.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "innet/cuda/capabilities.hpp"
#include "innet/cuda/device_memory_region.hpp"

namespace {

int round_trip(int device) {
  absl::StatusOr<innet::cuda::device_memory_region> region =
      innet::cuda::device_memory_region::create(device, 4096);
  if (!region.ok()) {
    std::printf("cannot create a region: %s\n", region.status().ToString().c_str());
    return 1;
  }
  constexpr std::string_view greeting = "hello from innet";
  if (region->write(64, std::as_bytes(std::span(greeting))) != innet::errc::ok) return 1;
  char back[greeting.size() + 1] = {};
  if (region->read(64, std::as_writable_bytes(std::span(back, greeting.size()))) !=
      innet::errc::ok) {
    return 1;
  }
  // A device-side atomic: the old value comes back, the word keeps the sum.
  const innet::result<std::uint64_t> before = region->fetch_add(0, 40);
  const innet::result<std::uint64_t> after = region->fetch_add(0, 2);
  if (!before.ok() || !after.ok()) return 1;
  std::printf(
      "region of %llu bytes on device %d: wrote \"%s\", read \"%s\"; fetch_add: %llu, %llu\n",
      static_cast<unsigned long long>(region->size()), device, std::string(greeting).c_str(), back,
      static_cast<unsigned long long>(*before), static_cast<unsigned long long>(*after));
  return greeting == back && *before == 0 && *after == 40 ? 0 : 1;
}

}  // namespace

int main() {
  const absl::StatusOr<innet::cuda::capabilities> caps = innet::cuda::probe();
  if (!caps.ok()) {
    std::printf("%s\n", std::string(caps.status().message()).c_str());
    return 0;
  }
  std::printf("%s", caps->summary().c_str());
  return round_trip(0);
}
