// The packet-port conformance suite (contract in core/packet_port.hpp).
//
// Every model of innet::packet_port runs these checks with two connected ends:
// what `tx` sends, `rx` receives. In-process rings, shared-memory rings, UDP
// sockets, DPDK ethdev (net_ring, af_packet on a veth pair) all pass the same
// assertions. Receiving polls a bounded number of times, yielding the CPU in
// between: progress is driven by the peer, never by a sleep.
//
// `max_frame` is the largest frame the model carries (its MTU plus headers).
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "innet/core/packet_port.hpp"

namespace innet::conformance {

// A frame whose bytes identify it: sequence number in the first 4 bytes, then a
// pattern derived from it, so reordering, truncation and corruption all show.
inline std::vector<std::byte> numbered_frame(std::uint32_t sequence, std::size_t length) {
  std::vector<std::byte> frame(length);
  for (std::size_t i = 0; i < length; ++i) {
    frame[i] = i < 4 ? static_cast<std::byte>(sequence >> (8 * (3 - i)))
                     : static_cast<std::byte>((sequence * 131 + i * 7) & 0xFF);
  }
  return frame;
}

// Sequence-numbered frames for volume tests, where numbered_frame's allocation per
// frame would dominate: frame `sequence` is 8 + sequence % 57 bytes long and holds
// the sequence number (host byte order), then bytes derived from it, so a lost,
// repeated, reordered, truncated or torn frame fails is_sequence_frame. These use
// no doctest macro, so a forked child process may call them too.
constexpr std::size_t sequence_frame_max = 64;

constexpr std::size_t sequence_frame_length(std::uint64_t sequence) {
  return 8 + sequence % 57;
}

// Writes frame `sequence` into the front of `storage`; returns that prefix.
inline std::span<const std::byte> fill_sequence_frame(
    std::uint64_t sequence, std::span<std::byte, sequence_frame_max> storage) {
  const std::size_t length = sequence_frame_length(sequence);
  std::memcpy(storage.data(), &sequence, sizeof sequence);
  for (std::size_t i = 8; i < length; ++i)
    storage[i] = static_cast<std::byte>(sequence + i);
  return storage.first(length);
}

inline bool is_sequence_frame(std::uint64_t sequence, std::span<const std::byte> frame) {
  if (frame.size() != sequence_frame_length(sequence)) return false;
  std::uint64_t got = 0;
  std::memcpy(&got, frame.data(), sizeof got);
  if (got != sequence) return false;
  for (std::size_t i = 8; i < frame.size(); ++i) {
    if (frame[i] != static_cast<std::byte>(sequence + i)) return false;
  }
  return true;
}

// Receives until `count` frames have arrived or `max_polls` rx_burst calls came
// back empty; copies each frame out, as the contract says a keeper must.
template <packet_port Port>
std::vector<std::vector<std::byte>> receive_frames(Port& rx, std::size_t count,
                                                   std::size_t max_polls = 2'000'000) {
  std::vector<std::vector<std::byte>> frames;
  std::array<packet_view, 32> views{};
  for (std::size_t empty = 0; frames.size() < count && empty < max_polls;) {
    const std::size_t n = rx.rx_burst(views);
    if (n == 0) {
      ++empty;
      std::this_thread::yield();
      continue;
    }
    REQUIRE(n <= views.size());
    for (std::size_t i = 0; i < n; ++i)
      frames.emplace_back(views[i].bytes.begin(), views[i].bytes.end());
  }
  return frames;
}

// Sends every frame, retrying the unaccepted tail a bounded number of times.
template <packet_port Port>
void send_frames(Port& tx, const std::vector<std::vector<std::byte>>& frames) {
  std::vector<std::span<const std::byte>> spans(frames.begin(), frames.end());
  std::size_t sent = 0;
  for (std::size_t attempt = 0; sent < spans.size() && attempt < 2'000'000; ++attempt) {
    const std::size_t n = tx.tx_burst(std::span(spans).subspan(sent));
    REQUIRE(n <= spans.size() - sent);
    sent += n;
    if (n == 0) std::this_thread::yield();
  }
  REQUIRE(sent == spans.size());
}

template <packet_port Tx, packet_port Rx>
void check_packet_port(Tx& tx, Rx& rx, const char* model, std::size_t max_frame) {
  INFO("packet-port model: " << doctest::String(model));
  REQUIRE(max_frame >= 64);

  SUBCASE("an idle port receives nothing and does not block") {
    std::array<packet_view, 8> views{};
    CHECK(rx.rx_burst(views) == 0);
    CHECK(rx.rx_burst(std::span<packet_view>{}) == 0);
    CHECK(tx.tx_burst(std::span<const std::span<const std::byte>>{}) == 0);
  }

  SUBCASE("frames arrive intact and in order, at every size up to max_frame") {
    std::vector<std::vector<std::byte>> frames;
    for (std::size_t length : {std::size_t{60}, std::size_t{64}, std::size_t{61}, max_frame / 2,
                               max_frame - 1, max_frame}) {
      frames.push_back(numbered_frame(static_cast<std::uint32_t>(frames.size()), length));
    }
    send_frames(tx, frames);
    CHECK(receive_frames(rx, frames.size()) == frames);
  }

  SUBCASE("bursts larger than the receiver's array are delivered across calls") {
    std::vector<std::vector<std::byte>> frames;
    for (std::uint32_t i = 0; i < 100; ++i)
      frames.push_back(numbered_frame(i, 64 + i));
    send_frames(tx, frames);
    CHECK(receive_frames(rx, frames.size()) == frames);
  }

  SUBCASE("a frame longer than max_frame is dropped, reported as sent, and the burst goes on") {
    const auto first = numbered_frame(1, 64);
    const auto too_long = numbered_frame(2, max_frame + 1);
    const auto last = numbered_frame(3, max_frame);
    // send_frames requires all three reported sent, retrying any unaccepted tail.
    send_frames(tx, {first, too_long, last});
    const std::vector<std::vector<std::byte>> expected{first, last};
    CHECK(receive_frames(rx, expected.size()) == expected);
  }

  SUBCASE("tx copies: the sender may reuse its buffer at once") {
    auto frame = numbered_frame(7, 128);
    const auto original = frame;
    const std::array<std::span<const std::byte>, 1> one{std::span<const std::byte>(frame)};
    std::size_t sent = 0;
    for (int attempt = 0; sent == 0 && attempt < 1'000'000; ++attempt)
      sent = tx.tx_burst(one);
    REQUIRE(sent == 1);
    std::fill(frame.begin(), frame.end(), std::byte{0xEE});
    const auto got = receive_frames(rx, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == original);
  }

  SUBCASE("received views stay valid until the next rx_burst") {
    std::vector<std::vector<std::byte>> frames;
    for (std::uint32_t i = 0; i < 8; ++i)
      frames.push_back(numbered_frame(100 + i, 200));
    send_frames(tx, frames);
    std::array<packet_view, 8> views{};
    std::size_t n = 0;
    for (int attempt = 0; n == 0 && attempt < 2'000'000; ++attempt) {
      n = rx.rx_burst(views);
      if (n == 0) std::this_thread::yield();
    }
    REQUIRE(n > 0);
    // More traffic in flight must not disturb the frames already lent out.
    send_frames(tx, {numbered_frame(999, 200)});
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(std::vector<std::byte>(views[i].bytes.begin(), views[i].bytes.end()) == frames[i]);
    }
    const auto rest = receive_frames(rx, frames.size() - n + 1);
    CHECK(rest.size() == frames.size() - n + 1);
  }
}

}  // namespace innet::conformance
