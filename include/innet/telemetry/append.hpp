// DTA Append: per-list ring buffers in collector memory, filled by one-sided RDMA WRITEs and
// drained by the collector with a tail pointer.
//
// Region layout (L lists, C entries each, from `base`, which must be 8-byte aligned):
//
//   list l, entry seq lives at  base + (l * C + seq mod C) * E,   E = EntryBytes + 24
//
//   +0        +8                         +16            +16+EntryBytes
//   +---------+--------------------------+--------------+--------------+
//   | stamp   | size | pos | list | 0    | payload      | check        |
//   | u64 LE  | u8   | u8  | u16LE| u32  | EntryBytes   | u64 LE       |
//   +---------+--------------------------+--------------+--------------+
//   stamp = seq + 1 (seq counts the list's entries from 0; 0 means "never written")
//   size  = B, the number of entries in the entry's batch (1..16); pos = its index in the batch
//   check = XXH3-64 of bytes [0, 16 + EntryBytes) under the ring's seed
//
// A writer (the translator, one per list) sends a batch of B entries as ONE RDMA WRITE of B * E
// contiguous bytes; only a batch that crosses the end of the ring is split into two WRITEs.
//
// Why the reader never returns a half-written batch, without relying on write ordering:
// RDMA guarantees that a WRITE's bytes are all placed when its completion is seen, but not in
// which order they land (a multi-packet WRITE, PCIe reordering, a retransmission), and the
// collector does not see the writer's completions at all. So every entry is self-validating:
// its check covers its stamp, batch fields and payload, and a torn entry (some new bytes, some
// left from the previous lap) fails the check except with probability 2^-64. The reader at
// tail t reads entry t; if it is a valid batch start (stamp t + 1, pos 0), it reads the batch's
// other B - 1 entries and consumes the batch only if every one of them is valid with stamps
// t + 1 .. t + B and the same size; otherwise it returns would_block and consumes nothing, to
// retry later. A complete entry whose stamp is past the tail's lap (stamp > t + 1) means the
// writer has lapped the reader and entries were lost: errc::out_of_range (overrun).
// The only assumption is that the writer's bytes eventually all arrive (a reliable connection).
// A WRITE that reports failure may still land, so a failed batch stays pending in the writer and
// is resent byte for byte (append_writer::retry): a sequence number is never written with two
// different contents. A valid entry with the expected stamp but the wrong batch position can
// only be leftovers of an abandoned batch (a restarted writer); the reader waits (would_block)
// for that sequence number to be written again.
//
// There is no back-pressure: a writer never reads the tail (DTA keeps the switch path one-way),
// so sizing C against the drain rate is the operator's job, and overrun is detected, not
// prevented.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/core/errc.hpp"
#include "innet/core/hash.hpp"
#include "innet/core/memory_region.hpp"
#include "innet/core/result.hpp"
#include "innet/telemetry/detail/region_ops.hpp"

namespace innet::telemetry {

template <std::uint32_t EntryBytes>
class append_ring {
  static_assert(EntryBytes >= 8 && EntryBytes % 8 == 0,
                "payloads are whole 64-bit words, so every entry stays 8-byte aligned");

 public:
  static constexpr std::uint32_t payload_bytes = EntryBytes;
  static constexpr std::uint32_t entry_bytes = EntryBytes + 24;
  static constexpr std::uint32_t max_batch = 16;
  using payload_type = std::array<std::byte, EntryBytes>;
  using entry_type = std::array<std::byte, entry_bytes>;

  // One RDMA WRITE of a batch: `length` bytes at region `offset`, taken from the batch's
  // encoded bytes starting at `from`.
  struct segment {
    std::uint64_t offset = 0;
    std::uint32_t from = 0;
    std::uint32_t length = 0;
  };
  struct batch_write {
    std::array<std::byte, max_batch * entry_bytes> bytes{};
    std::array<segment, 2> segments{};
    std::uint32_t segment_count = 0;
    std::uint32_t size = 0;  // entries in the batch
  };

  append_ring() = default;

