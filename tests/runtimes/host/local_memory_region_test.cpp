#include "innet/host/local_memory_region.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "conformance/memory_region_conformance.hpp"

TEST_CASE("local_memory_region passes the memory-region conformance suite") {
  std::vector<std::uint64_t> words(4096 / 8, 0);
  innet::host::local_memory_region region(words);
  innet::conformance::check_memory_region(region, "host::local_memory_region");
}

TEST_CASE("concurrent fetch_add loses no update") {
  std::vector<std::uint64_t> words(8, 0);
  innet::host::local_memory_region region(words);
  constexpr int threads = 4, adds = 50'000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < adds; ++i)
        (void)region.fetch_add(8, 1);
    });
  }
  for (auto& w : workers)
    w.join();
  CHECK(words[1] == std::uint64_t{threads} * adds);
}

TEST_CASE("the completion queue applies back-pressure instead of dropping") {
  std::vector<std::uint64_t> words(8, 0);
  innet::host::local_memory_region region(words);
  std::vector<innet::memory_op> ops(innet::host::local_memory_region::completion_capacity + 10,
                                    {.opcode = innet::memory_opcode::fetch_add, .operand = 1});
  CHECK(region.post(ops) == innet::host::local_memory_region::completion_capacity);
  std::vector<innet::memory_completion> out(ops.size());
  CHECK(region.poll(out) == innet::host::local_memory_region::completion_capacity);
  CHECK(region.post(std::span(ops).first(10)) == 10);
  CHECK(words[0] == ops.size());
}
