// libibverbs and librdmacm link and enumerate devices. The host usually has none
// (Soft-RoCE runs in the QEMU guest), which is reported as a skip, not a pass.
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
  int count = -1;
  ibv_device** devices = ibv_get_device_list(&count);
  if (devices == nullptr) {
    // No kernel verbs support at all (ENOSYS) is the same situation as no device.
    std::printf("ibv_get_device_list: %s; no RDMA device on this machine\n", std::strerror(errno));
    return 77;
  }
  for (int i = 0; i < count; ++i)
    std::printf("RDMA device: %s\n", ibv_get_device_name(devices[i]));
  ibv_free_device_list(devices);
  if (count == 0) {
    std::printf("libibverbs works; no RDMA device on this machine\n");
    return 77;
  }
  return 0;
}
