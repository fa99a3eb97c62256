// The memory-region conformance suite (contract in core/memory_region.hpp).
//
// Every model of innet::memory_region runs these checks: the host runtime's local
// region, its software RNIC, ibverbs over Soft-RoCE, CUDA device memory. A model
// passes the same assertions or it is not a memory region.
//
// `region` must be at least 4 KiB and zero-filled; `model` names it in failures.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "innet/core/memory_region.hpp"

namespace innet::conformance {

template <memory_region R>
void check_memory_region(R& region, const char* model) {
  INFO("memory-region model: " << doctest::String(model));
  const std::uint64_t size = region.size();
  REQUIRE(size >= 4096);

  SUBCASE("write then read returns the bytes, at any offset and length") {
    std::vector<std::byte> pattern(301);
    for (std::size_t i = 0; i < pattern.size(); ++i)
      pattern[i] = static_cast<std::byte>(i * 7 + 1);
    REQUIRE(region.write(13, pattern) == errc::ok);
    std::vector<std::byte> back(pattern.size());
    REQUIRE(region.read(13, back) == errc::ok);
    CHECK(back == pattern);
    // Neighbours untouched.
    std::array<std::byte, 1> edge{};
    REQUIRE(region.read(12, edge) == errc::ok);
    CHECK(edge[0] == std::byte{0});
    REQUIRE(region.read(13 + pattern.size(), edge) == errc::ok);
    CHECK(edge[0] == std::byte{0});
  }

  SUBCASE("out-of-bounds operations fail and touch nothing") {
    std::array<std::byte, 16> buf{};
    buf.fill(std::byte{0xAB});
    CHECK(region.write(size - 8, buf) == errc::out_of_range);
    CHECK(region.read(size - 8, buf) == errc::out_of_range);
    CHECK(region.read(size + 1, std::span(buf).first(0)) == errc::out_of_range);
    CHECK(region.write(~std::uint64_t{0}, buf) == errc::out_of_range);
    std::array<std::byte, 8> tail{};
    REQUIRE(region.read(size - 8, tail) == errc::ok);
    CHECK(tail == std::array<std::byte, 8>{});
    CHECK(region.fetch_add(size, 1).error() == errc::out_of_range);
    CHECK(region.compare_swap(size, 0, 1).error() == errc::out_of_range);
    CHECK(region.read(size, std::span(buf).first(0)) == errc::ok);  // empty read at the end
  }

  SUBCASE("atomics need 8-byte alignment") {
    CHECK(region.fetch_add(4, 1).error() == errc::misaligned);
    CHECK(region.compare_swap(12, 0, 1).error() == errc::misaligned);
  }

  SUBCASE("fetch_add returns the old value and wraps modulo 2^64") {
    auto r = region.fetch_add(64, 5);
    REQUIRE(r.ok());
    CHECK(*r == 0);
    r = region.fetch_add(64, ~std::uint64_t{0});  // adds -1
    REQUIRE(r.ok());
    CHECK(*r == 5);
    CHECK(*region.fetch_add(64, 0) == 4);
    // The word is host-endian in memory.
    std::array<std::byte, 8> raw{};
    REQUIRE(region.read(64, raw) == errc::ok);
    std::uint64_t v = 0;
    std::memcpy(&v, raw.data(), 8);
    CHECK(v == 4);
  }

  SUBCASE("compare_swap swaps only on a match and always returns the old value") {
    auto r = region.compare_swap(128, 1, 99);  // word is 0: no swap
    REQUIRE(r.ok());
    CHECK(*r == 0);
    r = region.compare_swap(128, 0, 99);
    REQUIRE(r.ok());
    CHECK(*r == 0);
    CHECK(*region.compare_swap(128, 99, 7) == 99);
    CHECK(*region.fetch_add(128, 0) == 7);
  }

  if constexpr (batched_memory_region<R>) {
    SUBCASE("posted operations complete in order with their ids and results") {
      std::array<std::byte, 8> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                    std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};
      std::array<std::byte, 8> back{};
      const std::array<memory_op, 5> ops{{
          {.id = 10, .opcode = memory_opcode::write, .offset = 256, .local = data},
          {.id = 11, .opcode = memory_opcode::read, .offset = 256, .local = back},
          {.id = 12, .opcode = memory_opcode::fetch_add, .offset = 512, .operand = 3},
          {.id = 13, .opcode = memory_opcode::compare_swap, .offset = 512, .operand = 3, .swap = 9},
          {.id = 14, .opcode = memory_opcode::read, .offset = size, .local = back},
      }};
      std::size_t posted = 0;
      std::vector<memory_completion> done;
      // Post and poll until everything has completed; a bounded number of rounds.
      for (int round = 0; round < 1000 && done.size() < ops.size(); ++round) {
        posted += region.post(std::span(ops).subspan(posted));
        std::array<memory_completion, 4> out{};
        const std::size_t n = region.poll(out);
        done.insert(done.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      }
      REQUIRE(done.size() == ops.size());
      for (std::size_t i = 0; i < ops.size(); ++i)
        CHECK(done[i].id == ops[i].id);
      CHECK(done[0].status == errc::ok);
      CHECK(back == data);
      CHECK(done[2].old_value == 0);
      CHECK(done[3].status == errc::ok);
      CHECK(done[3].old_value == 3);
      CHECK(*region.fetch_add(512, 0) == 9);
      CHECK(done[4].status == errc::out_of_range);
    }

    SUBCASE("an opcode outside the enum completes as unsupported and touches nothing") {
      const std::array<memory_op, 1> bogus{
          {{.id = 77, .opcode = static_cast<memory_opcode>(200), .offset = 0, .operand = 1}}};
      std::size_t posted = 0;
      memory_completion done{};
      std::size_t reaped = 0;
      for (int round = 0; round < 1000 && reaped == 0; ++round) {
        if (posted == 0) posted = region.post(bogus);
        reaped = region.poll(std::span(&done, 1));
      }
      REQUIRE(reaped == 1);
      CHECK(done.id == 77);
      CHECK(done.status == errc::unsupported);
      CHECK(*region.fetch_add(0, 0) == 0);
    }
  }
}

}  // namespace innet::conformance
