// Compiled with -target bpf -nostdinc after force-including one freestanding
// header, and exercising the freestanding API so the BPF backend must lower it.
#include "innet/core/hash_family.hpp"
#include "innet/core/result.hpp"
#include "innet/core/xxh3.hpp"

extern "C" innet::u64 innet_bpf_unit(const innet::u8* key, innet::u64 width) {
  const innet::hash_family family(innet::xxh3_128(key, 13, 42));
  const innet::result<innet::u64> r = family.index(3, width) + innet::xxh3_64(key, 13, 7);
  return r.ok() ? r.value() + static_cast<innet::u64>(family.sign(1)) : 0;
}
