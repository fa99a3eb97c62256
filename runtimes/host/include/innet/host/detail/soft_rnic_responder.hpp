// The software RNIC's responder: what the NIC does with one request datagram.
//
// Pure logic with no sockets or threads, so that the exactly-once rules are tested
// deterministically (tests/runtimes/host/soft_rnic_test.cpp) and the service thread
// in soft_rnic.hpp stays a thin receive/handle/send loop.
//
// Per session (one client queue pair) the responder keeps the sequence it expects
// next and a ring of its last `depth` responses, indexed by sequence mod depth (like
// an RNIC's responder resources for READ and atomics, but for every opcode):
//
//   sequence == expected   execute, cache the response, expected += 1
//   sequence <  expected   a retransmission: replay the cached response byte for
//                          byte; never execute again (a stale duplicate older than
//                          the ring is dropped: its client has long had the answer)
//   sequence >  expected   a request was lost: NAK once with sequence_error carrying
//                          `expected`, then drop until `expected` arrives (go-back-N)
//
// Execution in sequence order is what makes completions, reads after writes and
// atomics behave as on an RC queue pair; the cache is what makes a retransmitted
// atomic or write take effect exactly once. Clients keep at most `depth` requests
// outstanding (the connect response tells them `depth`), so a retransmission still
// unanswered is always in the ring.
//
// Memory operations go through innet::host::local_memory_region, the reference
// model, so bounds, alignment and atomicity cannot drift from it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "innet/host/local_memory_region.hpp"
#include "innet/host/soft_rnic_wire.hpp"

namespace innet::host::detail {

struct soft_rnic_responder_stats {
  std::uint64_t requests = 0;       // request datagrams handled
  std::uint64_t executed = 0;       // requests applied (each sequence at most once)
  std::uint64_t replayed = 0;       // retransmissions answered from the cache
  std::uint64_t sequence_naks = 0;  // sequence_error NAKs sent
  std::uint64_t dropped = 0;        // malformed, stale, or out of order after a NAK
  std::uint64_t failed = 0;         // dropped because handling threw (out of memory)
};

class soft_rnic_responder {
 public:
  // `depth` must be a power of two (so that sequence mod depth stays contiguous when
  // the 32-bit sequence wraps) and at most 0xFFFF; soft_rnic::start checks both.
  soft_rnic_responder(std::size_t depth, std::size_t max_sessions)
      : depth_(depth), max_sessions_(max_sessions) {}

  std::size_t depth() const noexcept { return depth_; }

  // False when `rkey` is already registered.
  bool add_region(std::uint64_t rkey, std::span<std::uint64_t> words) {
    return regions_.try_emplace(rkey, words).second;
  }
  bool remove_region(std::uint64_t rkey) { return regions_.erase(rkey) == 1; }
  std::size_t session_count() const noexcept { return sessions_.size(); }
  const soft_rnic_responder_stats& stats() const noexcept { return stats_; }

  // Handles one request datagram and writes the response into `response` (which
  // should hold soft_rnic_max_datagram bytes; reads that would not fit are refused).
  // Returns the response's size, or 0 when nothing is to be sent.
  std::size_t handle(std::span<const std::byte> request, std::span<std::byte> response) {
    ++stats_.requests;
    if (response.size() < soft_rnic_max_header_size) return drop();
    const auto parsed = parse_soft_rnic_message(request);
    if (!parsed || is_response(parsed->opcode)) return drop();
    const soft_rnic_message& m = *parsed;

    auto it = sessions_.find(m.session);
    if (it == sessions_.end()) {
      // Only a connect opens a session; anything else is from a client whose state
      // was evicted (or a server that restarted), and it must not guess onwards.
      if (m.opcode != soft_rnic_opcode::connect)
        return nak(m, soft_rnic_syndrome::unknown_session, m.sequence, response);
      it = open_session(m.session);
    }
    session& s = it->second;
    s.last_active = ++tick_;

    const std::uint32_t ahead = m.sequence - s.expected;
    if (ahead == 0) return execute_in_order(s, m, response);
    if (ahead < 0x80000000U) {
      if (s.nak_sent) return drop();
      s.nak_sent = true;
      ++stats_.sequence_naks;
      return nak(m, soft_rnic_syndrome::sequence_error, s.expected, response);
    }
    const std::uint32_t behind = s.expected - m.sequence;
    const cached_response& slot = s.cache[m.sequence & (depth_ - 1)];
    if (behind > depth_ || !slot.valid || slot.sequence != m.sequence ||
        slot.bytes.size() > response.size())
      return drop();
    std::copy(slot.bytes.begin(), slot.bytes.end(), response.begin());
    ++stats_.replayed;
    return slot.bytes.size();
  }

