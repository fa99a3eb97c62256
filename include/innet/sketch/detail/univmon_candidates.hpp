// The heavy-hitter candidates of one UnivMon level: at most `capacity` keys with the largest
// counts seen so far, findable by key in O(1) and evictable by smallest count in O(log k).
//
// Layout (all owned by one univmon_candidates):
//
//   entries_  [slot 0][slot 1]...[slot n-1]       n <= capacity; a slot never moves, so the
//             { key bytes (inline, <= 64), length,   other two arrays refer to it by index
//               row hashes, sampling word, count,
//               position in heap_ }
//   heap_     [slot of min][...]                  binary min-heap of slots ordered by (count,
//                                                 key bytes);
//                                                 entries_[heap_[p]].heap_position == p
//   table_    [0 | slot+1] x 2^b, 2^b >= 2*size   linear probing from fmix64(rows.value(0)),
//                                                 0 = empty, removals by backward shift (no
//                                                 tombstones, so probes stay short forever);
//                                                 doubles as the set grows, up to
//                                                 bit_ceil(2 * capacity), so a deserialized
//                                                 sketch allocates for what its input holds
//
// Why a hand-written table rather than a hash map: the key's 128-bit row digest is already
// computed for the Count Sketch, so the probe start costs one multiply-xorshift and a probe
// compares one 64-bit word before touching key bytes; and nothing is allocated per key (keys are
// stored inline), which keeps the update path allocation-free once every slot exists.
//
// The counts stored here only order the candidates while the stream runs (which key to evict).
// They go stale as soon as other keys move the sketch (collisions, merge, fold), so univmon
// never reports them: it re-estimates every candidate from its level's sketch at query time.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "innet/core/detail/freestanding.hpp"
#include "innet/core/hash_family.hpp"

namespace innet::sketch::detail {

// Longest key a UnivMon heap stores (flow keys are 13 bytes; this leaves room for IPv6 pairs).
inline constexpr usize univmon_max_key_bytes = 64;

struct univmon_candidate {
  std::array<std::byte, univmon_max_key_bytes> bytes{};
  u8 length = 0;
  hash_family rows{hash128{0, 0}};
  u64 sample = 0;          // the key's sampling word (which levels it belongs to)
  std::int64_t count = 0;  // estimate when last touched: an ordering hint, never reported
  u32 heap_position = 0;

  std::span<const std::byte> key() const noexcept { return {bytes.data(), length}; }
};

class univmon_candidates {
 public:
  // capacity >= 1 (checked by univmon's config validation).
  explicit univmon_candidates(u32 capacity)
      : capacity_(capacity),
        table_(std::min(initial_table, full_table(capacity)), 0),
        mask_(table_.size() - 1) {}

  u32 capacity() const noexcept { return capacity_; }
  usize size() const noexcept { return entries_.size(); }
  std::span<const univmon_candidate> entries() const noexcept { return entries_; }
  // The index's size once all `capacity` slots are used.
  static usize full_table(u32 capacity) noexcept { return std::bit_ceil(usize{capacity} * 2); }

  // Records that `key` (row hashes `rows`, sampling word `sample`) now has estimate `count`:
  // updates it if present, inserts it while there is room, otherwise replaces the smallest
  // candidate if `count` is strictly larger. key.size() <= univmon_max_key_bytes.
  void offer(std::span<const std::byte> key, const hash_family& rows, u64 sample,
             std::int64_t count) {
    if (const u32 slot = find(key, rows); slot != npos) {
      univmon_candidate& e = entries_[slot];
      const std::int64_t before = e.count;
      e.count = count;
      // A min-heap: a smaller count may move toward the root, a larger one toward the leaves.
      if (count < before) {
        sift_up(e.heap_position);
      } else {
        sift_down(e.heap_position);
      }
      return;
    }
    if (entries_.size() < capacity_) {
      const auto slot = static_cast<u32>(entries_.size());
      if (2 * (entries_.size() + 1) > table_.size()) grow_table();
      entries_.emplace_back();
      assign(entries_.back(), key, rows, sample, count);
      entries_.back().heap_position = static_cast<u32>(heap_.size());
      heap_.push_back(slot);
      table_insert(slot);
      sift_up(entries_.back().heap_position);
      return;
    }
    const u32 victim = heap_[0];
    if (count <= entries_[victim].count) return;
    table_erase(victim);
    assign(entries_[victim], key, rows, sample, count);
    table_insert(victim);
    sift_down(0);
  }

  void clear() noexcept {
    entries_.clear();
    heap_.clear();
    std::fill(table_.begin(), table_.end(), 0);
  }

