// The CUDA runtime links, innet's freestanding hash compiles as device code, and
// on a machine with a GPU the device computes the same XXH3 as the host.
#include <cuda_runtime.h>

#include <cstdio>

#include "innet/core/hash_family.hpp"
#include "innet/core/xxh3.hpp"

__global__ void hash_on_device(const innet::u8* key, innet::u64 length, innet::u64* out) {
  out[0] = innet::xxh3_64(key, length, 42);
  out[1] = innet::hash_family(innet::xxh3_128(key, length, 42)).index(3, 4096);
}

int main() {
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  std::printf("CUDA runtime %d (toolkit %d)\n", runtime, INNET_EXPECTED_VERSION);
  if (runtime / 1000 * 10 + runtime % 1000 / 10 != INNET_EXPECTED_VERSION) return 1;

  int devices = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&devices); e != cudaSuccess || devices == 0) {
    std::printf("no usable GPU (%s): device check skipped\n", cudaGetErrorString(e));
    return 77;
  }
  innet::u8 key[300];
  for (int i = 0; i < 300; ++i)
    key[i] = static_cast<innet::u8>(i * 31);
  innet::u8* device_key = nullptr;
  innet::u64* device_out = nullptr;
  innet::u64 out[2] = {};
  if (cudaMalloc(&device_key, sizeof key) != cudaSuccess ||
      cudaMalloc(&device_out, sizeof out) != cudaSuccess)
    return 1;
  cudaMemcpy(device_key, key, sizeof key, cudaMemcpyHostToDevice);
  hash_on_device<<<1, 1>>>(device_key, sizeof key, device_out);
  if (cudaMemcpy(out, device_out, sizeof out, cudaMemcpyDeviceToHost) != cudaSuccess) return 1;
  cudaFree(device_key);
  cudaFree(device_out);
  const innet::u64 host_hash = innet::xxh3_64(key, sizeof key, 42);
  const innet::u64 host_index =
      innet::hash_family(innet::xxh3_128(key, sizeof key, 42)).index(3, 4096);
  std::printf("device xxh3_64 %016llx host %016llx; index %llu vs %llu\n",
              static_cast<unsigned long long>(out[0]), static_cast<unsigned long long>(host_hash),
              static_cast<unsigned long long>(out[1]), static_cast<unsigned long long>(host_index));
  return out[0] == host_hash && out[1] == host_index ? 0 : 1;
}
