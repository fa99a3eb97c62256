// Compiles and links against the installed innet::dpdk.
#include "innet/dpdk/port_queue.hpp"

static_assert(innet::packet_port<innet::dpdk::port_queue>);

int main() {
  return 0;
}
