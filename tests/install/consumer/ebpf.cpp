// Compiles and links against the installed innet::ebpf.
#include "innet/ebpf/kernel_executor.hpp"

int main() {
  return 0;
}
