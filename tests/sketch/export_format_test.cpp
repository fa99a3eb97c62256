// export_format: the switch fragment's export packet against a hand-assembled one, every
// rejection the parser documents, every truncation, and a whole fragment exported chunk by chunk
// and reassembled into the collector's count_min.
#include "innet/sketch/export_format.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "innet/core/hash.hpp"
#include "innet/sketch/count_min.hpp"
#include "innet/sketch/fixed_sketch.hpp"
#include "innet/sketch/switch_digest.hpp"
#include "innet/workload/flow_trace.hpp"

namespace {

using namespace innet;
using namespace innet::sketch;

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

export_header sample_header() {
  export_header h;
  h.flags = export_format::flag_reset;
  h.node = 0x01020304;
  h.epoch = 0x0A0B0C0D;
  h.sub_epoch = 0x0E0F;
  h.row = 2;
  h.depth = 4;
  h.count = 2;
  h.width = 1024;
  h.offset = 0x3FE;
  h.seed = 0x1122334455667788ull;
  return h;
}

std::vector<std::byte> encode(const export_header& h, std::span<const u64> counters) {
  std::vector<std::byte> out(export_size(h));
  const auto written = write_export(out, h, counters);
  REQUIRE(written.ok());
  REQUIRE(*written == out.size());
  return out;
}

TEST_CASE("an export packet has the documented big-endian layout") {
  const u64 counters[] = {0xDEADBEEF, 7};
  const std::vector<std::byte> expected = bytes_of({
      0x49, 0x4E, 0x53, 0x58,                          // "INSX"
      1,    1,    2,    0x02,                          // version, count_min, u32 counters, reset
      1,    2,    3,    4,                             // node
      10,   11,   12,   13,                            // epoch
      0x0E, 0x0F, 0,    2,                             // sub_epoch, row
      0,    4,    0,    2,                             // depth, count
      0,    0,    4,    0,                             // width 1024
      0,    0,    3,    0xFE,                          // offset 1022
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // seed
      0xDE, 0xAD, 0xBE, 0xEF, 0,    0,    0,    7,     // counters
  });
  CHECK(encode(sample_header(), counters) == expected);
  const auto parsed = parse_export(expected);
  REQUIRE(parsed.ok());
  CHECK(parsed->header == sample_header());
  CHECK(parsed->counter(0) == 0xDEADBEEF);
  CHECK(parsed->counter(1) == 7);
  CHECK(export_format::udp_port == 18771);
}

TEST_CASE("export round trips for every counter width") {
  for (const u8 code : {u8{0x00}, u8{0x01}, u8{0x02}, u8{0x03}, u8{0x12}}) {
    export_header h = sample_header();
    h.counter_code = code;
    h.family = (code & 0x10) != 0 ? sketch_family::count_sketch : sketch_family::count_min;
    const u64 mask = code == 3 ? ~u64{0} : (u64{1} << (8 << (code & 0x0F))) - 1;
    const u64 counters[] = {0x8877665544332211ull & mask, 0xFFFFFFFFFFFFFFFFull & mask};
    const auto bytes = encode(h, counters);
    const auto parsed = parse_export(bytes);
    INFO("counter code ", int{code});
    REQUIRE(parsed.ok());
    CHECK(parsed->header == h);
    CHECK(parsed->counter(0) == counters[0]);
    CHECK(parsed->counter(1) == counters[1]);
  }
}

TEST_CASE("every truncation of an export is refused as truncated") {
  const u64 counters[] = {1, 2};
  const auto bytes = encode(sample_header(), counters);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("prefix of ", n, " bytes");
    CHECK(parse_export(std::span(bytes).first(n)).error() == errc::truncated);
  }
}

TEST_CASE("export parsing refuses each malformed field with its own error") {
  const u64 counters[] = {1, 2};
  const auto good = encode(sample_header(), counters);
  const auto with = [&](std::size_t at, int value) {
    auto b = good;
    b[at] = static_cast<std::byte>(value);
    return parse_export(b).error();
  };
  namespace f = export_format;
  CHECK(with(f::magic_at, 0x4A) == errc::malformed);
  CHECK(with(f::version_at, 2) == errc::unsupported);
  CHECK(with(f::family_at, 3) == errc::unsupported);  // univmon has no chunked export
  CHECK(with(f::family_at, 0) == errc::unsupported);
  CHECK(with(f::counter_at, 0x04) == errc::unsupported);
  CHECK(with(f::counter_at, 0x22) == errc::unsupported);
  CHECK(with(f::flags_at, 0x80) == errc::malformed);
  CHECK(with(f::depth_at + 1, 0) == errc::malformed);            // depth 0
  CHECK(with(f::width_at + 2, 0) == errc::malformed);            // width 0
  CHECK(with(f::row_at + 1, 4) == errc::out_of_range);           // row == depth
  CHECK(with(f::offset_at + 3, 0xFF) == errc::out_of_range);     // 1023 + 2 > 1024
  CHECK(with(f::flags_at, f::flag_request) == errc::malformed);  // a request with counters
  auto longer = good;
  longer.push_back(std::byte{0});
  CHECK(parse_export(longer).error() == errc::malformed);
  // The offsets the checks above poke are the documented ones.
  CHECK(with(f::offset_at + 3, 0xFE) == errc::ok);
}

