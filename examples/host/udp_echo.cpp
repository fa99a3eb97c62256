// A UDP echo over the host runtime's udp_port, on 127.0.0.1.
//
// A server thread receives bursts and sends each frame straight back (the views it
// receives go to tx_burst, which copies them out before the next rx_burst). The
// client keeps up to `window` frames in flight, so that it never overruns the
// server's receive queue, and checks every echo against what it sent:
//
//   $ host_udp_echo
//   server 127.0.0.1:40000, client 127.0.0.1:40001
//   client: 50000 sent, 50000 echoed intact, 0 bad, 0 lost; 0.60 s, 0.08 Mframes/s round trip
//   server: 50000 received, 50000 echoed, 0 dropped as oversize
//
// UDP may drop: if nothing comes back for `patience`, the client stops and counts
// what is still out as lost rather than wait for it. Exit status 0 when no echo
// came back corrupted.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include "innet/host/udp_port.hpp"

namespace {

constexpr std::uint64_t frame_count = 50'000;
constexpr std::size_t frame_size = 256;
constexpr std::size_t burst = 32;
constexpr std::uint64_t window = 512;
constexpr auto patience = std::chrono::milliseconds(200);

void serve(innet::host::udp_port& server, const std::atomic<bool>& stop) {
  std::array<innet::packet_view, burst> views{};
  std::array<std::span<const std::byte>, burst> spans{};
  while (!stop.load(std::memory_order_relaxed)) {
    const std::size_t n = server.rx_burst(views);
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    for (std::size_t i = 0; i < n; ++i)
      spans[i] = views[i].bytes;
    for (std::size_t sent = 0; sent < n && !stop.load(std::memory_order_relaxed);) {
      sent += server.tx_burst(std::span(spans).subspan(sent, n - sent));
    }
  }
}

std::string text(const innet::host::udp_endpoint& e) {
  return e.address + ":" + std::to_string(e.port);
}

}  // namespace

int main() {
  auto server = innet::host::udp_port::open(
      {.local = {"127.0.0.1", 0}, .max_frame = frame_size, .receive_buffer_bytes = 1 << 20});
  auto client = innet::host::udp_port::open(
      {.local = {"127.0.0.1", 0}, .max_frame = frame_size, .receive_buffer_bytes = 1 << 20});
  if (!server.ok() || !client.ok()) {
    std::fprintf(stderr, "%s\n", (server.ok() ? client : server).status().ToString().c_str());
    return 1;
  }
  const auto server_address = server->local_endpoint();
  const auto client_address = client->local_endpoint();
  if (!server_address.ok() || !client_address.ok()) return 1;
  if (auto s = client->connect(*server_address); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  if (auto s = server->connect(*client_address); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("server %s, client %s\n", text(*server_address).c_str(),
              text(*client_address).c_str());

  std::atomic<bool> stop{false};
  std::thread server_thread([&] { serve(*server, stop); });

  // Frame i carries i in its first 8 bytes and i's low byte everywhere else.
  std::array<std::array<std::byte, frame_size>, burst> frames{};
  std::array<std::span<const std::byte>, burst> spans{};
  std::array<innet::packet_view, burst> views{};
  std::uint64_t sent = 0, echoed = 0, bad = 0;
  auto last_progress = std::chrono::steady_clock::now();
  const auto start = last_progress;
  while (echoed + bad < frame_count) {
    const std::uint64_t in_flight = sent - echoed - bad;
    const std::uint64_t room = std::min(window - std::min(window, in_flight), frame_count - sent);
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(burst, room));
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t sequence = sent + i;
      frames[i].fill(static_cast<std::byte>(sequence));
      std::memcpy(frames[i].data(), &sequence, sizeof sequence);
      spans[i] = frames[i];
    }
    sent += client->tx_burst(std::span(spans).first(n));

    const std::size_t got = client->rx_burst(views);
    for (std::size_t i = 0; i < got; ++i) {
      const std::span<const std::byte> frame = views[i].bytes;
      std::uint64_t sequence = 0;
      bool intact = frame.size() == frame_size;
      if (intact) std::memcpy(&sequence, frame.data(), sizeof sequence);
      for (std::size_t j = sizeof sequence; intact && j < frame.size(); ++j)
        intact = frame[j] == static_cast<std::byte>(sequence);
      ++(intact ? echoed : bad);
    }
    if (got > 0) {
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_progress > patience) {
      break;
    }
  }
  const std::uint64_t lost = sent - echoed - bad;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop.store(true);
  server_thread.join();

  const auto s = server->stats();
  std::printf(
      "client: %llu sent, %llu echoed intact, %llu bad, %llu lost; %.2f s, %.2f Mframes/s round "
      "trip\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(echoed),
      static_cast<unsigned long long>(bad), static_cast<unsigned long long>(lost), seconds,
      echoed / seconds / 1e6);
  std::printf("server: %llu received, %llu echoed, %llu dropped as oversize\n",
              static_cast<unsigned long long>(s.rx_packets),
              static_cast<unsigned long long>(s.tx_packets),
              static_cast<unsigned long long>(s.rx_dropped));
  return bad == 0 ? 0 : 1;
}