  // `lists` rings of `capacity` entries (capacity >= max_batch) from the 8-byte aligned `base`.
  static absl::StatusOr<append_ring> create(std::uint32_t lists, std::uint32_t capacity,
                                            std::uint64_t seed, std::uint64_t base = 0) {
    if (lists == 0 || lists > 65536 || capacity < max_batch || base % 8 != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "append_ring::create: need 1..65536 lists, capacity >= ", max_batch,
          " and an 8-byte aligned base (got ", lists, ", ", capacity, ", ", base, ")"));
    }
    return append_ring(lists, capacity, seed, base);
  }

  std::uint32_t lists() const noexcept { return lists_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t region_bytes() const noexcept {
    return std::uint64_t{lists_} * capacity_ * entry_bytes;
  }
  std::uint64_t offset_of(std::uint32_t list, std::uint64_t seq) const noexcept {
    return base_ + (std::uint64_t{list} * capacity_ + seq % capacity_) * entry_bytes;
  }

  // Encodes entries [first_seq, first_seq + size(payloads)) of `list` as one batch: the bytes
  // and the one or two WRITEs that place them. 1 <= size(payloads) <= 16.
  result<batch_write> plan(std::uint32_t list, std::uint64_t first_seq,
                           std::span<const payload_type> payloads) const noexcept {
    if (payloads.empty() || payloads.size() > max_batch) return errc::malformed;
    if (list >= lists_) return errc::out_of_range;
    batch_write b;
    b.size = static_cast<std::uint32_t>(payloads.size());
    for (std::uint32_t i = 0; i < b.size; ++i)
      encode(std::span<std::byte, entry_bytes>(b.bytes.data() + i * entry_bytes, entry_bytes), list,
             first_seq + i, b.size, i, payloads[i]);
    const std::uint64_t slot = first_seq % capacity_;
    const auto before_end =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(b.size, capacity_ - slot));
    b.segments[0] = segment{offset_of(list, first_seq), 0, before_end * entry_bytes};
    b.segment_count = 1;
    if (before_end < b.size) {
      b.segments[1] = segment{offset_of(list, first_seq + before_end), before_end * entry_bytes,
                              (b.size - before_end) * entry_bytes};
      b.segment_count = 2;
    }
    return b;
  }

  void encode(std::span<std::byte, entry_bytes> out, std::uint32_t list, std::uint64_t seq,
              std::uint32_t size, std::uint32_t pos, const payload_type& payload) const noexcept {
    detail::store_le(out.data(), seq + 1, 8);
    detail::store_le(out.data() + 8,
                     std::uint64_t{size} | std::uint64_t{pos} << 8 | std::uint64_t{list} << 16, 8);
    std::copy(payload.begin(), payload.end(), out.begin() + 16);
    detail::store_le(out.data() + 16 + EntryBytes, check_of(out), 8);
  }

  // What an entry says about itself, if its check holds.
  struct decoded {
    std::uint64_t stamp = 0;
    std::uint32_t size = 0;
    std::uint32_t pos = 0;
    std::uint32_t list = 0;
  };
  result<decoded> decode(std::span<const std::byte, entry_bytes> e) const noexcept {
    if (detail::load_le(e.data() + 16 + EntryBytes, 8) != check_of(e))
      return errc::checksum_mismatch;
    const std::uint64_t meta = detail::load_le(e.data() + 8, 8);
    return decoded{detail::load_le(e.data(), 8), static_cast<std::uint32_t>(meta & 0xFF),
                   static_cast<std::uint32_t>((meta >> 8) & 0xFF),
                   static_cast<std::uint32_t>((meta >> 16) & 0xFFFF)};
  }

 private:
  append_ring(std::uint32_t lists, std::uint32_t capacity, std::uint64_t seed, std::uint64_t base)
      : lists_(lists), capacity_(capacity), seed_(seed), base_(base) {}

  std::uint64_t check_of(std::span<const std::byte> entry) const noexcept {
    return xxh3_64(entry.first(16 + EntryBytes), seed_);
  }

  std::uint32_t lists_ = 1;
  std::uint32_t capacity_ = max_batch;
  std::uint64_t seed_ = 0;
  std::uint64_t base_ = 0;
};

// The translator's side of one list: the next sequence number, and the batched write.
template <std::uint32_t EntryBytes>
class append_writer {
 public:
  using ring_type = append_ring<EntryBytes>;
  using payload_type = typename ring_type::payload_type;

  append_writer(const ring_type& ring, std::uint32_t list) noexcept : ring_(ring), list_(list) {}

  std::uint64_t head() const noexcept { return head_; }
  // True after a failed append(): the batch it took is kept and must be finished by retry().
  bool pending() const noexcept { return pending_; }

  // Writes one batch (1..16 entries) at the head. On errc::ok the head advances past it.
  // Any other result from the region means the writer has taken the batch anyway: a WRITE that
  // reported failure (lost ACK, retry count exceeded) may still have landed in full or in part,
  // and the reader may already have delivered it. So the batch becomes pending and exactly its
  // bytes are sent again by retry(); writing different bytes at the same sequence numbers could
  // make the reader deliver entries the caller thinks failed, or leave leftovers it cannot parse.
  // While a batch is pending, append() sends nothing and returns errc::would_block.
  // Invalid arguments (errc::malformed, errc::out_of_range) take nothing and leave no pending.
  template <memory_region R>
  errc append(R& region, std::span<const payload_type> payloads) {
    if (pending_) return errc::would_block;
    result<typename ring_type::batch_write> b = ring_.plan(list_, head_, payloads);
    if (!b.ok()) return b.error();
    batch_ = *b;
    pending_ = true;
    return retry(region);
  }

