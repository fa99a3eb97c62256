// sketch_fragment: the layout shared by the XDP Count-Min fragment
// (programs/sketch_fragment.bpf.cpp) and the user space that configures and reads it
// (innet/ebpf/sketch_fragment_loader.hpp).
//
// The program parses every frame as Ethernet / IPv4 / TCP or UDP, forms the flow's
// 13-byte key exactly as innet::net::five_tuple::to_bytes() does, hashes it once with
// XXH3-128 under the fragment's seed, and adds 1 to one counter per row of a
// innet::sketch::fixed_count_min held in a BPF array map. The update is the sketch
// header's own (fixed_count_min::update_atomic, innet/sketch/fixed_sketch.hpp), compiled
// for BPF: there is no second copy of the sketch logic, so a C++ count_min<u32> with the
// same depth, width and seed, updated with the same five-tuples, holds the same counters.
//
// Maps (key u32):
//
//   name            type          entries  value                         written by
//   sketch_config   ARRAY         1        sketch_fragment_config        user space
//   sketch_counters ARRAY         2        sketch_fragment_counters      the program (atomic adds)
//   sketch_stats    PERCPU_ARRAY  6        u64 per sketch_fragment_stat  the program (per CPU)
//
//   sketch_fragment_config, host byte order:
//     offset 0   u64 seeds[2]  XXH3-128 seed of each bank's key hash; fragment_seed(base, node)
//     offset 16  u32 bank      the bank frames are counted in (0 or 1; the program masks it)
//     offset 20  u32 reserved  zero
//
//   sketch_fragment_counters: depth * width u32 counters, row-major (counter (r, c) at
//   index r * width + c), host byte order; 4 rows of 1024 = 16 KiB per bank.
//
// Two banks, so that an epoch ends without losing or tearing counts. The program counts
// into counters[bank] with seeds[bank]. User space ends an epoch by writing the other bank
// into `bank` (after writing that bank's seed, if it changes, in a separate update: each
// update changes one field, so a frame never pairs one bank with the other's seed), waits
// for an RCU grace period (every XDP run that read the old `bank` has then returned), and
// only then reads and zeroes the old bank, which nothing writes any more
// (sketch_fragment_loader::end_epoch). Copying a bank out of the map or zeroing it while
// frames are added to it would lose adds: the map update is a memcpy, not atomic.
//
// Why an array map with one big value per bank rather than a per-CPU map: the collector
// wants one sketch, and XDP runs on every receive queue's CPU at once, so each counter is a
// BPF_ATOMIC_ADD (lock-free, and on x86 one `lock xadd`). A per-CPU map would avoid the
// shared cache lines but multiply the memory by the CPU count and make every read a sum.
// The stats are the opposite case: six counters, one of which every frame increments, so a
// shared one would be a single cache line bounced between all CPUs; per CPU, user space
// sums them.
//
// Why a config map rather than a .rodata constant: kernel_object loads an object in one
// step, and the seed and bank change without a reload. The program reads it once per frame
// (one lookup). Until user space writes it the seeds are 0 and the bank is 0.
//
// Frames that do not carry a whole IPv4 TCP/UDP header are not counted in the sketch;
// each goes to exactly one stats slot (sketch_fragment_stat), so the slots sum to the
// frames seen. The program tests, in this order (the first that applies decides):
//
//   1. shorter than the Ethernet header (14 bytes)                 truncated
//   2. EtherType other than 0x0800 (IPv6, ARP, VLAN-tagged, ...)   not_ipv4
//   3. shorter than a 20-byte IPv4 header                          truncated
//   4. version != 4 or IHL < 5                                     bad_ipv4
//   5. shorter than the IPv4 header with its options (IHL * 4)     truncated
//   6. a non-first fragment (offset != 0): no transport header     fragment
//   7. an IP protocol other than TCP (6) and UDP (17)              not_tcp_udp
//   8. shorter than the transport header (TCP 20 bytes, UDP 8)     truncated
//   9. IPv4 total length shorter than IPv4 + transport headers     bad_ipv4
//      (the "ports" would be Ethernet padding)
//  10. otherwise                                                   counted
//
// The kernel refuses test runs and AF_PACKET sends of frames below 14 bytes, so case 1
// only guards the program.
//
// Freestanding (no C or C++ library headers): compiled natively by user space and for
// -target bpf, with -nostdinc (tests/runtimes/ebpf checks both).
#pragma once

#include "innet/core/detail/freestanding.hpp"
#include "innet/sketch/fixed_sketch.hpp"

namespace innet::ebpf {

// The fragment's dimensions. The width is a power of two so that the fragment folds to
// any smaller power-of-two width at the collector (count_min::fold).
inline constexpr u32 sketch_fragment_depth = 4;
inline constexpr u32 sketch_fragment_width = 1024;
static_assert((sketch_fragment_width & (sketch_fragment_width - 1)) == 0);

using sketch_fragment_counters =
    sketch::fixed_count_min<u32, sketch_fragment_depth, sketch_fragment_width>;

// Counter banks: one counted into, one read and zeroed by user space (see above).
inline constexpr u32 sketch_fragment_bank_count = 2;

struct alignas(8) sketch_fragment_config {
  u64 seeds[sketch_fragment_bank_count];
  u32 bank;
  u32 reserved;
};
static_assert(sizeof(sketch_fragment_config) == 24);

// Slots of the sketch_stats map.
enum class sketch_fragment_stat : u32 {
  counted = 0,
  truncated = 1,
  not_ipv4 = 2,
  bad_ipv4 = 3,
  fragment = 4,
  not_tcp_udp = 5,
};
inline constexpr u32 sketch_fragment_stat_count = 6;

// Names of the maps and the program in the object, for libbpf look-ups.
inline constexpr const char* sketch_fragment_program_name = "sketch_fragment_xdp";
inline constexpr const char* sketch_fragment_config_map = "sketch_config";
inline constexpr const char* sketch_fragment_counters_map = "sketch_counters";
inline constexpr const char* sketch_fragment_stats_map = "sketch_stats";

// Bytes of the flow key, as five_tuple::to_bytes(): src ip, dst ip, src port, dst port
// (all big-endian, i.e. as on the wire), protocol.
inline constexpr u32 sketch_fragment_key_size = 13;

}  // namespace innet::ebpf
