// Postcarding: 5-hop fat-tree paths aggregated by the translator cache, written once per flow,
// decoded at the collector and compared with the true paths and a brute-force shadow of slot
// owners; collisions are caught by the checksum and by validating decoded hops.
#include "innet/telemetry/postcarding.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "innet/core/random.hpp"
#include "innet/host/local_memory_region.hpp"
#include "innet/net/five_tuple.hpp"
#include "innet/workload/fat_tree.hpp"

namespace {
using innet::errc;
using innet::u32;
using innet::u64;
using innet::host::local_memory_region;
using flow_key = std::array<std::byte, 13>;
using codec = innet::telemetry::postcarding<5, 2>;
using path = codec::path_type;

struct flow {
  flow_key key{};
  path truth{};
};

// Flows between hosts in different pods of a k = 8 fat tree: every path has 5 hops.
std::vector<flow> make_flows(const innet::workload::fat_tree& tree, int count, u64 seed) {
  innet::xoshiro256ss rng(seed);
  std::vector<flow> flows;
  while (static_cast<int>(flows.size()) < count) {
    const auto src = static_cast<u32>(rng() % tree.host_count());
    const auto dst = static_cast<u32>(rng() % tree.host_count());
    if (tree.pod_of(tree.edge_of_host(src)) == tree.pod_of(tree.edge_of_host(dst))) continue;
    innet::net::five_tuple t{.src_ip = 0x0A000000u + src,
                             .dst_ip = 0x0A000000u + dst,
                             .src_port = static_cast<std::uint16_t>(rng()),
                             .dst_port = 443,
                             .protocol = 6};
    const auto p = tree.path(src, dst, rng());
    REQUIRE(p.length == 5);
    flow f;
    f.key = t.to_bytes();
    f.truth.length = p.length;
    for (u32 i = 0; i < p.length; ++i)
      f.truth.hop[i] = p.hops[i];
    flows.push_back(f);
  }
  return flows;
}

}  // namespace

TEST_CASE("postcarding: encode and decode are inverse, and the coding hides the values") {
  const auto c = codec::create(1024, 3);
  REQUIRE(c.ok());
  static_assert(codec::slot_bytes == 32);
  const flow_key a{std::byte{1}};
  const flow_key b{std::byte{2}};
  path p{{10, 20, 30, 40, 50}, 5};
  const auto coded = c->encode(a, p);
  CHECK(c->decode(a, coded).value() == p);
  // Decoding with another flow's masks gives another (here: impossible-length) path.
  const auto wrong = c->decode(b, coded);
  CHECK((!wrong.ok() || !(*wrong == p)));
  path shorter{{7, 8, 9, 0, 0}, 3};
  CHECK(c->decode(a, c->encode(a, shorter)).value() == shorter);
}

TEST_CASE("postcarding: paths through the translator cache decode to the true 5-hop paths") {
  const auto tree = innet::workload::fat_tree::create(8);
  REQUIRE(tree.ok());
  const auto flows = make_flows(*tree, 3000, 17);
  constexpr u64 slots = 4096;
  const auto c = codec::create(slots, 0xC0DE);
  REQUIRE(c.ok());
  std::vector<u64> words(slots * codec::slot_bytes / 8);
  local_memory_region region(words);
  std::map<flow_key, path> truth;
  for (const auto& f : flows)
    truth[f.key] = f.truth;
  // Postcards of 8 flows at a time arrive interleaved and shuffled, as from different switches.
  innet::telemetry::postcard_cache<5> cache(1024, 1);
  innet::xoshiro256ss rng(5);
  std::vector<u64> owner(slots, ~u64{0});
  std::vector<std::size_t> completed_order;
  std::map<flow_key, std::size_t> index_of;
  for (std::size_t i = 0; i < flows.size(); ++i)
    index_of[flows[i].key] = i;
  for (std::size_t start = 0; start < flows.size(); start += 8) {
    std::vector<std::pair<std::size_t, u32>> cards;
    for (std::size_t i = start; i < std::min(flows.size(), start + 8); ++i) {
      for (u32 h = 0; h < 5; ++h)
        cards.emplace_back(i, h);
    }
    for (std::size_t i = cards.size(); i > 1; --i)
      std::swap(cards[i - 1], cards[rng() % i]);
    for (const auto& [i, h] : cards) {
      const auto done = cache.add(flows[i].key, h, 5, flows[i].truth.hop[h]);
      if (!done.ok()) {
        CHECK(done.error() == errc::would_block);
        continue;
      }
      CHECK(done->path == truth[done->key]);
      REQUIRE(c->put(region, done->key, done->path) == errc::ok);
      const std::size_t fi = index_of[done->key];
      completed_order.push_back(fi);
      for (u64 s : c->store().slots_of(done->key).slot)
        owner[s] = fi;
    }
  }
  CHECK(completed_order.size() + cache.evictions() >= flows.size());
  CHECK(completed_order.size() > flows.size() * 9 / 10);
  // Brute force: a flow is recoverable iff one of its slots is still its own (the 32-bit
  // checksum makes a false match of another flow's slot negligible at this scale).
  const auto is_switch = [&](u32 v) { return v < tree->switch_count(); };
  u64 expected_ok = 0;
  u64 got_ok = 0;
  for (std::size_t fi : completed_order) {
    bool survives = false;
    for (u64 s : c->store().slots_of(flows[fi].key).slot)
      survives = survives || owner[s] == fi;
    const auto r = c->get(region, flows[fi].key, is_switch);
    CHECK(r.ok() == survives);
    if (r.ok()) CHECK(*r == flows[fi].truth);  // never a wrong path
    expected_ok += survives ? 1 : 0;
    got_ok += r.ok() ? 1 : 0;
  }
  CHECK(got_ok == expected_ok);
  MESSAGE("postcarding: " << got_ok << " of " << completed_order.size()
                          << " flows recoverable after all writes");
}

