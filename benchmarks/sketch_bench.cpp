// sketch_bench: single-core update rate of innet's sketches and of DPDK's lib/member sketch
// (RTE_MEMBER_TYPE_SKETCH), with each configuration's error on the same trace in the same row.
//
//   cmake --preset release && cmake --build --preset release --target sketch_bench
//   build/release/benchmarks/sketch_bench --benchmark_counters_tabular=true
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true   (one line)
//
// Workload. One seeded flow trace (innet/workload/flow_trace.hpp): 100,000 flows, 2^21 packets,
// Zipf s = 1.05. Every packet's key is its 13-byte five-tuple (net::five_tuple::to_bytes),
// materialised once, before any timing, into one packed array (26 MiB). Timed loops walk that
// array sequentially and wrap: 13 bytes per update is a stream the hardware prefetcher follows,
// so the keys cost bandwidth, not latency; `hash_only` measures that stream plus the XXH3-128 of
// each key, the ceiling for any innet sketch fed from it. Each benchmark iteration handles 64
// keys (64 scalar calls, or bursts of 32 or 64) so the framework's per-iteration cost is
// amortised; items/s counts keys. A short warm-up pass before timing faults in the counters, so
// a DRAM-sized sketch is not timed while the kernel zeroes its pages.
//
// Error. Before timing, a fresh sketch of the same configuration is fed the whole trace once and
// every flow is queried against its exact count: ARE = mean |est - true| / true, AAE = mean
// |est - true|, over all 100,000 flows (cached per configuration across repetitions).
// `mem` is the sketch's counter memory. For Count-Min (innet and DPDK) two more columns show row
// independence: over the flows whose error is nonzero in some row, `same_err` is the fraction
// whose error is identical in every row (the rows saw the same colliders) and `rows_eff` the
// mean number of distinct row errors (d for independent rows, 1 for rows that share collisions).
//
// DPDK. rte_member_create_sketch (22.11) keeps NUM_ROW_SCALAR = 5 rows of u64 counters, with
// num_col = (u32)(4.0 / error_rate / sample_rate); row r's column is
// rte_hash_crc(key, key_len, (u32)seed_r) % num_col, seeds from rte_rand(). With sample_rate = 1
// it is a plain Count-Min (min of the rows). Its rows are sized here to the memory of the innet
// Count-Min they sit next to (the nearest num_col; `mem` prints both); for the cache-resident
// size also at the narrowest width, not a power of two, whose ARE is at most innet's (`_eqerr`,
// found by bisection over error runs at start-up, about two seconds); and once more at the
// next power-of-two width (more memory than innet's): CRC32C is affine in its seed, so for a
// fixed key length row r's hash is crc(key) ^ c_r, and modulo 2^b every row is the same
// permutation of the same buckets, so the rows share all collisions. Two DPDK rows per size:
// `rte_member_add` is the public API, which also keeps its top-k heap current (a full query per
// add; top_k = 10), and `sketch_update` calls the bare counter update the library installs in
// the set-summary (rte_member_setsum::sketch_update, a public member), the like-for-like
// comparison with innet's update. The EAL starts through innet::dpdk::eal_init with its
// no-hugepage defaults (memory_mb raised to hold the DRAM-sized tables); the affinity the EAL
// gives the main thread is undone, so the benchmark runs wherever the scheduler puts it, like
// the innet rows. Without DPDK (INNET_SKETCH_BENCH_DPDK unset) the DPDK rows are compiled out.
//
// Pages. innet's counter allocator asks for transparent huge pages for sketches of 2 MiB and
// more (madvise), which cuts the TLB misses of the DRAM-sized rows. The EAL's --no-huge memory
// is a memfd, i.e. shmem, which gets huge pages only where /sys/kernel/mm/transparent_hugepage/
// shmem_enabled allows (and hugetlbfs pages only where they are reserved). Where DPDK runs on
// 4 KiB pages, SKETCH_BENCH_NO_THP=1 puts innet on them too (prctl PR_SET_THP_DISABLE).
#include <benchmark/benchmark.h>
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "innet/core/hash.hpp"
#include "innet/net/five_tuple.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/univmon.hpp"
#include "innet/workload/flow_trace.hpp"

#if INNET_SKETCH_BENCH_DPDK
#include <pthread.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_member.h>
#include <rte_random.h>
#include <sched.h>

#include "innet/dpdk/eal.hpp"
#endif