  bool contains(std::span<const std::byte> key, const hash_family& rows) const noexcept {
    return find(key, rows) != npos;
  }

  // The same capacity and the same keys with the same stored counts, whatever their slots and
  // heap positions (rows and sampling word are functions of the key under one seed).
  friend bool operator==(const univmon_candidates& a, const univmon_candidates& b) noexcept {
    if (a.capacity_ != b.capacity_ || a.size() != b.size()) return false;
    for (const univmon_candidate& e : a.entries_) {
      const u32 slot = b.find(e.key(), e.rows);
      if (slot == npos || b.entries_[slot].count != e.count) return false;
    }
    return true;
  }

 private:
  static constexpr u32 npos = ~u32{0};
  static constexpr usize initial_table = 16;

  static void assign(univmon_candidate& e, std::span<const std::byte> key, const hash_family& rows,
                     u64 sample, std::int64_t count) noexcept {
    std::copy(key.begin(), key.end(), e.bytes.begin());  // not memcpy: an empty key may be null
    e.length = static_cast<u8>(key.size());
    e.rows = rows;
    e.sample = sample;
    e.count = count;
  }

  usize home(const hash_family& rows) const noexcept {
    return static_cast<usize>(innet::detail::fmix64(rows.value(0))) & mask_;
  }

  u32 find(std::span<const std::byte> key, const hash_family& rows) const noexcept {
    const u64 fingerprint = rows.value(0);
    for (usize i = home(rows);; i = (i + 1) & mask_) {
      const u32 t = table_[i];
      if (t == 0) return npos;
      const univmon_candidate& e = entries_[t - 1];
      if (e.rows.value(0) == fingerprint && e.length == key.size() &&
          (key.empty() || std::memcmp(e.bytes.data(), key.data(), key.size()) == 0)) {
        return t - 1;
      }
    }
  }

  void grow_table() {
    table_.assign(table_.size() * 2, 0);
    mask_ = table_.size() - 1;
    for (u32 slot = 0; slot < entries_.size(); ++slot)
      table_insert(slot);
  }

  void table_insert(u32 slot) noexcept {
    usize i = home(entries_[slot].rows);
    while (table_[i] != 0)
      i = (i + 1) & mask_;
    table_[i] = slot + 1;
  }

  // Backward-shift deletion: after emptying position i, pull later entries of the probe run back
  // into the hole whenever the hole lies between their home and where they sit.
  void table_erase(u32 slot) noexcept {
    usize i = home(entries_[slot].rows);
    while (table_[i] != slot + 1)
      i = (i + 1) & mask_;
    table_[i] = 0;
    for (usize j = (i + 1) & mask_; table_[j] != 0; j = (j + 1) & mask_) {
      const usize h = home(entries_[table_[j] - 1].rows);
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        table_[i] = table_[j];
        table_[j] = 0;
        i = j;
      }
    }
  }

  // Heap order: by count, ties by key bytes. A total order makes the root (the next victim) a
  // function of the candidates alone, not of the order they arrived in, so a deserialized or
  // merged sketch evicts exactly what the original would.
  bool before(u32 p, u32 q) const noexcept {
    const univmon_candidate& a = entries_[heap_[p]];
    const univmon_candidate& b = entries_[heap_[q]];
    if (a.count != b.count) return a.count < b.count;
    const std::span<const std::byte> ka = a.key(), kb = b.key();
    return std::lexicographical_compare(ka.begin(), ka.end(), kb.begin(), kb.end());
  }

  void swap_heap(u32 a, u32 b) noexcept {
    std::swap(heap_[a], heap_[b]);
    entries_[heap_[a]].heap_position = a;
    entries_[heap_[b]].heap_position = b;
  }

  void sift_up(u32 p) noexcept {
    while (p > 0) {
      const u32 parent = (p - 1) / 2;
      if (!before(p, parent)) return;
      swap_heap(parent, p);
      p = parent;
    }
  }

  void sift_down(u32 p) noexcept {
    const auto n = static_cast<u32>(heap_.size());
    for (;;) {
      const u32 left = 2 * p + 1;
      if (left >= n) return;
      u32 smallest = left;
      if (left + 1 < n && before(left + 1, left)) smallest = left + 1;
      if (!before(smallest, p)) return;
      swap_heap(p, smallest);
      p = smallest;
    }
  }

  u32 capacity_;
  std::vector<univmon_candidate> entries_;
  std::vector<u32> heap_;
  std::vector<u32> table_;
  usize mask_;
};

}  // namespace innet::sketch::detail