TEST_CASE("postcarding: an overwritten slot is caught by the checksum, a forged one by decoding") {
  const auto tree = innet::workload::fat_tree::create(8);
  REQUIRE(tree.ok());
  const auto flows = make_flows(*tree, 400, 23);
  const auto c = codec::create(1u << 16, 9);
  REQUIRE(c.ok());
  std::vector<u64> words((1u << 16) * codec::slot_bytes / 8);
  local_memory_region region(words);
  const auto is_switch = [&](u32 v) { return v < tree->switch_count(); };
  int caught_by_checksum = 0;
  int caught_by_decoding = 0;
  for (std::size_t i = 0; i + 1 < flows.size(); i += 2) {
    const flow& a = flows[i];
    const flow& b = flows[i + 1];
    REQUIRE(c->put(region, a.key, a.truth) == errc::ok);
    REQUIRE(c->get(region, a.key, is_switch).value() == a.truth);
    // b's slot bytes land on a's slots (an index collision): a's checksum no longer matches.
    const auto aw = c->writes(a.key, a.truth);
    const auto bw = c->writes(b.key, b.truth);
    REQUIRE(aw.ok());
    REQUIRE(bw.ok());
    for (const auto& w : *aw)
      REQUIRE(region.write(w.offset, (*bw)[0].bytes) == errc::ok);
    caught_by_checksum += c->get(region, a.key).error() == errc::not_found ? 1 : 0;
    // A checksum collision: b's coded path under a's checksum. Decoding with a's masks gives
    // random words, which the length check or the switch-id validator rejects.
    const auto forged =
        codec::store_type::encode(c->store().slots_of(a.key).checksum, c->encode(b.key, b.truth));
    for (const auto& w : *aw)
      REQUIRE(region.write(w.offset, forged) == errc::ok);
    caught_by_decoding += c->get(region, a.key, is_switch).error() == errc::malformed ? 1 : 0;
    for (const auto& w : *aw)
      REQUIRE(region.write(w.offset, codec::store_type::slot_type{}) == errc::ok);
  }
  CHECK(caught_by_checksum == 200);
  CHECK(caught_by_decoding == 200);
}

TEST_CASE("postcarding: the cache evicts an incomplete flow when another takes its row") {
  innet::telemetry::postcard_cache<5> cache(1);
  const flow_key a{std::byte{1}};
  const flow_key b{std::byte{2}};
  CHECK(cache.add(a, 0, 3, 100).error() == errc::would_block);
  CHECK(cache.add(a, 2, 3, 102).error() == errc::would_block);
  CHECK(cache.add(b, 0, 2, 200).error() == errc::would_block);
  CHECK(cache.evictions() == 1);
  const auto done = cache.add(b, 1, 2, 201);
  REQUIRE(done.ok());
  CHECK(done->key == b);
  CHECK(done->path == path{{200, 201, 0, 0, 0}, 2});
  CHECK(cache.add(a, 1, 3, 101).error() == errc::would_block);  // a starts over
  CHECK(cache.add(a, 5, 3, 1).error() == errc::malformed);
  CHECK(cache.add(a, 0, 6, 1).error() == errc::malformed);
}

TEST_CASE("postcarding: a path longer than MaxHops is refused, not written undecodable") {
  const auto c = codec::create(64, 4);
  REQUIRE(c.ok());
  std::vector<u64> words(64 * codec::slot_bytes / 8);
  local_memory_region region(words);
  const flow_key a{std::byte{3}};
  const path too_long{{1, 2, 3, 4, 5}, 6};
  CHECK(c->writes(a, too_long).error() == errc::malformed);
  CHECK(c->put(region, a, too_long) == errc::malformed);
  for (u64 w : words)
    CHECK(w == 0);  // nothing written
  CHECK(c->get(region, a).error() == errc::not_found);
  // The longest legal path still goes through.
  const path full{{1, 2, 3, 4, 5}, 5};
  REQUIRE(c->writes(a, full).ok());
  REQUIRE(c->put(region, a, full) == errc::ok);
  CHECK(c->get(region, a).value() == full);
}