namespace {

namespace sk = innet::sketch;

constexpr std::size_t key_size = 13;
constexpr std::size_t flow_count = 100'000;
constexpr std::size_t packet_count = std::size_t{1} << 21;  // a power of two: wraps with a mask
constexpr double zipf_s = 1.05;
constexpr std::uint64_t trace_seed = 7;
constexpr std::uint64_t sketch_seed = 0x5EED;
constexpr std::size_t keys_per_iteration = 64;
constexpr std::size_t warm_up_keys = std::size_t{1} << 16;
static_assert(packet_count % keys_per_iteration == 0);

constexpr std::uint32_t depth = 4;
constexpr std::uint32_t cache_width = 4096;
constexpr std::uint32_t dram_width = std::uint32_t{1} << 22;

struct trace_keys {
  std::vector<std::byte> packets;  // packet_count keys of key_size bytes, in trace order
  std::vector<std::byte> flows;    // flow_count keys, distinct
  std::vector<std::uint32_t> sizes;

  std::span<const std::byte> flow(std::size_t f) const {
    return {flows.data() + f * key_size, key_size};
  }
};

const trace_keys& trace() {
  static const trace_keys keys = [] {
    auto generated = innet::workload::flow_trace::generate({.flow_count = flow_count,
                                                            .packet_count = packet_count,
                                                            .zipf_s = zipf_s,
                                                            .seed = trace_seed});
    if (!generated.ok()) {
      std::fprintf(stderr, "flow trace: %s\n", generated.status().ToString().c_str());
      std::abort();
    }
    trace_keys k;
    k.flows.resize(flow_count * key_size);
    for (std::size_t f = 0; f < flow_count; ++f) {
      const auto bytes = generated->flows[f].to_bytes();
      std::copy(bytes.begin(), bytes.end(), k.flows.begin() + f * key_size);
    }
    k.packets.resize(packet_count * key_size);
    for (std::size_t i = 0; i < packet_count; ++i) {
      const auto flow = k.flow(generated->packets[i]);
      std::copy(flow.begin(), flow.end(), k.packets.begin() + i * key_size);
    }
    k.sizes = std::move(generated->sizes);
    return k;
  }();
  return keys;
}

std::size_t advance(std::size_t position) {
  return (position + keys_per_iteration) & (packet_count - 1);
}

// --- error ------------------------------------------------------------------------------------

struct accuracy {
  double are = 0;
  double aae = 0;
  double same_error = std::numeric_limits<double>::quiet_NaN();
  double rows_effective = std::numeric_limits<double>::quiet_NaN();
  std::string error;  // nonempty: the error run failed, and the benchmark reports this
};

// Estimate(flow index) -> the sketch's estimate for that flow, after the whole trace.
template <class Estimate>
accuracy flow_errors(Estimate&& estimate) {
  const trace_keys& t = trace();
  accuracy a;
  for (std::size_t f = 0; f < flow_count; ++f) {
    const double truth = t.sizes[f];
    const double error = std::abs(static_cast<double>(estimate(f)) - truth);
    a.are += error / truth;
    a.aae += error;
  }
  a.are /= flow_count;
  a.aae /= flow_count;
  return a;
}

// RowCounter(flow index, row) -> that row's counter for the flow. Fills same_error and
// rows_effective over the flows with a nonzero error in some row.
template <class RowCounter>
void row_agreement(accuracy& a, std::uint32_t rows, RowCounter&& row_counter) {
  const trace_keys& t = trace();
  std::size_t considered = 0, same = 0, distinct_total = 0;
  std::array<std::int64_t, 8> errors{};
  if (rows > errors.size()) std::abort();  // both sketches compared here have 4 or 5 rows
  for (std::size_t f = 0; f < flow_count; ++f) {
    bool any = false;
    for (std::uint32_t r = 0; r < rows; ++r) {
      errors[r] = static_cast<std::int64_t>(row_counter(f, r)) - t.sizes[f];
      any = any || errors[r] != 0;
    }
    if (!any) continue;
    ++considered;
    std::sort(errors.begin(), errors.begin() + rows);
    const auto distinct = static_cast<std::size_t>(
        std::unique(errors.begin(), errors.begin() + rows) - errors.begin());
    same += distinct == 1;
    distinct_total += distinct;
  }
  a.same_error = considered ? static_cast<double>(same) / considered : 0;
  a.rows_effective = considered ? static_cast<double>(distinct_total) / considered : 0;
}

void report(benchmark::State& state, const accuracy& a, double memory_bytes, double rows,
            double width) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(keys_per_iteration));
  state.counters["ARE"] = a.are;
  state.counters["AAE"] = a.aae;
  state.counters["mem"] =
      benchmark::Counter(memory_bytes, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["rows"] = rows;
  state.counters["width"] = width;
  if (!std::isnan(a.same_error)) {
    state.counters["same_err"] = a.same_error;
    state.counters["rows_eff"] = a.rows_effective;
  }
}

