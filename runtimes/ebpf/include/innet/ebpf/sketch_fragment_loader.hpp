// sketch_fragment_loader: user space of the XDP Count-Min fragment
// (programs/sketch_fragment.bpf.cpp, layout in innet/ebpf/sketch_fragment.hpp).
//
//   auto fragment = sketch_fragment_loader::load(INNET_EBPF_SKETCH_FRAGMENT_OBJECT, seed);
//   auto attachment = fragment->attach(ifindex, xdp_mode::native);   // or run_packet()
//   ...
//   absl::StatusOr<sketch::count_min<u32>> sketch = fragment->read_sketch();
//   sketch->estimate(make_hash_family(tuple.to_bytes(), seed));
//
// load() loads the object through a kernel_executor (which owns it: the executor's
// test runs and an attachment of its program's descriptor update the same maps), writes
// the seed into sketch_config, and zeroes the counters and stats. Only the XDP program
// is loaded.
//
// Reading while packets arrive gives each counter's value at the moment it was copied:
// a key's rows may be seen mid-update, so a collector that needs an exact cut detaches
// (or drains) first. total_weight of the sketch read is the sum of row 0, which for
// standard Count-Min with weight 1 per frame is the number of counted frames reflected
// in the counters that were read.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "innet/ebpf/kernel_executor.hpp"
#include "innet/ebpf/sketch_fragment.hpp"
#include "innet/ebpf/xdp_attachment.hpp"
#include "innet/sketch/count_min.hpp"

namespace innet::ebpf {

// Frames seen by the program, one count per sketch_fragment_stat.
struct sketch_fragment_stats {
  std::array<std::uint64_t, sketch_fragment_stat_count> slots{};

  std::uint64_t operator[](sketch_fragment_stat s) const noexcept {
    return slots[static_cast<std::uint32_t>(s)];
  }
  std::uint64_t total() const noexcept {
    return std::accumulate(slots.begin(), slots.end(), std::uint64_t{0});
  }
};

class sketch_fragment_loader {
 public:
  static absl::StatusOr<sketch_fragment_loader> load(const std::string& object_path,
                                                     std::uint64_t seed) {
    absl::StatusOr<kernel_executor> executor =
        kernel_executor::load({.path = object_path, .program = sketch_fragment_program_name});
    if (!executor.ok()) return executor.status();
    sketch_fragment_loader loader(std::move(*executor), seed);
    for (const char* map :
         {sketch_fragment_config_map, sketch_fragment_counters_map, sketch_fragment_stats_map}) {
      absl::StatusOr<int> fd = loader.executor_.object().map_fd(map);
      if (!fd.ok()) return fd.status();
    }
    if (absl::Status s = loader.configure(seed); !s.ok()) return s;
    if (absl::Status s = loader.reset(); !s.ok()) return s;
    return loader;
  }

  // Writes the seed the program hashes with (takes effect for the next frame).
  absl::Status configure(std::uint64_t seed) {
    const sketch_fragment_config config{seed};
    if (absl::Status s = write(sketch_fragment_config_map, 0, &config, sizeof config); !s.ok()) {
      return s;
    }
    seed_ = seed;
    return absl::OkStatus();
  }

  // Zeroes the counters and the stats, e.g. at the end of a (sub-)epoch after reading.
  absl::Status reset() {
    const auto zero = std::make_unique<sketch_fragment_counters>();  // value-initialised
    if (absl::Status s = write(sketch_fragment_counters_map, 0, zero.get(), sizeof *zero);
        !s.ok()) {
      return s;
    }
    for (std::uint32_t slot = 0; slot < sketch_fragment_stat_count; ++slot) {
      const std::uint64_t value = 0;
      if (absl::Status s = write(sketch_fragment_stats_map, slot, &value, sizeof value); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Attaches the program to an interface until the attachment is destroyed.
  absl::StatusOr<xdp_attachment> attach(int ifindex, xdp_mode mode) const {
    return xdp_attachment::attach(executor_.fd(), ifindex, mode);
  }

  // The counters as a run-time sketch with the fragment's depth, width and seed.
  absl::StatusOr<sketch::count_min<std::uint32_t>> read_sketch() const {
    const auto value = std::make_unique<sketch_fragment_counters>();
    if (absl::Status s = read(sketch_fragment_counters_map, 0, value.get(), sizeof *value);
        !s.ok()) {
      return s;
    }
    const std::span<const std::uint32_t> counters(value->counters);
    const auto row0 = counters.first(sketch_fragment_width);
    const std::uint64_t total = std::accumulate(row0.begin(), row0.end(), std::uint64_t{0});
    return sketch::count_min<std::uint32_t>::from_counters(
        sketch_fragment_depth, sketch_fragment_width, seed_, counters, total);
  }

  absl::StatusOr<sketch_fragment_stats> read_stats() const {
    sketch_fragment_stats stats;
    for (std::uint32_t slot = 0; slot < sketch_fragment_stat_count; ++slot) {
      if (absl::Status s =
              read(sketch_fragment_stats_map, slot, &stats.slots[slot], sizeof stats.slots[slot]);
          !s.ok()) {
        return s;
      }
    }
    return stats;
  }

  // BPF_PROG_TEST_RUN of the program over one frame (the verdict is always XDP_PASS).
  const kernel_executor& executor() const noexcept { return executor_; }
  std::uint64_t seed() const noexcept { return seed_; }

 private:
  sketch_fragment_loader(kernel_executor executor, std::uint64_t seed)
      : executor_(std::move(executor)), seed_(seed) {}

  absl::Status write(const char* map, std::uint32_t key, const void* value,
                     std::size_t size) const {
    return access(map, key, const_cast<void*>(value), size, true);
  }
  absl::Status read(const char* map, std::uint32_t key, void* value, std::size_t size) const {
    return access(map, key, value, size, false);
  }

  absl::Status access(const char* name, std::uint32_t key, void* value, std::size_t size,
                      bool write) const {
    ::bpf_map* map = ::bpf_object__find_map_by_name(executor_.object().get(), name);
    if (map == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("BPF object ", executor_.object().path(), " has no map '", name, "'"));
    }
    // libbpf checks the key and value sizes against the map's (EINVAL on mismatch).
    const int error = write ? -::bpf_map__update_elem(map, &key, sizeof key, value, size, BPF_ANY)
                            : -::bpf_map__lookup_elem(map, &key, sizeof key, value, size, 0);
    if (error == 0) return absl::OkStatus();
    return absl::ErrnoToStatus(
        error, absl::StrCat("sketch_fragment_loader: ", write ? "writing" : "reading", " map '",
                            name, "' entry ", key));
  }

  kernel_executor executor_;
  std::uint64_t seed_;
};

}  // namespace innet::ebpf
