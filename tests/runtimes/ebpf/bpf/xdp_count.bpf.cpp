// XDP program for the veth test: counts what arrives and drops one UDP port.
//
// Every frame lands in one slot of the `counters` array map:
//   slot 0  IPv4/UDP to drop_port      -> XDP_DROP
//   slot 1  other IPv4/UDP              -> XDP_PASS
//   slot 2  anything else               -> XDP_PASS
// drop_port lives in .rodata, set through the skeleton before the load, so the
// verifier sees it as a constant. Headers are read in network byte order.
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include "innet/ebpf/bpf/program.hpp"

struct counters_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
};

extern "C" {
counters_map counters SEC(".maps");
const volatile __u16 drop_port = 0;
}

namespace {

constexpr __u16 network_order(__u16 host) {
  return static_cast<__u16>(host << 8 | host >> 8);
}

}  // namespace

extern "C" SEC("xdp") int count_udp(xdp_md* md) {
  const auto* const begin = reinterpret_cast<const char*>(static_cast<unsigned long>(md->data));
  const auto* const end = reinterpret_cast<const char*>(static_cast<unsigned long>(md->data_end));
  __u32 slot = 2;
  int verdict = XDP_PASS;
  const auto* eth = reinterpret_cast<const ethhdr*>(begin);
  const auto* ip = reinterpret_cast<const iphdr*>(eth + 1);
  const auto* udp = reinterpret_cast<const udphdr*>(ip + 1);
  if (reinterpret_cast<const char*>(udp + 1) <= end && eth->h_proto == network_order(ETH_P_IP) &&
      ip->ihl == 5 && ip->protocol == IPPROTO_UDP) {
    slot = 1;
    if (udp->dest == network_order(drop_port)) {
      slot = 0;
      verdict = XDP_DROP;
    }
  }
  auto* count = static_cast<__u64*>(innet::ebpf::bpf::map_lookup_elem(&counters, &slot));
  if (count != nullptr) __sync_fetch_and_add(count, 1);
  return verdict;
}

INNET_BPF_LICENSE("Dual BSD/GPL")