// Error runs are deterministic: compute each configuration's once per process.
template <class Compute>
const accuracy& cached(const std::string& key, Compute&& compute) {
  static std::map<std::string, accuracy> cache;
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, compute()).first;
  return it->second;
}

// The packet keys as the timed loops read them: through a pointer fetched once, so the loops
// do not pay for trace()'s initialisation guard (an out-of-line call, where GCC does not inline
// it) on every key.
struct key_stream {
  const std::byte* base = trace().packets.data();

  const std::byte* data(std::size_t i) const { return base + i * key_size; }
  std::span<const std::byte> operator[](std::size_t i) const { return {data(i), key_size}; }
};

// --- timed loops shared by the innet sketches --------------------------------------------------

// One scalar update. UnivMon's reports keys it cannot hold (longer than its limit); a 13-byte
// key never is one, so a failure here is a bug worth stopping for.
template <class Sketch>
void add(Sketch& sketch, std::span<const std::byte> key) {
  if constexpr (std::is_void_v<decltype(sketch.update(key))>) {
    sketch.update(key);
  } else if (sketch.update(key) != innet::errc::ok) {
    std::fprintf(stderr, "update rejected a %zu-byte key\n", key.size());
    std::abort();
  }
}

template <class Sketch>
void warm_up(Sketch& sketch) {
  const key_stream keys;
  for (std::size_t i = 0; i < warm_up_keys; ++i)
    add(sketch, keys[i]);
}

template <class Sketch>
void feed_trace(Sketch& sketch) {
  const key_stream keys;
  for (std::size_t i = 0; i < packet_count; ++i)
    add(sketch, keys[i]);
}

template <class Sketch>
void scalar_loop(benchmark::State& state, Sketch& sketch) {
  warm_up(sketch);
  const key_stream keys;
  std::size_t position = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < keys_per_iteration; ++i)
      add(sketch, keys[position + i]);
    position = advance(position);
  }
  benchmark::DoNotOptimize(sketch.counters().data());
  benchmark::ClobberMemory();
}

// The span array is rebuilt per burst, as a packet path would point into its packets.
template <std::size_t Burst, class Sketch>
void burst_loop(benchmark::State& state, Sketch& sketch) {
  static_assert(keys_per_iteration % Burst == 0);
  warm_up(sketch);
  const key_stream keys;
  std::array<std::span<const std::byte>, Burst> burst;
  std::size_t position = 0;
  for (auto _ : state) {
    for (std::size_t b = 0; b < keys_per_iteration; b += Burst) {
      for (std::size_t i = 0; i < Burst; ++i)
        burst[i] = keys[position + b + i];
      sketch.update_burst(std::span<const std::span<const std::byte>>(burst));
    }
    position = advance(position);
  }
  benchmark::DoNotOptimize(sketch.counters().data());
  benchmark::ClobberMemory();
}

// The cost of reading each key and computing its hash family, with no counters touched.
void bm_hash_only(benchmark::State& state) {
  const key_stream keys;
  std::size_t position = 0;
  std::uint64_t sink = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < keys_per_iteration; ++i) {
      const auto h = innet::make_hash_family(keys[position + i], sketch_seed);
      sink += h.index(0, cache_width) ^ h.index(depth - 1, cache_width);
    }
    position = advance(position);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(keys_per_iteration));
}

// --- innet Count-Min / Count Sketch ------------------------------------------------------------

enum class mode { scalar, burst32, burst64 };

template <class Sketch>
Sketch make_or_die(absl::StatusOr<Sketch> sketch) {
  if (!sketch.ok()) {
    std::fprintf(stderr, "sketch: %s\n", sketch.status().ToString().c_str());
    std::abort();
  }
  return *std::move(sketch);
}

sk::count_min<std::uint32_t> new_count_min(std::uint32_t width) {
  return make_or_die(sk::count_min<std::uint32_t>::create(depth, width, sketch_seed));
}

