// Calls into the host through rte_bpf helpers (innet/ebpf/rte_helper.hpp), which the
// kernel does not have: this object is for rte_executor only.
//
// Context (24 bytes, host byte order):
//   0   8  a    in
//   8   8  b    in
//   16  8  out  out: innet_test_mix(a, b) + innet_test_sum(&ctx->a)
// Returns the low 16 bits of out.
#include "innet/ebpf/bpf/program.hpp"

struct helper_ctx {
  __u64 a;
  __u64 b;
  __u64 out;
};

struct word_pair {
  __u64 first;
  __u64 second;
};

extern "C" {
__u64 innet_test_mix(__u64 a, __u64 b);
__u64 innet_test_sum(const word_pair* words);
}

extern "C" SEC("syscall/helper") int call_helpers(helper_ctx* ctx) {
  ctx->out =
      innet_test_mix(ctx->a, ctx->b) + innet_test_sum(reinterpret_cast<const word_pair*>(&ctx->a));
  return static_cast<int>(ctx->out & 0xFFFF);
}
