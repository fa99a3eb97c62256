// device_memory_region against the memory-region contract, against the local reference
// model on random mixes of operations, and against kernels using the same words.
// Needs a GPU: gpu_test_main.cpp skips the binary (exit 77) without one.
#include "innet/cuda/device_memory_region.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conformance/memory_region_conformance.hpp"
#include "innet/cuda/pinned_buffer.hpp"
#include "innet/host/local_memory_region.hpp"
#include "runtimes/cuda/test_support.hpp"

namespace {

using innet::errc;
using innet::memory_completion;
using innet::memory_op;
using innet::memory_opcode;
using innet::cuda::device_memory_region;
using innet::cuda::pinned_buffer;
using innet::cuda::testing::test_stream;
using innet::cuda::testing::value_or_stop;

device_memory_region make_region(std::uint64_t size) {
  return value_or_stop(device_memory_region::create(0, size));
}

unsigned long long* device_word(const device_memory_region& region, std::uint64_t offset) {
  return reinterpret_cast<unsigned long long*>(region.device_data() + offset);
}

__global__ void add_ones(unsigned long long* word, unsigned per_thread) {
  for (unsigned i = 0; i < per_thread; ++i)
    atomicAdd(word, 1ULL);
}

__global__ void increment_by_compare_swap(unsigned long long* word, unsigned per_thread) {
  for (unsigned i = 0; i < per_thread; ++i) {
    unsigned long long seen = atomicAdd(word, 0ULL);
    for (;;) {
      const unsigned long long old = atomicCAS(word, seen, seen + 1);
      if (old == seen) break;
      seen = old;
    }
  }
}

__global__ void triple_plus_index(unsigned long long* words, unsigned n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) words[i] = words[i] * 3 + i;
}

// Random operations over a region of `size` bytes: mostly valid, some past the end, some
// misaligned atomics, with atomics concentrated on a few words so that their values matter.
class op_generator {
 public:
  op_generator(std::uint64_t seed, std::uint64_t size) : rng_(seed), size_(size) {}

  memory_opcode opcode() { return static_cast<memory_opcode>(pick(0, 3)); }
  std::uint64_t length() { return pick(0, 300); }
  std::uint64_t byte_offset(std::uint64_t length) {
    switch (pick(0, 9)) {
      case 0:
        return size_ - length + pick(1, 64);  // past the end
      case 1:
        return ~std::uint64_t{0} - pick(0, 16);  // wraps if added to the length
      default:
        return pick(0, size_ - length);
    }
  }
  std::uint64_t atomic_offset() {
    switch (pick(0, 9)) {
      case 0:
        return 8 * pick(0, 15) + pick(1, 7);  // misaligned
      case 1:
        return size_ + 8 * pick(0, 4);  // past the end
      default:
        return 8 * pick(0, 15);
    }
  }
  std::uint64_t value() { return rng_(); }
  bool coin() { return pick(0, 1) == 1; }
  std::uint64_t pick(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }

 private:
  std::mt19937_64 rng_;
  std::uint64_t size_;
};

std::vector<std::byte> random_bytes(op_generator& gen, std::size_t n) {
  std::vector<std::byte> bytes(n);
  for (std::byte& b : bytes)
    b = static_cast<std::byte>(gen.pick(0, 255));
  return bytes;
}

// The region's whole contents, read back through the region.
std::vector<std::byte> contents(const device_memory_region& region) {
  std::vector<std::byte> bytes(region.size());
  REQUIRE(region.read(0, bytes) == errc::ok);
  return bytes;
}

}  // namespace

TEST_CASE("device_memory_region passes the memory-region conformance suite") {
  device_memory_region region = make_region(4096);
  innet::conformance::check_memory_region(region, "cuda::device_memory_region");
}

TEST_CASE("device_memory_region passes the conformance suite at 1 MiB + 8 bytes") {
  device_memory_region region = make_region((1 << 20) + 8);
  innet::conformance::check_memory_region(region, "cuda::device_memory_region (1 MiB + 8)");
}