template <class Sketch>
void run_mode(benchmark::State& state, Sketch& sketch, mode m) {
  switch (m) {
    case mode::scalar:
      scalar_loop(state, sketch);
      break;
    case mode::burst32:
      burst_loop<32>(state, sketch);
      break;
    case mode::burst64:
      burst_loop<64>(state, sketch);
      break;
  }
}

const accuracy& innet_count_min_accuracy(std::uint32_t width) {
  return cached(absl::StrCat("innet_cm/", width), [width] {
    auto sketch = new_count_min(width);
    feed_trace(sketch);
    accuracy result = flow_errors([&](std::size_t f) { return sketch.estimate(trace().flow(f)); });
    row_agreement(result, depth, [&](std::size_t f, std::uint32_t r) {
      const auto h = innet::make_hash_family(trace().flow(f), sketch.seed());
      return sketch.row(r)[h.index(r, sketch.width())];
    });
    return result;
  });
}

void bm_innet_count_min(benchmark::State& state, std::uint32_t width, mode m) {
  const accuracy& a = innet_count_min_accuracy(width);
  auto sketch = new_count_min(width);
  run_mode(state, sketch, m);
  report(state, a, static_cast<double>(sketch.memory_bytes()), depth, width);
}

sk::count_sketch<std::int32_t> new_count_sketch(std::uint32_t width) {
  return make_or_die(sk::count_sketch<std::int32_t>::create(depth, width, sketch_seed));
}

void bm_innet_count_sketch(benchmark::State& state, std::uint32_t width, mode m) {
  const accuracy& a = cached(absl::StrCat("innet_cs/", width), [width] {
    auto sketch = new_count_sketch(width);
    feed_trace(sketch);
    return flow_errors([&](std::size_t f) { return sketch.estimate(trace().flow(f)); });
  });
  auto sketch = new_count_sketch(width);
  run_mode(state, sketch, m);
  report(state, a, static_cast<double>(sketch.memory_bytes()), depth, width);
}

using univmon = sk::univmon<std::int32_t>;

univmon new_univmon() {
  univmon::config config;
  config.seed = sketch_seed;
  return make_or_die(univmon::create(config));
}

void bm_innet_univmon(benchmark::State& state) {
  const accuracy& a = cached("innet_univmon", [] {
    auto sketch = new_univmon();
    feed_trace(sketch);
    return flow_errors([&](std::size_t f) { return sketch.estimate(trace().flow(f)); });
  });
  auto sketch = new_univmon();
  warm_up(sketch);
  const key_stream keys;
  std::size_t position = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < keys_per_iteration; ++i)
      add(sketch, keys[position + i]);
    position = advance(position);
  }
  benchmark::DoNotOptimize(&sketch);
  benchmark::ClobberMemory();
  const univmon::config config{};
  report(state, a, static_cast<double>(sketch.memory_bytes()), config.depth, config.width);
}

// --- DPDK lib/member ---------------------------------------------------------------------------

#if INNET_SKETCH_BENCH_DPDK
// NUM_ROW_SCALAR in lib/member/rte_member_sketch.h (not installed); checked after creation.
constexpr std::uint32_t dpdk_rows = 5;
constexpr std::uint32_t dpdk_top_k = 10;

// rte_member_create_sketch's packet-mode sizing, as the library computes it.
std::uint32_t dpdk_columns(float error_rate) {
  return static_cast<std::uint32_t>(4.0 / error_rate / 1.0f);
}

// The error_rate whose sizing gives exactly `columns` per row.
float dpdk_error_rate_for(std::uint32_t columns) {
  float e = static_cast<float>(4.0 / (columns + 0.5));
  for (int step = 0; step < 1000 && dpdk_columns(e) != columns; ++step)
    e = std::nextafter(e, dpdk_columns(e) > columns ? 1.0f : 0.0f);
  return e;
}