  // Sends the pending batch again, byte for byte; errc::ok (and the head advances) once all of
  // it is acknowledged. errc::ok with nothing pending.
  template <memory_region R>
  errc retry(R& region) {
    if (!pending_) return errc::ok;
    std::array<memory_op, 2> ops{};
    for (std::uint32_t i = 0; i < batch_.segment_count; ++i) {
      const auto& s = batch_.segments[i];
      ops[i] = memory_op{.opcode = memory_opcode::write,
                         .offset = s.offset,
                         .local = std::span(batch_.bytes).subspan(s.from, s.length)};
    }
    const errc e =
        detail::execute_all(region, std::span<const memory_op>(ops.data(), batch_.segment_count));
    if (e == errc::ok) {
      head_ += batch_.size;
      pending_ = false;
    }
    return e;
  }

 private:
  ring_type ring_;
  std::uint32_t list_;
  std::uint64_t head_ = 0;
  bool pending_ = false;
  typename ring_type::batch_write batch_{};
};

// The collector's side of one list: the tail, and the batch-at-a-time drain.
template <std::uint32_t EntryBytes>
class append_reader {
 public:
  using ring_type = append_ring<EntryBytes>;
  using payload_type = typename ring_type::payload_type;
  append_reader(const ring_type& ring, std::uint32_t list) noexcept : ring_(ring), list_(list) {}

  std::uint64_t tail() const noexcept { return tail_; }
  // After an overrun the entries in between are gone; the collector restarts from a sequence
  // number it learns elsewhere (e.g. the translator's head()).
  void reset(std::uint64_t tail) noexcept { tail_ = tail; }

  // Consumes the next complete batch into `out` (at least 16 payloads of room) and returns its
  // size; errc::would_block when the next batch is absent or not completely written yet,
  // errc::out_of_range when the writer has lapped the tail.
  template <memory_region R>
  result<std::uint32_t> poll(R& region, std::span<payload_type> out) {
    if (out.size() < ring_type::max_batch) return errc::truncated;
    constexpr std::uint32_t eb = ring_type::entry_bytes;
    std::array<std::byte, ring_type::max_batch * eb> buf{};
    const auto entry = [&](std::uint32_t i) {
      return std::span<const std::byte, eb>(buf.data() + std::size_t{i} * eb, eb);
    };
    if (const errc err = region.read(ring_.offset_of(list_, tail_), std::span(buf).first(eb));
        err != errc::ok)
      return err;
    const auto first = ring_.decode(entry(0));
    if (!first.ok()) return errc::would_block;  // torn, or never written
    if (first->stamp > tail_ + 1) return errc::out_of_range;
    if (first->stamp < tail_ + 1) return errc::would_block;  // the previous lap: nothing new
    if (first->size == 0 || first->size > ring_type::max_batch || first->list != list_)
      return errc::malformed;
    // The expected stamp in the middle of a batch: leftovers of a batch that landed in part and
    // was never finished (a writer restarted with a pending batch). Not corruption: the writer
    // writes this sequence number again, as a batch start, so wait for it.
    if (first->pos != 0) return errc::would_block;
    const std::uint32_t size = first->size;
    if (size > 1) {
      // The rest of the batch: one read, or two where the batch wraps.
      const std::uint64_t slot = (tail_ + 1) % ring_.capacity();
      const auto before_end =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(size - 1, ring_.capacity() - slot));
      const std::span<std::byte> rest = std::span(buf).subspan(eb, std::size_t{size - 1} * eb);
      std::array<memory_op, 2> ops{};
      ops[0] = memory_op{.opcode = memory_opcode::read,
                         .offset = ring_.offset_of(list_, tail_ + 1),
                         .local = rest.first(std::size_t{before_end} * eb)};
      ops[1] = memory_op{.opcode = memory_opcode::read,
                         .offset = ring_.offset_of(list_, tail_ + 1 + before_end),
                         .local = rest.subspan(std::size_t{before_end} * eb)};
      const std::size_t n = before_end < size - 1 ? 2 : 1;
      if (const errc err = detail::execute_all(region, std::span<const memory_op>(ops.data(), n));
          err != errc::ok)
        return err;
      for (std::uint32_t i = 1; i < size; ++i) {
        const auto d = ring_.decode(entry(i));
        if (!d.ok() || d->stamp < tail_ + 1 + i) return errc::would_block;
        if (d->stamp > tail_ + 1 + i) return errc::out_of_range;
        if (d->list != list_) return errc::malformed;
        // Another batch's entry at the right sequence number: leftovers, as above.
        if (d->size != size || d->pos != i) return errc::would_block;
      }
    }
    for (std::uint32_t i = 0; i < size; ++i)
      std::copy(entry(i).begin() + 16, entry(i).begin() + 16 + EntryBytes, out[i].begin());
    tail_ += size;
    return size;
  }

 private:
  ring_type ring_;
  std::uint32_t list_;
  std::uint64_t tail_ = 0;
};

}  // namespace innet::telemetry