TEST_CASE("write_export checks everything before writing and gives the parser's error") {
  const u64 counters[] = {1, 2};
  const auto refused = [&](const export_header& h, std::span<const u64> c, std::size_t size) {
    std::vector<std::byte> out(size, std::byte{0xAA});
    const auto written = write_export(out, h, c);
    bool untouched = true;
    for (const std::byte b : out)
      untouched = untouched && b == std::byte{0xAA};
    CHECK(untouched);
    return written.error();
  };
  // Each header the parser refuses, with the parser's own error, even into a large buffer.
  const auto with = [&](auto change) {
    export_header h = sample_header();
    change(h);
    return refused(h, counters, 256);
  };
  CHECK(with([](export_header& h) { h.version = 2; }) == errc::unsupported);
  CHECK(with([](export_header& h) { h.family = sketch_family{3}; }) == errc::unsupported);
  CHECK(with([](export_header& h) { h.counter_code = 0x04; }) == errc::unsupported);
  CHECK(with([](export_header& h) { h.flags = 0x80; }) == errc::malformed);
  CHECK(with([](export_header& h) { h.depth = 0; }) == errc::malformed);
  CHECK(with([](export_header& h) { h.row = 4; }) == errc::out_of_range);
  CHECK(with([](export_header& h) { h.offset = 1023; }) == errc::out_of_range);
  CHECK(with([](export_header& h) { h.flags = export_format::flag_request; }) == errc::malformed);
  // The counters must be as many as the header says, and fit.
  CHECK(refused(sample_header(), std::span(counters).first(1), 256) == errc::malformed);
  CHECK(refused(sample_header(), counters, export_size(sample_header()) - 1) == errc::truncated);
}

TEST_CASE("a request carries no counters and parses") {
  export_header h;
  h.flags = export_format::flag_request | export_format::flag_walk;
  h.depth = p4_fragment::depth;
  h.width = p4_fragment::width;
  const auto bytes = encode(h, {});
  CHECK(bytes.size() == export_format::header_size);
  const auto parsed = parse_export(bytes);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.count == 0);
  CHECK(parsed->counter_bytes.empty());
}

TEST_CASE("a switch fragment exported in chunks reassembles into the collector's count_min") {
  // The switch: a fixed_count_min with the P4 program's dimensions fed switch digests.
  constexpr u64 seed = 0xF00D;
  static fixed_count_min<u32, p4_fragment::depth, p4_fragment::width> fragment{};
  const auto trace =
      workload::flow_trace::generate({.flow_count = 300, .packet_count = 10000, .seed = 9});
  REQUIRE(trace.ok());
  for (const auto& t : trace->packet_tuples())
    fragment.update(hash_family(switch_digest(t.to_bytes(), seed)));

  // Its export: depth * width / counters_per_export packets, the last one flagged.
  std::vector<std::vector<std::byte>> packets;
  for (u32 row = 0; row < p4_fragment::depth; ++row) {
    for (u32 offset = 0; offset < p4_fragment::width; offset += p4_fragment::counters_per_export) {
      export_header h;
      h.node = 5;
      h.row = static_cast<u16>(row);
      h.depth = p4_fragment::depth;
      h.width = p4_fragment::width;
      h.offset = offset;
      h.count = p4_fragment::counters_per_export;
      h.seed = seed;
      if (row + 1 == p4_fragment::depth &&
          offset + p4_fragment::counters_per_export == p4_fragment::width) {
        h.flags = export_format::flag_last;
      }
      std::vector<u64> chunk;
      for (u32 i = 0; i < h.count; ++i)
        chunk.push_back(fragment.counters[row * p4_fragment::width + offset + i]);
      packets.push_back(encode(h, chunk));
    }
  }
  CHECK(packets.size() == p4_fragment::depth * p4_fragment::width / 32);

  // The collector: parse each packet and place its counters.
  std::vector<u32> counters(p4_fragment::depth * p4_fragment::width, 0);
  u64 lasts = 0;
  for (const auto& p : packets) {
    const auto view = parse_export(p);
    REQUIRE(view.ok());
    lasts += (view->header.flags & export_format::flag_last) != 0;
    for (u32 i = 0; i < view->header.count; ++i) {
      counters[view->header.row * view->header.width + view->header.offset + i] =
          static_cast<u32>(view->counter(i));
    }
  }
  CHECK(lasts == 1);
  auto sketch =
      count_min<u32>::from_counters(p4_fragment::depth, p4_fragment::width, seed, counters, 10000);
  REQUIRE(sketch.ok());
  for (std::size_t f = 0; f < trace->flows.size(); ++f) {
    const hash_family h(switch_digest(trace->flows[f].to_bytes(), seed));
    CHECK(sketch->estimate(h) == fragment.estimate(h));
    CHECK(sketch->estimate(h) >= trace->sizes[f]);
  }
}

// Constant evaluation: the parser is usable in static_assert, as the generator's checks are.
constexpr bool parses_at_compile_time() {
  std::array<std::byte, export_format::header_size> b{};
  export_header h;
  h.flags = export_format::flag_request;
  h.depth = 1;
  h.width = 1;
  return write_export(b, h, {}).ok() && parse_export(b).ok();
}
static_assert(parses_at_compile_time());

}  // namespace