class dpdk_sketch {
 public:
  explicit dpdk_sketch(std::uint32_t columns) {
    static unsigned serial = 0;
    ++serial;
    const std::string name = absl::StrCat("bench_sk", serial);
    rte_member_parameters params{};
    params.name = name.c_str();
    params.type = RTE_MEMBER_TYPE_SKETCH;
    params.key_len = key_size;
    params.prim_hash_seed = 2 * serial;  // distinct per instance: they name the heap's table
    params.sec_hash_seed = 2 * serial + 1;
    params.error_rate = dpdk_error_rate_for(columns);
    params.sample_rate = 1.0f;
    params.top_k = dpdk_top_k;
    params.socket_id = static_cast<int>(rte_socket_id());
    rte_srand(sketch_seed);  // the row seeds come from rte_rand()
    ss_ = rte_member_create(&params);
    if (ss_ == nullptr)
      error_ = absl::StrCat("rte_member_create: ", rte_strerror(rte_errno));
    else if (ss_->num_col != columns || ss_->num_row != dpdk_rows)
      error_ = absl::StrCat("rte_member sized ", ss_->num_row, "x", ss_->num_col, ", expected ",
                            dpdk_rows, "x", columns);
  }
  ~dpdk_sketch() { rte_member_free(ss_); }
  dpdk_sketch(const dpdk_sketch&) = delete;
  dpdk_sketch& operator=(const dpdk_sketch&) = delete;

  const std::string& error() const { return error_; }
  rte_member_setsum* get() const { return ss_; }
  double memory_bytes() const { return 8.0 * ss_->num_row * ss_->num_col; }

  // The counter of `row` for `key`, found the way sketch_update_scalar finds it.
  std::uint64_t row_counter(std::span<const std::byte> key, std::uint32_t row) const {
    const std::uint32_t column =
        rte_hash_crc(key.data(), ss_->key_len, static_cast<std::uint32_t>(ss_->hash_seeds[row])) %
        ss_->num_col;
    return static_cast<const std::uint64_t*>(ss_->table)[std::size_t{row} * ss_->num_col + column];
  }

 private:
  rte_member_setsum* ss_ = nullptr;
  std::string error_;
};

enum class dpdk_call { member_add, sketch_update };

const accuracy& dpdk_accuracy(std::uint32_t columns) {
  return cached(absl::StrCat("dpdk/", columns), [&] {
    dpdk_sketch sketch(columns);
    if (!sketch.error().empty()) return accuracy{.error = sketch.error()};
    const key_stream keys;
    for (std::size_t i = 0; i < packet_count; ++i)
      rte_member_add(sketch.get(), keys.data(i), 0);
    std::size_t mismatched = 0;
    accuracy result = flow_errors([&](std::size_t f) {
      std::uint64_t count = 0;
      rte_member_query_count(sketch.get(), trace().flow(f).data(), &count);
      // Our reading of the table must give the library's answer, or row_agreement is wrong.
      std::uint64_t minimum = std::numeric_limits<std::uint64_t>::max();
      for (std::uint32_t r = 0; r < dpdk_rows; ++r)
        minimum = std::min(minimum, sketch.row_counter(trace().flow(f), r));
      mismatched += minimum != count;
      return count;
    });
    if (mismatched != 0)
      result.error = absl::StrCat(mismatched, " flows: row counters disagree with query_count");
    row_agreement(result, dpdk_rows, [&](std::size_t f, std::uint32_t r) {
      return sketch.row_counter(trace().flow(f), r);
    });
    return result;
  });
}

// The narrowest DPDK row width (not a power of two, whose rows would collide together) whose
// ARE is at most `target`, by bisection over [low, high); high if none is. ARE falls with the
// width up to the noise of which flows share buckets, so the answer is "about" the width
// needed, which is what the comparison needs.
std::uint32_t dpdk_columns_for_are(double target, std::uint32_t low, std::uint32_t high) {
  const auto avoid_pow2 = [](std::uint32_t c) { return std::has_single_bit(c) ? c + 1 : c; };
  while (low + 1 < high) {
    const std::uint32_t mid = avoid_pow2(low + (high - low) / 2);
    const accuracy& a = dpdk_accuracy(mid);
    if (!a.error.empty()) return high;
    (a.are <= target ? high : low) = mid;
  }
  return avoid_pow2(high);
}

void bm_dpdk(benchmark::State& state, std::uint32_t columns, dpdk_call call) {
  const accuracy& a = dpdk_accuracy(columns);
  if (!a.error.empty()) {
    state.SkipWithError(a.error.c_str());
    return;
  }
  dpdk_sketch sketch(columns);
  if (!sketch.error().empty()) {
    state.SkipWithError(sketch.error().c_str());
    return;
  }
  rte_member_setsum* ss = sketch.get();
  const key_stream keys;
  for (std::size_t i = 0; i < warm_up_keys; ++i)
    rte_member_add(ss, keys.data(i), 0);
  std::size_t position = 0;
  if (call == dpdk_call::member_add) {
    for (auto _ : state) {
      for (std::size_t i = 0; i < keys_per_iteration; ++i)
        rte_member_add(ss, keys.data(position + i), 0);
      position = advance(position);
    }
  } else {
    const sketch_update_fn_t update = ss->sketch_update;
    for (auto _ : state) {
      for (std::size_t i = 0; i < keys_per_iteration; ++i)
        update(ss, keys.data(position + i), 1);
      position = advance(position);
    }
  }
  benchmark::ClobberMemory();
  report(state, a, sketch.memory_bytes(), dpdk_rows, columns);
}

