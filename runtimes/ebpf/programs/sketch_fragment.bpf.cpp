// The XDP Count-Min fragment: every IPv4 TCP/UDP frame's five-tuple is added to the
// fixed_count_min of the current bank of a BPF array map; every frame is passed on
// (XDP_PASS). Maps, banks,
// dimensions and the classification of frames that are not counted are described in
// innet/ebpf/sketch_fragment.hpp, which user space shares.
//
// The key is built in a 13-byte stack buffer in five_tuple::to_bytes() order. That
// order is the wire's: addresses and ports are copied as they are in the packet
// (network byte order is the big-endian to_bytes() wants), so no byte is swapped.
//
// Verifier notes. Every packet access is preceded by a comparison of the accessed
// range's end with data_end on the same pointer, so the verifier knows the range is in
// the packet. The IPv4 header length is variable (IHL * 4, 20 to 60 bytes): the
// transport header's pointer is the IPv4 pointer plus a masked scalar whose bounds the
// verifier tracks, then checked against data_end like the rest. The counters' offsets
// need no mask: a column is the high half of a product with the width (hash_family::index
// in BPF's portable 64x64 multiply), whose range the verifier follows through the shifts
// and adds to within the map value, so fixed_count_min::update_atomic is used as it is.
#include "innet/ebpf/sketch_fragment.hpp"
#include "innet/core/xxh3.hpp"
#include "innet/ebpf/bpf/program.hpp"

using innet::u16;
using innet::u32;
using innet::u64;
using innet::u8;
using innet::ebpf::sketch_fragment_config;
using innet::ebpf::sketch_fragment_counters;
using innet::ebpf::sketch_fragment_stat;

struct sketch_config_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, sketch_fragment_config);
};

struct sketch_counters_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, innet::ebpf::sketch_fragment_bank_count);
  __type(key, __u32);
  __type(value, sketch_fragment_counters);
};

struct sketch_stats_map {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, innet::ebpf::sketch_fragment_stat_count);
  __type(key, __u32);
  __type(value, __u64);
};

extern "C" {
sketch_config_map sketch_config SEC(".maps");
sketch_counters_map sketch_counters SEC(".maps");
sketch_stats_map sketch_stats SEC(".maps");
}

namespace {

constexpr u32 ethernet_size = 14;
constexpr u32 ipv4_min_size = 20;
constexpr u32 tcp_min_size = 20;
constexpr u32 udp_size = 8;
constexpr u8 protocol_tcp = 6;
constexpr u8 protocol_udp = 17;

// Parses the frame [data, end) and, for a countable one, writes its key.
[[gnu::always_inline]] inline sketch_fragment_stat parse(const u8* data, const u8* end, u8* key) {
  if (data + ethernet_size > end) return sketch_fragment_stat::truncated;
  if (data[12] != 0x08 || data[13] != 0x00) return sketch_fragment_stat::not_ipv4;
  const u8* const ip = data + ethernet_size;
  if (ip + ipv4_min_size > end) return sketch_fragment_stat::truncated;
  const u32 version = ip[0] >> 4;
  // Masked, so the verifier knows header_size is at most 60.
  const u32 header_size = (ip[0] & 0x0FU) * 4;
  if (version != 4 || header_size < ipv4_min_size) return sketch_fragment_stat::bad_ipv4;
  const u8* const l4 = ip + header_size;
  if (l4 > end) return sketch_fragment_stat::truncated;
  if (((ip[6] & 0x1FU) | ip[7]) != 0) return sketch_fragment_stat::fragment;
  const u8 protocol = ip[9];
  u32 l4_size = 0;
  if (protocol == protocol_tcp) {
    if (l4 + tcp_min_size > end) return sketch_fragment_stat::truncated;
    l4_size = tcp_min_size;
  } else if (protocol == protocol_udp) {
    if (l4 + udp_size > end) return sketch_fragment_stat::truncated;
    l4_size = udp_size;
  } else {
    return sketch_fragment_stat::not_tcp_udp;
  }
  const u32 total_length = u32{ip[2]} << 8 | ip[3];
  if (total_length < header_size + l4_size) return sketch_fragment_stat::bad_ipv4;
  // Both paths above proved l4 + 8 <= end; the verifier needs it on this path too.
  if (l4 + udp_size > end) return sketch_fragment_stat::truncated;
  for (u32 i = 0; i < 8; ++i)
    key[i] = ip[12 + i];  // source and destination addresses
  for (u32 i = 0; i < 4; ++i)
    key[8 + i] = l4[i];  // source and destination ports
  key[12] = protocol;
  return sketch_fragment_stat::counted;
}

[[gnu::always_inline]] inline void count(sketch_fragment_stat stat) {
  const u32 slot = static_cast<u32>(stat);
  // This CPU's copy: XDP runs to completion on one CPU, so a plain increment suffices.
  auto* const value = static_cast<__u64*>(innet::ebpf::bpf::map_lookup_elem(&sketch_stats, &slot));
  if (value != nullptr) *value += 1;
}

}  // namespace

extern "C" SEC("xdp") int sketch_fragment_xdp(xdp_md* md) {
  const auto* const data = reinterpret_cast<const u8*>(static_cast<unsigned long>(md->data));
  const auto* const end = reinterpret_cast<const u8*>(static_cast<unsigned long>(md->data_end));
  u8 key[innet::ebpf::sketch_fragment_key_size];
  sketch_fragment_stat stat = parse(data, end, key);
  if (stat == sketch_fragment_stat::counted) {
    const u32 zero = 0;
    const auto* const config = static_cast<const sketch_fragment_config*>(
        innet::ebpf::bpf::map_lookup_elem(&sketch_config, &zero));
    if (config == nullptr) return XDP_PASS;  // cannot happen for arrays
    // Read once: the seed and the counters must be the same bank's even if user space
    // flips the bank meanwhile.
    const u32 bank = *static_cast<const volatile u32*>(&config->bank) & 1;  // READ_ONCE
    auto* const sketch = static_cast<sketch_fragment_counters*>(
        innet::ebpf::bpf::map_lookup_elem(&sketch_counters, &bank));
    if (sketch == nullptr) return XDP_PASS;  // cannot happen: bank < max_entries
    // Both seeds at constant offsets, selected by a mask: an index into `seeds` would be a
    // variable map-value offset, which the verifier refuses once the compiler spills `bank`.
    const u64 select = u64{0} - bank;
    const u64 seed = (config->seeds[0] & ~select) | (config->seeds[1] & select);
    const innet::hash_family h(innet::xxh3_128(key, sizeof key, seed));
    sketch->update_atomic(h, 1);
  }
  count(stat);
  return XDP_PASS;
}

INNET_BPF_LICENSE("Dual BSD/GPL")
