// sketch_fragment_loader: user space of the XDP Count-Min fragment
// (programs/sketch_fragment.bpf.cpp, layout in innet/ebpf/sketch_fragment.hpp).
//
//   auto fragment = sketch_fragment_loader::load(INNET_EBPF_SKETCH_FRAGMENT_OBJECT, seed);
//   auto attachment = fragment->attach(ifindex, xdp_mode::native);   // or executor().run_packet()
//   ...
//   absl::StatusOr<sketch::count_min<u32>> epoch = fragment->end_epoch();   // every epoch
//   epoch->estimate(make_hash_family(tuple.to_bytes(), seed));
//
// load() loads the object through a kernel_executor (which owns it: the executor's
// test runs and an attachment of its program's descriptor update the same maps), writes
// the seed of bank 0 into sketch_config, and zeroes both banks and the stats. Only the XDP
// program is loaded.
//
// Epochs. end_epoch(next_seed) makes the program count into the other bank (with
// next_seed, by default the current seed), waits for an RCU grace period, then reads the
// bank that was counted into and zeroes it for the epoch after next. XDP programs run
// inside RCU read-side sections, so once the grace period has passed no run that read the
// old bank number is still adding to it: the sketch returned holds exactly the frames
// counted before the flip, and a frame counted after it is in the next epoch, never lost
// or split. The grace period comes from the kernel's own guarantee for map-in-map
// updates (an update of a BPF_MAP_TYPE_ARRAY_OF_MAPS from a system call returns only
// after synchronize_rcu(), so that user space knows no program still uses the old inner
// map): the loader keeps a one-entry ARRAY_OF_MAPS for that and rewrites its entry.
//
// configure(seed) is end_epoch(seed) with the epoch's counters dropped: the fragment
// never holds counts made under two seeds in one bank.
//
// read_sketch() copies the bank being counted into, live: each counter's value at the
// moment it was copied, so a key's rows may be seen mid-update. It is exact only when no
// frames arrive (e.g. after test runs); a collector uses end_epoch(). total_weight of
// a sketch read is the sum of row 0, which for standard Count-Min with weight 1 per frame
// is the number of counted frames in it.
//
// The stats are per CPU in the map and summed here; they accumulate across epochs.
// reset() zeroes both banks and the stats: exact only when no frames arrive (the map
// update is a copy, which can overwrite a concurrent add).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

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
    absl::StatusOr<grace_period> sync = grace_period::create();
    if (!sync.ok()) return sync.status();
    sketch_fragment_loader loader(std::move(*executor), std::move(*sync), seed);
    for (const char* map :
         {sketch_fragment_config_map, sketch_fragment_counters_map, sketch_fragment_stats_map}) {
      absl::StatusOr<int> fd = loader.executor_.object().map_fd(map);
      if (!fd.ok()) return fd.status();
    }
    if (absl::Status s = loader.write_config(); !s.ok()) return s;
    if (absl::Status s = loader.reset(); !s.ok()) return s;
    return loader;
  }

  // Ends the epoch: frames from now on are counted in the other bank, under next_seed;
  // returns the sketch of every frame counted since the previous end_epoch (or load),
  // with the seed it was counted under, and leaves that bank zeroed. See the file comment.
  // An error part-way (a failed system call) can leave the idle bank unzeroed: reset()
  // while no frames arrive restores the invariants.
  absl::StatusOr<sketch::count_min<std::uint32_t>> end_epoch(std::uint64_t next_seed) {
    const std::uint32_t old_bank = config_.bank;
    const std::uint32_t new_bank = old_bank ^ 1;
    // Two updates, one field each: the idle bank's seed (no frame reads it: the last
    // run that used this bank ended before the previous end_epoch returned), then the
    // bank number.
    if (config_.seeds[new_bank] != next_seed) {
      config_.seeds[new_bank] = next_seed;
      if (absl::Status s = write_config(); !s.ok()) return s;
    }
    config_.bank = new_bank;
    if (absl::Status s = write_config(); !s.ok()) {
      config_.bank = old_bank;
      return s;
    }
    if (absl::Status s = sync_.wait(); !s.ok()) return s;
    absl::StatusOr<sketch::count_min<std::uint32_t>> sketch = read_bank(old_bank);
    if (!sketch.ok()) return sketch.status();
    if (absl::Status s = zero_bank(old_bank); !s.ok()) return s;
    return sketch;
  }
  absl::StatusOr<sketch::count_min<std::uint32_t>> end_epoch() { return end_epoch(seed()); }

  // Switches to `seed` for the frames from now on and drops the counts made under the old
  // one (end_epoch with its result discarded), so no bank mixes two seeds.
  absl::Status configure(std::uint64_t seed) { return end_epoch(seed).status(); }

  // Zeroes both banks and the stats. Exact only while no frames arrive (before attaching,
  // between test runs): a concurrent add can be overwritten.
  absl::Status reset() {
    for (std::uint32_t bank = 0; bank < sketch_fragment_bank_count; ++bank) {
      if (absl::Status s = zero_bank(bank); !s.ok()) return s;
    }
    const std::vector<std::uint64_t> zero(possible_cpus_, 0);
    for (std::uint32_t slot = 0; slot < sketch_fragment_stat_count; ++slot) {
      if (absl::Status s =
              write(sketch_fragment_stats_map, slot, zero.data(), zero.size() * sizeof zero[0]);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Attaches the program to an interface until the attachment is destroyed.
  absl::StatusOr<xdp_attachment> attach(int ifindex, xdp_mode mode) const {
    return xdp_attachment::attach(executor_.fd(), ifindex, mode);
  }

  // The bank being counted into, live, as a run-time sketch with the fragment's depth,
  // width and seed (see the file comment: exact only while no frames arrive).
  absl::StatusOr<sketch::count_min<std::uint32_t>> read_sketch() const {
    return read_bank(config_.bank);
  }

  // The stats, summed over CPUs.
  absl::StatusOr<sketch_fragment_stats> read_stats() const {
    sketch_fragment_stats stats;
    std::vector<std::uint64_t> per_cpu(possible_cpus_);
    for (std::uint32_t slot = 0; slot < sketch_fragment_stat_count; ++slot) {
      if (absl::Status s = read(sketch_fragment_stats_map, slot, per_cpu.data(),
                                per_cpu.size() * sizeof per_cpu[0]);
          !s.ok()) {
        return s;
      }
      stats.slots[slot] = std::accumulate(per_cpu.begin(), per_cpu.end(), std::uint64_t{0});
    }
    return stats;
  }

  // The program, e.g. for BPF_PROG_TEST_RUN of one frame with run_packet() (the verdict
  // is always XDP_PASS).
  const kernel_executor& executor() const noexcept { return executor_; }
  // The seed of the bank being counted into.
  std::uint64_t seed() const noexcept { return config_.seeds[config_.bank]; }
  std::uint32_t bank() const noexcept { return config_.bank; }

 private:
  // Waits for an RCU grace period: rewriting the entry of a map-in-map from a system call
  // returns only after synchronize_rcu() (kernel/bpf/syscall.c, maybe_wait_bpf_programs),
  // a guarantee the kernel gives so that user space knows no program still uses the old
  // inner map. The outer map and its inner map belong to this object, not to the program.
  class grace_period {
   public:
    static absl::StatusOr<grace_period> create() {
      grace_period g;
      g.inner_ = ::bpf_map_create(BPF_MAP_TYPE_ARRAY, "innet_rcu_inner", sizeof(std::uint32_t),
                                  sizeof(std::uint32_t), 1, nullptr);
      if (g.inner_ < 0) return errno_status(-g.inner_, "creating the grace-period inner map");
      ::bpf_map_create_opts opts{};
      opts.sz = sizeof opts;
      opts.inner_map_fd = static_cast<std::uint32_t>(g.inner_);
      g.outer_ = ::bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "innet_rcu_sync",
                                  sizeof(std::uint32_t), sizeof(std::uint32_t), 1, &opts);
      if (g.outer_ < 0) return errno_status(-g.outer_, "creating the grace-period map");
      return g;
    }
    grace_period(grace_period&& other) noexcept
        : inner_(std::exchange(other.inner_, -1)), outer_(std::exchange(other.outer_, -1)) {}
    grace_period& operator=(grace_period&& other) noexcept {
      std::swap(inner_, other.inner_);
      std::swap(outer_, other.outer_);
      return *this;
    }
    ~grace_period() {
      if (outer_ >= 0) ::close(outer_);
      if (inner_ >= 0) ::close(inner_);
    }

    absl::Status wait() const {
      const std::uint32_t key = 0;
      const std::uint32_t value = static_cast<std::uint32_t>(inner_);
      if (::bpf_map_update_elem(outer_, &key, &value, BPF_ANY) != 0) {
        return errno_status(errno, "waiting for an RCU grace period");
      }
      return absl::OkStatus();
    }

   private:
    grace_period() = default;
    static absl::Status errno_status(int error, absl::string_view what) {
      return absl::ErrnoToStatus(error, absl::StrCat("sketch_fragment_loader: ", what));
    }
    int inner_ = -1;
    int outer_ = -1;
  };

  sketch_fragment_loader(kernel_executor executor, grace_period sync, std::uint64_t seed)
      : executor_(std::move(executor)),
        sync_(std::move(sync)),
        config_{{seed, seed}, 0, 0},
        possible_cpus_(static_cast<std::size_t>(std::max(1, ::libbpf_num_possible_cpus()))) {}

  absl::Status write_config() {
    return write(sketch_fragment_config_map, 0, &config_, sizeof config_);
  }

  absl::Status zero_bank(std::uint32_t bank) {
    const auto zero = std::make_unique<sketch_fragment_counters>();  // value-initialised
    return write(sketch_fragment_counters_map, bank, zero.get(), sizeof *zero);
  }

  absl::StatusOr<sketch::count_min<std::uint32_t>> read_bank(std::uint32_t bank) const {
    const auto value = std::make_unique<sketch_fragment_counters>();
    if (absl::Status s = read(sketch_fragment_counters_map, bank, value.get(), sizeof *value);
        !s.ok()) {
      return s;
    }
    const std::span<const std::uint32_t> counters(value->counters);
    const auto row0 = counters.first(sketch_fragment_width);
    const std::uint64_t total = std::accumulate(row0.begin(), row0.end(), std::uint64_t{0});
    return sketch::count_min<std::uint32_t>::from_counters(
        sketch_fragment_depth, sketch_fragment_width, config_.seeds[bank], counters, total);
  }

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
  grace_period sync_;
  sketch_fragment_config config_;  // what the map holds: only this object writes it
  std::size_t possible_cpus_;      // per-CPU map values hold one u64 per possible CPU
};

}  // namespace innet::ebpf
