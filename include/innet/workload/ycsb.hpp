// YCSB core workloads A-F as a request stream, reproducible from a seed.
//
// Benchmarks in the literature quote YCSB workloads by letter, so the point of this header is to
// reproduce what YCSB's CoreWorkload would ask of a store, not to invent a similar mix. It follows
// CoreWorkload (site.ycsb.workloads) and the shipped workloads/workloada..f property files:
//
//   * the operation is chosen like DiscreteGenerator: one uniform double walked through the
//     normalised proportions in the order read, update, insert, scan, read-modify-write;
//   * keys for "zipfian" come from a scrambled_zipfian_generator over
//     record_count + expected_new_keys + 1 keys, where expected_new_keys =
//     (u64)(operation_count * insert_proportion * 2) (YCSB's "fudge factor" of 2), and a key not
//     inserted yet is redrawn; sizing the space up front keeps the hashed hot keys stable as the
//     table grows;
//   * "uniform" keys are drawn over the initial record_count only (YCSB's UniformLongGenerator
//     on [insertstart, insertstart + insertcount - 1]), so inserted keys are never read back;
//   * "latest" keys come from a skewed_latest_generator that follows the newest inserted key;
//   * inserts take the next key of the insert sequence (record_count, record_count + 1, ...),
//     which makes it readable at once, as YCSB's AcknowledgedCounterGenerator does with one
//     client thread;
//   * scan lengths are uniform in [min_scan_length, max_scan_length].
//
// Keys are YCSB key numbers; YCSB turns them into "user" + hash strings, which a caller can do
// if it needs string keys. Generating a request allocates nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "innet/core/random.hpp"
#include "innet/workload/zipfian.hpp"

namespace innet::workload {

enum class ycsb_op : std::uint8_t { read, update, insert, scan, read_modify_write };

// YCSB's requestdistribution values that the core workloads use.
enum class ycsb_distribution : std::uint8_t { zipfian, uniform, latest };

struct ycsb_workload_spec {
  double read_proportion = 0.0;
  double update_proportion = 0.0;
  double insert_proportion = 0.0;
  double scan_proportion = 0.0;
  double read_modify_write_proportion = 0.0;
  ycsb_distribution request_distribution = ycsb_distribution::zipfian;
  std::uint64_t record_count = 1000;     // recordcount in workloads/workload*
  std::uint64_t operation_count = 1000;  // operationcount; sizes the zipfian key space
  std::uint32_t min_scan_length = 1;     // CoreWorkload default
  std::uint32_t max_scan_length = 1000;  // CoreWorkload default; workload E sets 100
  double zipfian_constant = zipfian_generator::ycsb_zipfian_constant;

  // Update heavy: session store recording recent actions.
  static constexpr ycsb_workload_spec a() noexcept {
    ycsb_workload_spec s;
    s.read_proportion = 0.5;
    s.update_proportion = 0.5;
    return s;
  }
  // Read mostly: photo tagging.
  static constexpr ycsb_workload_spec b() noexcept {
    ycsb_workload_spec s;
    s.read_proportion = 0.95;
    s.update_proportion = 0.05;
    return s;
  }
  // Read only: user profile cache.
  static constexpr ycsb_workload_spec c() noexcept {
    ycsb_workload_spec s;
    s.read_proportion = 1.0;
    return s;
  }
  // Read latest: user status updates.
  static constexpr ycsb_workload_spec d() noexcept {
    ycsb_workload_spec s;
    s.read_proportion = 0.95;
    s.insert_proportion = 0.05;
    s.request_distribution = ycsb_distribution::latest;
    return s;
  }
  // Short ranges: threaded conversations.
  static constexpr ycsb_workload_spec e() noexcept {
    ycsb_workload_spec s;
    s.scan_proportion = 0.95;
    s.insert_proportion = 0.05;
    s.max_scan_length = 100;
    return s;
  }
  // Read-modify-write: user database.
  static constexpr ycsb_workload_spec f() noexcept {
    ycsb_workload_spec s;
    s.read_proportion = 0.5;
    s.read_modify_write_proportion = 0.5;
    return s;
  }

