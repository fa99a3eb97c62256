// What a C++ BPF program includes instead of libbpf's <bpf/bpf_helpers.h>.
//
// bpf_helpers.h is C only: it declares each helper as a function pointer initialised
// with an integer (`static void *(*bpf_map_lookup_elem)(...) = (void *) 1;`), which
// C++ refuses. Here each helper is an always-inline function that calls through a
// reinterpret_cast of its number, which clang lowers to the same `call <id>`
// instruction. Only the helpers innet's programs use are declared; add others the
// same way, numbered by <linux/bpf.h>'s BPF_FUNC_* enum.
//
// Maps follow libbpf's BTF convention (__uint/__type fields of a struct placed in
// ".maps"). libbpf refuses maps with internal linkage, so define them inside
// `extern "C" { ... }` with a named struct type:
//
//   struct counters_map {
//     __uint(type, BPF_MAP_TYPE_ARRAY);
//     __uint(max_entries, 4);
//     __type(key, __u32);
//     __type(value, __u64);
//   };
//   extern "C" {
//   counters_map counters SEC(".maps");
//   }
//
// Program entry points must be `extern "C"` too: libbpf names a program after its
// symbol, and rte_bpf_elf_load() finds code by section, so neither wants a mangled
// name.
//
// Only for code compiled with clang -target bpf (innet_add_bpf_object does it).
#pragma once

#if !defined(__bpf__)
#error "innet/ebpf/bpf/program.hpp is for BPF programs: compile with clang -target bpf"
#endif

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int(*name)[val]
#define __type(name, val) val* name

// The license string the kernel checks before it lets a program call GPL-only helpers.
#define INNET_BPF_LICENSE(text)          \
  extern "C" {                           \
  char _license[] SEC("license") = text; \
  }

// An optimisation barrier for straight-line BPF code. In a fully unrolled block LLVM
// shares and hoists loads between two independent phases that read the same bytes
// (common subexpressions), so every loaded value stays live through both; with ten
// registers the spills then pass the 512-byte stack limit and compilation fails. A
// barrier between the phases makes the second reload what it needs. Not a fence: it
// orders nothing at run time.
#define INNET_BPF_BARRIER() asm volatile("" ::: "memory")

namespace innet::ebpf::bpf {

// BPF_FUNC_map_lookup_elem: the value stored under `key`, or null.
[[gnu::always_inline]] inline void* map_lookup_elem(void* map, const void* key) {
  return reinterpret_cast<void* (*)(void*, const void*)>(BPF_FUNC_map_lookup_elem)(map, key);
}

// BPF_FUNC_map_update_elem: stores `value` under `key`; flags BPF_ANY, BPF_NOEXIST or
// BPF_EXIST. Returns 0 or a negative errno.
[[gnu::always_inline]] inline long map_update_elem(void* map, const void* key, const void* value,
                                                   __u64 flags) {
  return reinterpret_cast<long (*)(void*, const void*, const void*, __u64)>(
      BPF_FUNC_map_update_elem)(map, key, value, flags);
}

// BPF_FUNC_ktime_get_ns: CLOCK_MONOTONIC in nanoseconds.
[[gnu::always_inline]] inline __u64 ktime_get_ns() {
  return reinterpret_cast<__u64 (*)()>(BPF_FUNC_ktime_get_ns)();
}

}  // namespace innet::ebpf::bpf
