// Fuzzes fragment deserialization for Count-Min and Count Sketch fragments: never reads outside
// the input (ASan), and whatever it accepts re-serializes to exactly the input bytes (the format
// has no slack: header fields, sketch blob and both checksums are all determined) and ingests
// into a collector that can answer a query over it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "innet/sketch/count_min.hpp"
#include "innet/sketch/count_sketch.hpp"
#include "innet/sketch/fragment.hpp"
#include "innet/sketch/fragment_collector.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}

template <class Sketch>
void check(std::span<const std::byte> input) {
  using namespace innet::sketch;
  const auto f = fragment<Sketch>::deserialize(input);
  if (!f.ok()) return;
  const std::vector<std::byte> again = f->serialize();
  require(again.size() == input.size() && std::equal(again.begin(), again.end(), input.begin()));
  require(f->header().begin_ns < f->header().end_ns);
  require(f->header().slot < f->header().slots);
  fragment_collector<Sketch> c;
  require(c.ingest(input).ok());
  const std::byte key[4] = {};
  const innet::u32 path[1] = {f->header().node};
  (void)c.estimate(key, path, f->header().represented_begin(), f->header().represented_end());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  check<innet::sketch::count_min<std::uint32_t>>(input);
  check<innet::sketch::count_sketch<std::int32_t>>(input);
  return 0;
}
