// A context read far beyond any reasonable context: 4000 bytes in.
//
// rte_bpf knows the context's size when it loads (rte_load_params::ctx_size) and
// refuses the program ("memory boundary violation"). The kernel cannot: a syscall
// program's context is whatever BPF_PROG_TEST_RUN passes, so it records the highest
// offset read and refuses each *run* with a shorter context instead (EINVAL, which
// kernel_executor::run reports as errc::out_of_range).
#include "innet/ebpf/bpf/program.hpp"

extern "C" SEC("syscall/oob") int oob(const __u32* ctx) {
  return static_cast<int>(ctx[1000]);
}
