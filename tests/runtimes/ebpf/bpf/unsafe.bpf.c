// Programs that both verifiers must refuse, in restricted C. Each is a syscall
// program (SEC("syscall/<name>")): the kernel loads it by name, rte_bpf by section.
//
//   spin    waits for its context's first word to become zero: a loop whose exit
//           depends on memory the program itself never changes. The kernel finds
//           the same state at the back edge twice ("infinite loop detected");
//           rte_bpf refuses every backward jump ("loops detected").
//   uninit  returns r3, which holds nothing at entry (only r1, the context, does).
//           Kernel: "R3 !read_ok"; rte_bpf: "src reg value is undefined".
//
// unsafe_oob.bpf.cpp adds a third, in C++; innet_add_bpf_object links the two.
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

SEC("syscall/spin") int spin(__u32* ctx) {
  while (*(volatile __u32*)ctx != 0) {
  }
  return 0;
}

SEC("syscall/uninit") int uninit(__u32* ctx) {
  __u64 garbage;
  asm volatile("%0 = r3" : "=r"(garbage));
  return (int)(garbage + *ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
