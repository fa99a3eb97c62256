// One-sided RDMA against a peer's memory with innet::rdma: a server exposes 4 KiB,
// a client writes a greeting into it, bumps a counter with fetch_add and reads both
// back, without the server's CPU taking part.
//
//   rdma_region server [--address A] [--port P] [--clients N]
//   rdma_region client --address A [--port P]
//
// The server listens on A (default: every address) and port P (default 7471),
// serves N clients one after another (default: until killed) and prints the
// region's first bytes after each one leaves. Run it on a machine with an RDMA NIC,
// or with Soft-RoCE: `modprobe rdma_rxe && rdma link add rxe0 type rxe netdev eth0`.
// Without a device both modes stop at once with a message saying so.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "innet/rdma/region_server.hpp"
#include "innet/rdma/remote_region.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t greeting_offset = 0;
constexpr std::uint64_t counter_offset = 64;  // 8-byte aligned, as atomics need

struct arguments {
  std::string mode;
  std::string address;
  std::uint16_t port = 7471;
  long clients = -1;  // forever
};

int usage() {
  std::fprintf(stderr,
               "usage: rdma_region server [--address A] [--port P] [--clients N]\n"
               "       rdma_region client --address A [--port P]\n");
  return 2;
}

bool parse(int argc, char** argv, arguments& args) {
  if (argc < 2) return false;
  args.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--address") {
      args.address = value;
    } else if (flag == "--port") {
      args.port = static_cast<std::uint16_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--clients") {
      args.clients = std::strtol(value, nullptr, 10);
    } else {
      return false;
    }
  }
  return argc % 2 == 0 &&
         (args.mode == "server" || (args.mode == "client" && !args.address.empty()));
}

int fail(const absl::Status& s) {
  std::fprintf(stderr, "rdma_region: %s\n", s.ToString().c_str());
  return 1;
}

int run_server(const arguments& args) {
  std::vector<std::uint64_t> words(4096 / 8, 0);
  auto server = innet::rdma::region_server::create(
      words, {.address = args.address.empty() ? "0.0.0.0" : args.address, .port = args.port});
  if (!server.ok()) return fail(server.status());
  // The line a script waits for before starting a client; flushed at once.
  std::printf("listening on port %u: %zu bytes on %s, rkey 0x%08x\n", server->port(),
              words.size() * 8, std::string(server->device_name()).c_str(),
              server->descriptor().rkey);
  std::fflush(stdout);
  for (long served = 0; args.clients < 0 || served < args.clients; ++served) {
    absl::Status s;
    do {
      s = server->accept(60s);
    } while (absl::IsDeadlineExceeded(s));
    if (!s.ok()) return fail(s);
    std::printf("client %ld connected\n", served + 1);
    std::fflush(stdout);
    do {
      s = server->wait_for_disconnect(60s);
    } while (absl::IsDeadlineExceeded(s));
    if (!s.ok()) return fail(s);
    char text[33] = {};
    std::memcpy(text, words.data(), 32);
    std::printf("client %ld left; the region holds \"%s\" and counter %llu\n", served + 1, text,
                static_cast<unsigned long long>(words[counter_offset / 8]));
    std::fflush(stdout);
  }
  return 0;
}

int run_client(const arguments& args) {
  auto region = innet::rdma::remote_region::connect({.address = args.address, .port = args.port});
  if (!region.ok()) return fail(region.status());
  std::printf("connected to %s:%u: %llu bytes\n", args.address.c_str(), args.port,
              static_cast<unsigned long long>(region->size()));

  const std::string_view greeting = "hello over one-sided RDMA";
  if (const auto e = region->write(greeting_offset, std::as_bytes(std::span(greeting)));
      e != innet::errc::ok)
    return fail(innet::to_status(e, "write"));
  const auto old = region->fetch_add(counter_offset, 1);
  if (!old.ok()) return fail(innet::to_status(old.error(), "fetch_add"));
  char text[33] = {};
  std::uint64_t counter = 0;
  if (const auto e = region->read(greeting_offset, std::as_writable_bytes(std::span(text, 32)));
      e != innet::errc::ok)
    return fail(innet::to_status(e, "read"));
  if (const auto e = region->read(counter_offset, std::as_writable_bytes(std::span(&counter, 1)));
      e != innet::errc::ok)
    return fail(innet::to_status(e, "read"));
  std::printf("wrote \"%.*s\"; fetch_add(counter, 1) returned %llu\n",
              static_cast<int>(greeting.size()), greeting.data(),
              static_cast<unsigned long long>(*old));
  std::printf("read back \"%s\" and counter %llu\n", text,
              static_cast<unsigned long long>(counter));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  if (!parse(argc, argv, args)) return usage();
  return args.mode == "server" ? run_server(args) : run_client(args);
}
