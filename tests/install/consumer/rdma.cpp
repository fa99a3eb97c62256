// Compiles and links against the installed innet::rdma.
#include "innet/rdma/remote_region.hpp"

static_assert(innet::batched_memory_region<innet::rdma::remote_region>);

int main() {
  return 0;
}
