// Fuzzes the sketch deserializers (sketch/sketch_format.hpp): never reads outside the input or
// allocates beyond what the input's size justifies (ASan), and whatever is accepted is a
// self-consistent sketch that serializes back to exactly the input bytes, can be queried, merged
// with itself and folded. UnivMon inputs are also tried with a valid checksum appended.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/sketch_format.hpp"
#include "innet/sketch/univmon.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}

template <class Sketch>
void exercise(std::span<const std::byte> input) {
  auto sketch = Sketch::deserialize(input);
  if (!sketch.ok()) return;
  require(sketch->counters().size() == std::size_t{sketch->depth()} * sketch->width());
  require(sketch->serialize() == std::vector<std::byte>(input.begin(), input.end()));
  const std::uint64_t key = 0x0123456789ABCDEFULL;
  (void)sketch->estimate(innet::object_bytes(key));
  (void)sketch->lower_bound(innet::object_bytes(key));
  auto twice = *sketch;
  require(twice.merge(*sketch).ok());
  if (sketch->width() % 2 == 0) require(sketch->fold(1).ok());
  sketch->update(innet::object_bytes(key), 1);
}

// UnivMon adds candidate sections behind the counters. Its input is also tried with a valid
// checksum appended, so the fuzzer reaches the structural checks the checksum would hide.
void exercise_univmon(std::span<const std::byte> input) {
  using univmon = innet::sketch::univmon<std::int32_t>;
  auto sketch = univmon::deserialize(input);
  if (!sketch.ok()) return;
  require(sketch->serialize() == std::vector<std::byte>(input.begin(), input.end()));
  (void)sketch->l1();
  (void)sketch->l2();
  (void)sketch->entropy();
  (void)sketch->distinct();
  (void)sketch->heavy_hitters(0.01);
  const std::uint64_t key = 0x0123456789ABCDEFULL;
  (void)sketch->estimate(innet::object_bytes(key));
  auto twice = *sketch;
  require(twice.merge(*sketch).ok());
  if (sketch->width() % 2 == 0) require(sketch->fold(1).ok());
  require(sketch->update(innet::object_bytes(key), 1) == innet::errc::ok);
}

void exercise_univmon_sealed(std::span<const std::byte> input) {
  std::vector<std::byte> sealed(input.begin(), input.end());
  sealed.resize(input.size() + innet::sketch::format::checksum_size);
  innet::store_be<std::uint64_t>(sealed.data() + input.size(), innet::sketch::checksum_of(input));
  exercise_univmon(sealed);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  exercise<innet::sketch::count_min<std::uint8_t>>(input);
  exercise<innet::sketch::count_min<std::uint32_t>>(input);
  exercise<innet::sketch::count_min<std::uint64_t>>(input);
  exercise<innet::sketch::count_sketch<std::int16_t>>(input);
  exercise<innet::sketch::count_sketch<std::int32_t>>(input);
  exercise<innet::sketch::count_sketch<std::int64_t>>(input);
  exercise_univmon(input);
  exercise_univmon_sealed(input);
  return 0;
}