 private:
  struct cached_response {
    bool valid = false;
    std::uint32_t sequence = 0;
    std::vector<std::byte> bytes;
  };
  struct session {
    std::uint32_t expected = 0;
    bool nak_sent = false;  // one sequence_error per gap, as an RC responder does
    std::uint64_t last_active = 0;
    std::vector<cached_response> cache;
  };

  std::size_t drop() noexcept {
    ++stats_.dropped;
    return 0;
  }

  std::unordered_map<std::uint64_t, session>::iterator open_session(std::uint64_t id) {
    if (sessions_.size() >= max_sessions_ && !sessions_.empty()) {
      // The least recently active client loses its state; its next request gets
      // unknown_session, which it reports as errc::unavailable.
      auto oldest = sessions_.begin();
      for (auto i = sessions_.begin(); i != sessions_.end(); ++i)
        if (i->second.last_active < oldest->second.last_active) oldest = i;
      sessions_.erase(oldest);
    }
    session s;
    s.cache.resize(depth_);
    return sessions_.emplace(id, std::move(s)).first;
  }

  std::size_t execute_in_order(session& s, const soft_rnic_message& m,
                               std::span<std::byte> response) {
    const std::size_t n = execute(m, response);
    cached_response& slot = s.cache[m.sequence & (depth_ - 1)];
    slot.valid = n != 0;
    slot.sequence = m.sequence;
    slot.bytes.assign(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(n));
    ++s.expected;
    s.nak_sent = false;
    ++stats_.executed;
    return n;
  }

  std::size_t nak(const soft_rnic_message& m, soft_rnic_syndrome why, std::uint32_t sequence,
                  std::span<std::byte> response) const noexcept {
    const soft_rnic_message r{.opcode = response_to(m.opcode),
                              .sequence = sequence,
                              .session = m.session,
                              .syndrome = why};
    return encode_soft_rnic_header(response, r).value_or(0);
  }

  static soft_rnic_syndrome syndrome_of(errc e) noexcept {
    switch (e) {
      case errc::ok:
        return soft_rnic_syndrome::ok;
      case errc::misaligned:
        return soft_rnic_syndrome::misaligned;
      default:
        return soft_rnic_syndrome::out_of_range;
    }
  }

  std::size_t execute(const soft_rnic_message& m, std::span<std::byte> response) {
    soft_rnic_message r{
        .opcode = response_to(m.opcode), .sequence = m.sequence, .session = m.session};
    if (m.opcode == soft_rnic_opcode::connect) {
      r.responder_depth = static_cast<std::uint16_t>(depth_);
      r.max_datagram = static_cast<std::uint16_t>(soft_rnic_max_datagram);
      return encode_soft_rnic_header(response, r).value_or(0);
    }
    const auto region = regions_.find(m.rkey);
    if (region == regions_.end())
      return nak(m, soft_rnic_syndrome::access_error, m.sequence, response);
    local_memory_region& memory = region->second;

    errc status = errc::ok;
    switch (m.opcode) {
      case soft_rnic_opcode::read: {
        const std::size_t room =
            std::min(response.size(), soft_rnic_max_datagram) - soft_rnic_ack_size;
        if (m.length > room)
          return nak(m, soft_rnic_syndrome::invalid_request, m.sequence, response);
        // Read straight into the response, after the header written below.
        const auto data = response.subspan(soft_rnic_ack_size, m.length);
        status = memory.read(m.offset, data);
        if (status == errc::ok) r.payload = data;
        break;
      }
      case soft_rnic_opcode::write:
        status = memory.write(m.offset, m.payload);
        break;
      case soft_rnic_opcode::fetch_add: {
        const auto old = memory.fetch_add(m.offset, m.operand);
        status = old.error();
        r.original = old.value_or(0);
        break;
      }
      default: {
        const auto old = memory.compare_swap(m.offset, m.operand, m.swap);
        status = old.error();
        r.original = old.value_or(0);
        break;
      }
    }
    if (status != errc::ok) return nak(m, syndrome_of(status), m.sequence, response);
    return encode_soft_rnic_header(response, r).value_or(0) + r.payload.size();
  }

  std::size_t depth_;
  std::size_t max_sessions_;
  std::uint64_t tick_ = 0;
  std::unordered_map<std::uint64_t, local_memory_region> regions_;
  std::unordered_map<std::uint64_t, session> sessions_;
  soft_rnic_responder_stats stats_;
};

}  // namespace innet::host::detail