  constexpr double proportion(ycsb_op op) const noexcept {
    switch (op) {
      case ycsb_op::read:
        return read_proportion;
      case ycsb_op::update:
        return update_proportion;
      case ycsb_op::insert:
        return insert_proportion;
      case ycsb_op::scan:
        return scan_proportion;
      case ycsb_op::read_modify_write:
        return read_modify_write_proportion;
    }
    return 0.0;
  }
};

struct ycsb_request {
  ycsb_op op;
  std::uint64_t key;          // for inserts, the newly inserted key
  std::uint32_t scan_length;  // records to scan from `key`; 0 unless op == scan
};

class ycsb_generator {
 public:
  // InvalidArgument if a proportion is negative or not finite, all are zero, keys must be chosen
  // from an empty table (record_count 0 with anything but inserts), the scan lengths are not
  // 1 <= min <= max, the zipfian_constant of a zipfian or latest distribution is outside [0, 1),
  // or the zipfian key space does not fit in 64 bits.
  static absl::StatusOr<ycsb_generator> create(const ycsb_workload_spec& spec, std::uint64_t seed) {
    if (absl::Status s = validate(spec); !s.ok()) return s;
    return ycsb_generator(spec, seed);
  }

  ycsb_request next() {
    const ycsb_op op = choose_op();
    switch (op) {
      case ycsb_op::insert: {
        // key <= max_latest_key, set_latest's precondition, until the 64-bit key space runs out.
        const std::uint64_t key = record_count_++;
        if (auto* latest = std::get_if<skewed_latest_generator>(&keys_)) latest->set_latest(key);
        return {op, key, 0};
      }
      case ycsb_op::scan: {
        const std::uint64_t key = choose_key();
        const auto span = std::uint64_t{spec_.max_scan_length} - spec_.min_scan_length + 1;
        const auto length =
            static_cast<std::uint32_t>(spec_.min_scan_length + uniform_below(rng_, span));
        return {op, key, length};
      }
      default:
        return {op, choose_key(), 0};
    }
  }

  // Records present now: the initial record_count plus the inserts generated so far. Every
  // request's key is below this (an insert's key is the last one).
  std::uint64_t record_count() const noexcept { return record_count_; }
  const ycsb_workload_spec& spec() const noexcept { return spec_; }

 private:
  static constexpr std::size_t op_count = 5;
  using key_chooser =
      std::variant<scrambled_zipfian_generator, uniform_generator, skewed_latest_generator>;

  // Unchecked: validate(spec) is OK.
  ycsb_generator(const ycsb_workload_spec& spec, std::uint64_t seed)
      : spec_{spec},
        rng_{seed},
        record_count_{spec.record_count},
        weights_{normalised_weights(spec)},
        keys_{make_key_chooser(spec)} {}