TEST_CASE("synchronous operations agree with the local model on a random mix") {
  constexpr std::uint64_t size = 8192;
  std::vector<std::uint64_t> words(size / 8, 0);
  innet::host::local_memory_region local(words);
  device_memory_region region = make_region(size);
  op_generator gen(0x5EED'CAFE, size);
  for (int i = 0; i < 3000; ++i) {
    const memory_opcode opcode = gen.opcode();
    INFO("operation " << i << ", opcode " << static_cast<int>(opcode));
    switch (opcode) {
      case memory_opcode::read: {
        const std::uint64_t length = gen.length();
        const std::uint64_t offset = gen.byte_offset(length);
        std::vector<std::byte> expected(length), got(length);
        REQUIRE(region.read(offset, got) == local.read(offset, expected));
        REQUIRE(got == expected);
        break;
      }
      case memory_opcode::write: {
        const std::vector<std::byte> data = random_bytes(gen, gen.length());
        const std::uint64_t offset = gen.byte_offset(data.size());
        REQUIRE(region.write(offset, data) == local.write(offset, data));
        break;
      }
      case memory_opcode::fetch_add: {
        const std::uint64_t offset = gen.atomic_offset();
        const std::uint64_t add = gen.value();
        const auto expected = local.fetch_add(offset, add);
        const auto got = region.fetch_add(offset, add);
        REQUIRE(got.error() == expected.error());
        REQUIRE(got.value_or(0) == expected.value_or(0));
        break;
      }
      case memory_opcode::compare_swap: {
        const std::uint64_t offset = gen.atomic_offset();
        // Half the time expect the current value, so that swaps happen.
        const std::uint64_t expected_value =
            gen.coin() ? local.fetch_add(offset, 0).value_or(0) : gen.value();
        const std::uint64_t desired = gen.value();
        const auto expected = local.compare_swap(offset, expected_value, desired);
        const auto got = region.compare_swap(offset, expected_value, desired);
        REQUIRE(got.error() == expected.error());
        REQUIRE(got.value_or(0) == expected.value_or(0));
        break;
      }
    }
  }
  const std::span<const std::byte> reference = std::as_bytes(std::span(words));
  CHECK(contents(region) == std::vector<std::byte>(reference.begin(), reference.end()));
}

TEST_CASE("posted operations agree with the local model, completion by completion") {
  constexpr std::uint64_t size = 8192;
  constexpr std::size_t operations = 2000;
  std::vector<std::uint64_t> words(size / 8, 0);
  innet::host::local_memory_region local(words);
  device_memory_region region = make_region(size);
  op_generator gen(0xB47C'4ED, size);

  // Every operation gets its own slice of a buffer, in three copies: one for the local
  // model, and for the device a pinned one (even operations) and a pageable one (odd), so
  // both kinds of host memory are exercised.
  std::vector<memory_op> local_ops(operations), device_ops(operations);
  std::vector<std::size_t> cursor(operations + 1, 0);
  std::vector<std::uint64_t> lengths(operations);
  for (std::size_t i = 0; i < operations; ++i) {
    local_ops[i] = {.id = 1000 + i, .opcode = gen.opcode()};
    memory_op& op = local_ops[i];
    if (op.opcode == memory_opcode::read || op.opcode == memory_opcode::write) {
      lengths[i] = gen.length();
      op.offset = gen.byte_offset(lengths[i]);
    } else {
      op.offset = gen.atomic_offset();
      op.operand = gen.coin() ? gen.pick(0, 3) : gen.value();  // small: CAS hits sometimes
      op.swap = gen.value();
    }
    cursor[i + 1] = cursor[i] + lengths[i];
  }
  const std::vector<std::byte> pattern = random_bytes(gen, cursor.back());
  std::vector<std::byte> local_arena = pattern, pageable_arena = pattern;
  pinned_buffer pinned_arena = value_or_stop(pinned_buffer::allocate(pattern.size() + 1));
  std::memcpy(pinned_arena.data(), pattern.data(), pattern.size());
  for (std::size_t i = 0; i < operations; ++i) {
    device_ops[i] = local_ops[i];
    local_ops[i].local = std::span(local_arena).subspan(cursor[i], lengths[i]);
    std::byte* device_side = (i % 2 == 0 ? pinned_arena.data() : pageable_arena.data());
    device_ops[i].local = std::span(device_side + cursor[i], lengths[i]);
  }

  // The reference: post and reap in rounds the local queue accepts.
  std::vector<memory_completion> expected;
  for (std::size_t posted = 0; posted < operations;) {
    posted += local.post(std::span(local_ops).subspan(posted));
    std::vector<memory_completion> out(operations);
    out.resize(local.poll(out));
    expected.insert(expected.end(), out.begin(), out.end());
  }

  // The device: random batch and reap sizes. When nothing moves, block on the region's
  // stream (a real event) rather than spin, so every round makes progress.
  std::vector<memory_completion> got;
  std::size_t posted = 0;
  for (std::size_t round = 0; got.size() < operations && round < 4 * operations; ++round) {
    const std::size_t batch = std::min<std::size_t>(gen.pick(1, 400), operations - posted);
    const std::size_t accepted = region.post(std::span(device_ops).subspan(posted, batch));
    posted += accepted;
    std::vector<memory_completion> out(gen.pick(0, 64));
    out.resize(region.poll(out));
    got.insert(got.end(), out.begin(), out.end());
    if (accepted == 0 && out.empty())
      REQUIRE(cudaStreamSynchronize(region.stream()) == cudaSuccess);
  }
  REQUIRE(got.size() == operations);
  for (std::size_t i = 0; i < operations; ++i) {
    INFO("completion " << i << ", opcode " << static_cast<int>(local_ops[i].opcode));
    REQUIRE(got[i].id == expected[i].id);
    REQUIRE(got[i].status == expected[i].status);
    REQUIRE(got[i].old_value == expected[i].old_value);
    if (local_ops[i].opcode == memory_opcode::read) {
      const std::span<const std::byte> read_back = device_ops[i].local;
      REQUIRE(std::equal(read_back.begin(), read_back.end(), local_ops[i].local.begin()));
    }
  }
  const std::span<const std::byte> reference = std::as_bytes(std::span(words));
  CHECK(contents(region) == std::vector<std::byte>(reference.begin(), reference.end()));
}

TEST_CASE("kernels' atomicAdd and the host's fetch_add on one word lose no update") {
  device_memory_region region = make_region(4096);
  constexpr std::uint64_t offset = 512;
  constexpr unsigned blocks = 128, threads = 256, per_thread = 512;
  constexpr std::uint64_t device_adds = std::uint64_t{blocks} * threads * per_thread;
  // The host adds 2^32 at a time, so each old value it gets back splits into how many host
  // adds (high half) and device adds (low half) came before it.
  constexpr std::uint64_t host_unit = std::uint64_t{1} << 32;
  constexpr std::uint64_t host_adds = 1000;
  static_assert(device_adds < host_unit);

  test_stream side;
  add_ones<<<blocks, threads, 0, side.get()>>>(device_word(region, offset), per_thread);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::vector<std::uint64_t> seen;
  for (std::uint64_t i = 0; i < host_adds; ++i) {
    const auto old = region.fetch_add(offset, host_unit);
    REQUIRE(old.ok());
    seen.push_back(*old);
  }
  REQUIRE(cudaStreamSynchronize(side.get()) == cudaSuccess);
  CHECK(*region.fetch_add(offset, 0) == host_adds * host_unit + device_adds);

  std::uint64_t previous_device_part = 0, during_kernel = 0;
  for (std::uint64_t i = 0; i < host_adds; ++i) {
    const std::uint64_t device_part = seen[i] & (host_unit - 1);
    REQUIRE(seen[i] / host_unit == i);
    REQUIRE(device_part >= previous_device_part);
    REQUIRE(device_part <= device_adds);
    if (device_part > 0 && device_part < device_adds) ++during_kernel;
    previous_device_part = device_part;
  }
  MESSAGE(during_kernel << " of " << host_adds
                        << " host fetch_adds landed while the kernel was adding");
}

TEST_CASE("kernels' atomicCAS loops and the host's compare_swap loop lose no increment") {
  device_memory_region region = make_region(4096);
  constexpr std::uint64_t offset = 1024;
  // Every failed atomicCAS costs a trip to L2, and contention makes most of them fail, so
  // the kernel stays small: about a thousand threads, eight increments each.
  constexpr unsigned blocks = 16, threads = 64, per_thread = 8;
  constexpr std::uint64_t device_increments = std::uint64_t{blocks} * threads * per_thread;
  constexpr std::uint64_t host_increments = 200;

  test_stream side;
  increment_by_compare_swap<<<blocks, threads, 0, side.get()>>>(device_word(region, offset),
                                                                per_thread);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  std::uint64_t seen = 0, attempts = 0;
  for (std::uint64_t done = 0; done < host_increments; ++attempts) {
    REQUIRE(attempts < 1'000'000);
    const auto old = region.compare_swap(offset, seen, seen + 1);
    REQUIRE(old.ok());
    if (*old == seen) ++done;
    seen = *old == seen ? seen + 1 : *old;
  }
  REQUIRE(cudaStreamSynchronize(side.get()) == cudaSuccess);
  CHECK(*region.fetch_add(offset, 0) == device_increments + host_increments);
  MESSAGE((attempts - host_increments) << " host compare_swaps lost a race to the kernel");
}

TEST_CASE("kernels see the bytes the region wrote, and the region reads what kernels stored") {
  constexpr unsigned n = 10'000;
  device_memory_region region = make_region(n * 8);
  std::vector<std::uint64_t> words(n);
  for (unsigned i = 0; i < n; ++i)
    words[i] = 0x9E37'79B9'7F4A'7C15ULL * (i + 1);
  REQUIRE(region.write(0, std::as_bytes(std::span(words))) == errc::ok);

  // Once on the region's own stream, once on another stream after the region returned.
  triple_plus_index<<<(n + 255) / 256, 256, 0, region.stream()>>>(device_word(region, 0), n);
  REQUIRE(cudaGetLastError() == cudaSuccess);
  {
    test_stream side;
    REQUIRE(cudaStreamSynchronize(region.stream()) == cudaSuccess);
    triple_plus_index<<<(n + 255) / 256, 256, 0, side.get()>>>(device_word(region, 0), n);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    REQUIRE(cudaStreamSynchronize(side.get()) == cudaSuccess);
  }
  std::vector<std::uint64_t> back(n);
  REQUIRE(region.read(0, std::as_writable_bytes(std::span(back))) == errc::ok);
  for (unsigned i = 0; i < n; ++i) {
    const std::uint64_t once = words[i] * 3 + i;
    REQUIRE(back[i] == once * 3 + i);
  }
}

TEST_CASE("create refuses bad arguments with statuses that say what is wrong") {
  int count = 0;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  const auto missing = device_memory_region::create(count, 64);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() ==
        absl::StrCat("device_memory_region::create: device ", count, " does not exist; ", count,
                     " CUDA device(s) are visible, ordinals 0 to ", count - 1));
  CHECK(device_memory_region::create(-1, 64).status().code() == absl::StatusCode::kInvalidArgument);

  const std::uint64_t huge = std::uint64_t{1} << 60;
  const auto too_big = device_memory_region::create(0, huge);
  REQUIRE_FALSE(too_big.ok());
  MESSAGE("create(0, 2^60): " << too_big.status().ToString());
  CHECK(too_big.status().code() == absl::StatusCode::kResourceExhausted);
  const std::string head =
      absl::StrCat("cudaMalloc of ", huge, " bytes on device 0: cudaErrorMemoryAllocation (");
  CHECK(too_big.status().message().substr(0, head.size()) == head);
  // The failure is not sticky, and not left for the caller's next cudaGetLastError().
  CHECK(cudaGetLastError() == cudaSuccess);
  device_memory_region after = make_region(64);
  CHECK(*after.fetch_add(0, 1) == 0);
}

TEST_CASE("a new region is zero-filled even where freed memory held other bytes") {
  constexpr std::uint64_t size = 1 << 20;
  {
    device_memory_region dirty = make_region(size);
    REQUIRE(dirty.write(0, std::vector<std::byte>(size, std::byte{0xA5})) == errc::ok);
  }
  const device_memory_region fresh = make_region(size);
  CHECK(contents(fresh) == std::vector<std::byte>(size, std::byte{0}));
}

TEST_CASE("a moved region keeps its memory and the moved-from one owns nothing") {
  device_memory_region a = make_region(4096);
  REQUIRE(a.fetch_add(8, 41).ok());
  device_memory_region b(std::move(a));
  CHECK(*b.fetch_add(8, 1) == 41);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  CHECK(a.device_data() == nullptr);
  std::array<std::byte, 1> one{};
  CHECK(a.read(0, one) == errc::out_of_range);
  CHECK(a.fetch_add(0, 1).error() == errc::out_of_range);
  const std::array<memory_op, 1> op{{{.id = 7, .opcode = memory_opcode::fetch_add}}};
  REQUIRE(a.post(op) == 1);
  std::array<memory_completion, 1> out{};
  REQUIRE(a.poll(out) == 1);
  CHECK(out[0].id == 7);
  CHECK(out[0].status == errc::out_of_range);

  device_memory_region c = make_region(64);
  c = std::move(b);
  CHECK(c.size() == 4096);
  CHECK(*c.fetch_add(8, 0) == 42);
}

TEST_CASE("post stops at completion_capacity operations in flight and poll reaps in order") {
  device_memory_region region = make_region(64);
  constexpr std::size_t capacity = device_memory_region::completion_capacity;
  std::vector<memory_op> ops(capacity + 44);
  for (std::size_t i = 0; i < ops.size(); ++i)
    ops[i] = {.id = i, .opcode = memory_opcode::fetch_add, .offset = 16, .operand = 1};
  REQUIRE(region.post(ops) == capacity);
  CHECK(region.post(ops) == 0);
  CHECK(region.poll(std::span<memory_completion>{}) == 0);

  std::vector<memory_completion> done;
  std::size_t posted = capacity;
  for (int round = 0; done.size() < ops.size() && round < 1000; ++round) {
    std::array<memory_completion, 32> out{};
    const std::size_t n = region.poll(out);
    done.insert(done.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    posted += region.post(std::span(ops).subspan(posted));
    if (n == 0) REQUIRE(cudaStreamSynchronize(region.stream()) == cudaSuccess);
  }
  REQUIRE(done.size() == ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    CHECK(done[i].id == i);
    CHECK(done[i].status == errc::ok);
    CHECK(done[i].old_value == i);
  }
}

TEST_CASE("region operations leave the thread's CUDA state as they found it") {
  int before = -1;
  REQUIRE(cudaGetDevice(&before) == cudaSuccess);
  device_memory_region region = make_region(64);
  std::array<std::byte, 8> bytes{};
  CHECK(region.write(0, bytes) == errc::ok);
  CHECK(region.read(0, bytes) == errc::ok);
  CHECK(region.fetch_add(0, 1).ok());
  CHECK(region.fetch_add(3, 1).error() == errc::misaligned);
  int after = -1;
  REQUIRE(cudaGetDevice(&after) == cudaSuccess);
  CHECK(after == before);
  CHECK(cudaGetLastError() == cudaSuccess);
}
