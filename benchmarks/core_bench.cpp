// Hashing: innet's freestanding XXH3 (what BPF and CUDA run), libxxhash's XXH3
// (what host code runs), and absl::Hash, on the key sizes the library hashes most:
// 8 (a flow id), 16 (a 5-tuple padded, a KV key) and 64 bytes (a long KV key).
//
//   cmake --preset release && cmake --build --preset release --target core_bench
//   build/release/benchmarks/core_bench
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/hash/hash.h"
#include "innet/core/hash.hpp"
#include "innet/core/random.hpp"

namespace {
// Enough distinct keys that the loop cannot be folded, few enough to stay in L1.
constexpr std::size_t key_count = 256;

std::vector<std::byte> make_keys(std::size_t length) {
  innet::xoshiro256ss rng(length);
  std::vector<std::byte> keys(key_count * length);
  for (auto& b : keys)
    b = static_cast<std::byte>(rng());
  return keys;
}

template <class Hash>
void run(benchmark::State& state, Hash hash) {
  const auto length = static_cast<std::size_t>(state.range(0));
  const auto keys = make_keys(length);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hash(keys.data() + i * length, length));
    i = (i + 1) % key_count;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(length));
}

void bm_innet_xxh3_64(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) {
    return innet::xxh3_64(reinterpret_cast<const innet::u8*>(p), n, 0);
  });
}
void bm_libxxhash_xxh3_64(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) { return XXH3_64bits(p, n); });
}
void bm_absl_hash(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) {
    return absl::Hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(p), n));
  });
}
void bm_innet_xxh3_128(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) {
    return innet::xxh3_128(reinterpret_cast<const innet::u8*>(p), n, 0).low;
  });
}
void bm_libxxhash_xxh3_128(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) { return XXH3_128bits(p, n).low64; });
}

// Four sketch rows: one 128-bit hash split by hash_family, versus four seeded hashes.
void bm_rows_hash_family(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) {
    const auto family = innet::make_hash_family({p, n});
    return family.index(0, 4096) ^ family.index(1, 4096) ^ family.index(2, 4096) ^
           family.index(3, 4096);
  });
}
void bm_rows_four_hashes(benchmark::State& state) {
  run(state, [](const std::byte* p, std::size_t n) {
    std::uint64_t x = 0;
    for (std::uint64_t seed = 0; seed < 4; ++seed)
      x ^= XXH3_64bits_withSeed(p, n, seed) % 4096;
    return x;
  });
}
}  // namespace

BENCHMARK(bm_innet_xxh3_64)->Arg(8)->Arg(16)->Arg(64);
BENCHMARK(bm_libxxhash_xxh3_64)->Arg(8)->Arg(16)->Arg(64);
BENCHMARK(bm_absl_hash)->Arg(8)->Arg(16)->Arg(64);
BENCHMARK(bm_innet_xxh3_128)->Arg(8)->Arg(16)->Arg(64);
BENCHMARK(bm_libxxhash_xxh3_128)->Arg(8)->Arg(16)->Arg(64);
BENCHMARK(bm_rows_hash_family)->Arg(16);
BENCHMARK(bm_rows_four_hashes)->Arg(16);

BENCHMARK_MAIN();