  static absl::Status validate(const ycsb_workload_spec& spec) {
    double sum = 0.0;
    bool reads_keys = false;
    for (std::size_t i = 0; i < op_count; ++i) {
      const auto op = static_cast<ycsb_op>(i);
      const double p = spec.proportion(op);
      if (!(p >= 0.0) || !(p < std::numeric_limits<double>::infinity())) {
        return absl::InvalidArgumentError("ycsb_generator: proportions must be finite and >= 0");
      }
      sum += p;
      if (p > 0.0 && op != ycsb_op::insert) reads_keys = true;
    }
    if (!(sum > 0.0)) return absl::InvalidArgumentError("ycsb_generator: all proportions are zero");
    if (reads_keys && spec.record_count == 0) {
      return absl::InvalidArgumentError("ycsb_generator: record_count must be > 0 to choose keys");
    }
    if (spec.min_scan_length == 0 || spec.min_scan_length > spec.max_scan_length) {
      return absl::InvalidArgumentError(
          "ycsb_generator: need 1 <= min_scan_length <= max_scan_length");
    }
    if (spec.request_distribution != ycsb_distribution::uniform &&
        !(spec.zipfian_constant >= 0.0 && spec.zipfian_constant < 1.0)) {
      return absl::InvalidArgumentError("ycsb_generator: zipfian_constant must be in [0, 1)");
    }
    if (spec.request_distribution == ycsb_distribution::zipfian) {
      // records + expected_new_keys + 1 <= 2^64 - 1, i.e. expected_new_keys < max - records;
      // compared in double, before the conversion to an integer that would be undefined out of
      // range. For a double x, x < double(n) implies x < n whichever way n rounds.
      constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
      const std::uint64_t records = key_records(spec);
      if (records == max || !(expected_new_keys_real(spec) < static_cast<double>(max - records))) {
        return absl::InvalidArgumentError(
            "ycsb_generator: zipfian key space (record_count + 2 * operation_count * "
            "insert_proportion + 1) does not fit in 64 bits");
      }
    }
    return absl::OkStatus();
  }

  // An insert-only workload never draws a key; any valid chooser will do.
  static std::uint64_t key_records(const ycsb_workload_spec& spec) noexcept {
    return spec.record_count == 0 ? 1 : spec.record_count;
  }

  // YCSB's expectednewkeys before truncation, with its "fudge factor" of 2.
  static double expected_new_keys_real(const ycsb_workload_spec& spec) noexcept {
    return static_cast<double>(spec.operation_count) * spec.insert_proportion * 2.0;
  }

  static std::array<double, op_count> normalised_weights(const ycsb_workload_spec& spec) {
    double sum = 0.0;
    for (std::size_t i = 0; i < op_count; ++i)
      sum += spec.proportion(static_cast<ycsb_op>(i));
    std::array<double, op_count> weights{};
    for (std::size_t i = 0; i < op_count; ++i) {
      weights[i] = spec.proportion(static_cast<ycsb_op>(i)) / sum;
    }
    return weights;
  }

  static key_chooser make_key_chooser(const ycsb_workload_spec& spec) {
    const std::uint64_t records = key_records(spec);
    switch (spec.request_distribution) {
      case ycsb_distribution::uniform:
        return uniform_generator{0, records};
      case ycsb_distribution::latest:
        return skewed_latest_generator{records - 1, spec.zipfian_constant};
      case ycsb_distribution::zipfian:
        break;
    }
    const auto expected_new_keys = static_cast<std::uint64_t>(expected_new_keys_real(spec));
    return scrambled_zipfian_generator{0, records + expected_new_keys + 1, spec.zipfian_constant};
  }

  // DiscreteGenerator.nextString(): walk one uniform double through the normalised weights.
  ycsb_op choose_op() {
    double u = uniform_double(rng_);
    std::size_t last_positive = 0;
    for (std::size_t i = 0; i < op_count; ++i) {
      if (weights_[i] <= 0.0) continue;
      if (u < weights_[i]) return static_cast<ycsb_op>(i);
      u -= weights_[i];
      last_positive = i;
    }
    // Only reachable through rounding in the subtractions (YCSB throws here).
    return static_cast<ycsb_op>(last_positive);
  }

  // CoreWorkload.nextKeynum(): redraw keys that have not been inserted yet.
  std::uint64_t choose_key() {
    return std::visit(
        [this](const auto& chooser) {
          std::uint64_t key = 0;
          do {
            key = chooser.next(rng_);
          } while (key >= record_count_);
          return key;
        },
        keys_);
  }

  ycsb_workload_spec spec_;
  xoshiro256ss rng_;
  std::uint64_t record_count_;
  std::array<double, op_count> weights_;
  key_chooser keys_;
};

}  // namespace innet::workload