// Starts the EAL with innet's defaults and gives the main thread back its CPU set.
absl::Status start_eal() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const bool saved = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0;
  innet::dpdk::eal_params params;
  params.program_name = "sketch_bench";
  params.memory_mb = 512;  // two DRAM-sized tables (64 and 80 MiB) plus the heaps
  if (absl::Status s = innet::dpdk::eal_init(params); !s.ok()) return s;
  if (saved) ::sched_setaffinity(0, sizeof cpus, &cpus);
  return absl::OkStatus();
}
#endif

// --- registration ------------------------------------------------------------------------------

const char* mode_name(mode m) {
  switch (m) {
    case mode::scalar:
      return "scalar";
    case mode::burst32:
      return "burst32";
    case mode::burst64:
      return "burst64";
  }
  return "?";
}

void register_all([[maybe_unused]] const std::string& dpdk_error) {
  benchmark::RegisterBenchmark("hash_only/xxh3_128_family", bm_hash_only);
  for (const std::uint32_t width : {cache_width, dram_width}) {
    for (const mode m : {mode::scalar, mode::burst32, mode::burst64}) {
      benchmark::RegisterBenchmark(
          absl::StrCat("innet_cm/d4_w", width, "/", mode_name(m)).c_str(),
          [width, m](benchmark::State& s) { bm_innet_count_min(s, width, m); });
    }
#if INNET_SKETCH_BENCH_DPDK
    // Equal memory to the innet Count-Min of this width, then the next power-of-two width, and
    // for the cache-resident size also the width at which DPDK's error matches innet's.
    const double innet_bytes = 4.0 * depth * width;
    const auto equal = static_cast<std::uint32_t>(std::lround(innet_bytes / (8.0 * dpdk_rows)));
    const std::uint32_t pow2 = std::bit_ceil(equal);
    std::vector<std::pair<std::uint32_t, std::string>> sizes{{equal, "_eqmem"}, {pow2, "_pow2"}};
    if (width == cache_width && dpdk_error.empty()) {
      const double target = innet_count_min_accuracy(width).are;
      sizes.emplace_back(dpdk_columns_for_are(target, equal, 32 * equal), "_eqerr");
    }
    for (const auto& [columns, label] : sizes) {
      for (const dpdk_call call : {dpdk_call::member_add, dpdk_call::sketch_update}) {
        benchmark::RegisterBenchmark(
            absl::StrCat("dpdk_cm/d5_w", columns, label, "/",
                         call == dpdk_call::member_add ? "rte_member_add" : "sketch_update")
                .c_str(),
            [columns = columns, call, dpdk_error](benchmark::State& s) {
              if (!dpdk_error.empty()) {
                s.SkipWithError(dpdk_error.c_str());
                return;
              }
              bm_dpdk(s, columns, call);
            });
      }
    }
#endif
    for (const mode m : {mode::scalar, mode::burst64}) {
      benchmark::RegisterBenchmark(
          absl::StrCat("innet_cs/d4_w", width, "/", mode_name(m)).c_str(),
          [width, m](benchmark::State& s) { bm_innet_count_sketch(s, width, m); });
    }
  }
  benchmark::RegisterBenchmark("innet_univmon/default/scalar", bm_innet_univmon);
}

}  // namespace

int main(int argc, char** argv) {
  // See "Pages" in the file comment.
  if (const char* v = std::getenv("SKETCH_BENCH_NO_THP"); v != nullptr && *v == '1')
    ::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string dpdk_error;
#if INNET_SKETCH_BENCH_DPDK
  if (absl::Status s = start_eal(); !s.ok()) dpdk_error = s.ToString();
#endif
  register_all(dpdk_error);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#if INNET_SKETCH_BENCH_DPDK
  if (dpdk_error.empty()) (void)innet::dpdk::eal_cleanup();
#endif
  return 0;
}
