// Checks that ycsb_generator reproduces the YCSB core workloads: the operation mix of each
// workload file, keys that only ever name records already inserted, the recency skew of D, the
// scan lengths of E, and reproducibility from a seed.
#include "innet/workload/ycsb.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "innet/workload/zipfian.hpp"

namespace {

using innet::workload::ycsb_distribution;
using innet::workload::ycsb_generator;
using innet::workload::ycsb_op;
using innet::workload::ycsb_request;
using innet::workload::ycsb_workload_spec;

constexpr std::uint64_t n_requests = 200'000;

// The generator a valid spec must yield.
ycsb_generator created(const ycsb_workload_spec& spec, std::uint64_t seed) {
  auto generator = ycsb_generator::create(spec, seed);
  INFO(generator.status().ToString());
  REQUIRE(generator.ok());
  return *std::move(generator);
}

// A rejected spec: InvalidArgument, with a message that names the problem.
void check_rejected(const ycsb_workload_spec& spec, absl::string_view problem) {
  const absl::Status status = ycsb_generator::create(spec, 1).status();
  INFO(status.ToString());
  CAPTURE(problem);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(status.message(), problem));
}

// The factories are usable at compile time and match workloads/workloada..f.
static_assert(ycsb_workload_spec::a().read_proportion == 0.5);
static_assert(ycsb_workload_spec::a().update_proportion == 0.5);
static_assert(ycsb_workload_spec::b().read_proportion == 0.95);
static_assert(ycsb_workload_spec::b().update_proportion == 0.05);
static_assert(ycsb_workload_spec::c().read_proportion == 1.0);
static_assert(ycsb_workload_spec::d().insert_proportion == 0.05);
static_assert(ycsb_workload_spec::d().request_distribution == ycsb_distribution::latest);
static_assert(ycsb_workload_spec::e().scan_proportion == 0.95);
static_assert(ycsb_workload_spec::e().insert_proportion == 0.05);
static_assert(ycsb_workload_spec::e().max_scan_length == 100);
static_assert(ycsb_workload_spec::f().read_modify_write_proportion == 0.5);
static_assert(ycsb_workload_spec::a().record_count == 1000);
static_assert(ycsb_workload_spec::c().request_distribution == ycsb_distribution::zipfian);

// YCSB sizes the zipfian key space from operationcount, so a run is configured with it.
ycsb_workload_spec for_run(ycsb_workload_spec spec) {
  spec.operation_count = n_requests;
  return spec;
}

struct run_stats {
  std::array<std::uint64_t, 5> op_counts{};
  std::vector<ycsb_request> requests;
  std::vector<std::uint64_t> record_count_before;  // record count when each request was made
};

run_stats run(const ycsb_workload_spec& spec, std::uint64_t seed) {
  auto gen = created(spec, seed);
  run_stats stats;
  stats.requests.reserve(n_requests);
  stats.record_count_before.reserve(n_requests);
  for (std::uint64_t i = 0; i < n_requests; ++i) {
    stats.record_count_before.push_back(gen.record_count());
    const auto r = gen.next();
    stats.requests.push_back(r);
    ++stats.op_counts[static_cast<std::size_t>(r.op)];
  }
  return stats;
}

bool within_5_sigma(std::uint64_t observed, std::uint64_t samples, double p) {
  const double expected = static_cast<double>(samples) * p;
  const double sigma = std::sqrt(static_cast<double>(samples) * p * (1.0 - p));
  return std::fabs(static_cast<double>(observed) - expected) <= 5.0 * sigma;
}

void check_workload(const ycsb_workload_spec& base_spec, std::uint64_t seed) {
  const auto spec = for_run(base_spec);
  const auto stats = run(spec, seed);

  double total = 0.0;
  for (std::size_t i = 0; i < 5; ++i)
    total += spec.proportion(static_cast<ycsb_op>(i));
  for (std::size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    const double p = spec.proportion(static_cast<ycsb_op>(i)) / total;
    CHECK(within_5_sigma(stats.op_counts[i], n_requests, p));
  }

  std::uint64_t inserts = 0;
  for (std::size_t i = 0; i < stats.requests.size(); ++i) {
    const auto& r = stats.requests[i];
    const std::uint64_t before = stats.record_count_before[i];
    if (r.op == ycsb_op::insert) {
      ++inserts;
      REQUIRE(r.key == before);  // the insert sequence appends
    } else {
      REQUIRE(r.key < before);  // only records that exist
    }
    if (r.op == ycsb_op::scan) {
      REQUIRE(r.scan_length >= spec.min_scan_length);
      REQUIRE(r.scan_length <= spec.max_scan_length);
    } else {
      REQUIRE(r.scan_length == 0);
    }
  }
  CHECK(inserts == stats.op_counts[static_cast<std::size_t>(ycsb_op::insert)]);
}

}  // namespace

TEST_CASE("operation mixes and key bounds of workloads A-F") {
  check_workload(ycsb_workload_spec::a(), 1);
  check_workload(ycsb_workload_spec::b(), 2);
  check_workload(ycsb_workload_spec::c(), 3);
  check_workload(ycsb_workload_spec::d(), 4);
  check_workload(ycsb_workload_spec::e(), 5);
  check_workload(ycsb_workload_spec::f(), 6);
}

TEST_CASE("inserts grow the record count") {
  auto gen = created(for_run(ycsb_workload_spec::d()), 7);
  std::uint64_t inserts = 0;
  for (std::uint64_t i = 0; i < 10000; ++i)
    inserts += gen.next().op == ycsb_op::insert;
  CHECK(inserts > 0);
  CHECK(gen.record_count() == 1000 + inserts);
}

TEST_CASE("workload D reads skew toward recent inserts") {
  const auto stats = run(for_run(ycsb_workload_spec::d()), 8);
  std::uint64_t reads = 0, newest = 0, newest_percent = 0, of_inserted = 0;
  for (std::size_t i = 0; i < stats.requests.size(); ++i) {
    const auto& r = stats.requests[i];
    if (r.op != ycsb_op::read) continue;
    ++reads;
    const std::uint64_t records = stats.record_count_before[i];
    const std::uint64_t age = records - 1 - r.key;  // 0 = the latest insert
    newest += age == 0;
    newest_percent += age < records / 100;
    of_inserted += r.key >= 1000;
  }
  // The latest key alone draws 1/zeta(count, 0.99): 0.13 at 1000 records, 0.10 at 11000.
  CHECK(static_cast<double>(newest) / static_cast<double>(reads) > 0.09);
  // The newest 1% of records draw about half the reads (1% under a uniform choice).
  CHECK(static_cast<double>(newest_percent) / static_cast<double>(reads) > 0.3);
  // Inserted records are read back (about 10,000 of the final ~11,000 keys are new).
  CHECK(static_cast<double>(of_inserted) / static_cast<double>(reads) > 0.5);
}

TEST_CASE("workload E scan lengths are uniform between 1 and 100") {
  const auto stats = run(for_run(ycsb_workload_spec::e()), 9);
  std::array<std::uint64_t, 100> counts{};
  std::uint64_t scans = 0;
  double length_sum = 0.0;
  for (const auto& r : stats.requests) {
    if (r.op != ycsb_op::scan) continue;
    REQUIRE(r.scan_length >= 1);
    REQUIRE(r.scan_length <= 100);
    ++counts[r.scan_length - 1];
    ++scans;
    length_sum += r.scan_length;
  }
  const double expected = static_cast<double>(scans) / 100.0;
  double chi2 = 0.0;
  for (const auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    chi2 += d * d / expected;
  }
  CHECK(chi2 < 180.8);  // chi-square, 99 degrees of freedom, p = 1e-6
  CHECK(length_sum / static_cast<double>(scans) == doctest::Approx(50.5).epsilon(0.01));
}

TEST_CASE("zipfian keys are scrambled and skewed") {
  const auto stats = run(for_run(ycsb_workload_spec::c()), 10);
  std::vector<std::uint64_t> counts(1000, 0);
  for (const auto& r : stats.requests)
    ++counts[r.key];
  // The hottest key is where YCSB's hash sends rank 0 (key space of 1000 + 0 new + 1 keys).
  const std::uint64_t hottest = innet::workload::ycsb_fnvhash64(0) % 1001;
  std::uint64_t max_count = 0;
  for (const auto c : counts)
    max_count = c > max_count ? c : max_count;
  CHECK(counts[hottest] == max_count);
  CHECK(static_cast<double>(max_count) / n_requests > 5.0 / 1000.0);
}

TEST_CASE("uniform keys stay within the initial records, as in YCSB") {
  auto spec = for_run(ycsb_workload_spec::d());
  spec.request_distribution = ycsb_distribution::uniform;
  const auto stats = run(spec, 11);
  std::vector<std::uint64_t> counts(1000, 0);
  for (const auto& r : stats.requests) {
    if (r.op == ycsb_op::insert) continue;
    REQUIRE(r.key < 1000);
    ++counts[r.key];
  }
  for (const auto c : counts)
    CHECK(c > 0);
}

TEST_CASE("same seed, same requests, and a different seed, different requests") {
  for (const auto& spec :
       {ycsb_workload_spec::a(), ycsb_workload_spec::d(), ycsb_workload_spec::e()}) {
    auto x = created(spec, 42), y = created(spec, 42), z = created(spec, 43);
    std::uint64_t differ = 0;
    for (int i = 0; i < 10000; ++i) {
      const auto a = x.next(), b = y.next(), c = z.next();
      REQUIRE(a.op == b.op);
      REQUIRE(a.key == b.key);
      REQUIRE(a.scan_length == b.scan_length);
      differ += a.op != c.op || a.key != c.key || a.scan_length != c.scan_length;
    }
    CHECK(differ > 1000);
  }
}

TEST_CASE("invalid specs are rejected") {
  check_rejected(ycsb_workload_spec{}, "all proportions are zero");
  auto negative = ycsb_workload_spec::a();
  negative.update_proportion = -0.1;
  check_rejected(negative, "proportions must be finite and >= 0");
  auto infinite = ycsb_workload_spec::a();
  infinite.read_proportion = std::numeric_limits<double>::infinity();
  check_rejected(infinite, "proportions must be finite and >= 0");
  auto empty = ycsb_workload_spec::c();
  empty.record_count = 0;
  check_rejected(empty, "record_count must be > 0");
  auto scans = ycsb_workload_spec::e();
  scans.min_scan_length = 0;
  check_rejected(scans, "min_scan_length <= max_scan_length");
  scans.min_scan_length = 101;
  check_rejected(scans, "min_scan_length <= max_scan_length");
  auto skew = ycsb_workload_spec::a();
  skew.zipfian_constant = 1.0;
  check_rejected(skew, "zipfian_constant must be in");
  skew.request_distribution = ycsb_distribution::latest;
  check_rejected(skew, "zipfian_constant must be in");
  skew.request_distribution = ycsb_distribution::uniform;  // does not use the constant
  CHECK(ycsb_generator::create(skew, 1).ok());
  auto huge = ycsb_workload_spec::d();
  huge.request_distribution = ycsb_distribution::zipfian;
  huge.operation_count = std::numeric_limits<std::uint64_t>::max();
  huge.insert_proportion = 1.0;
  check_rejected(huge, "does not fit in 64 bits");
  huge.insert_proportion = 0.0;
  huge.record_count = std::numeric_limits<std::uint64_t>::max();
  check_rejected(huge, "does not fit in 64 bits");

  // Insert-only into an empty table is fine: keys 0, 1, 2, ...
  ycsb_workload_spec load;
  load.insert_proportion = 1.0;
  load.record_count = 0;
  auto gen = created(load, 1);
  for (std::uint64_t i = 0; i < 5; ++i)
    CHECK(gen.next().key == i);
}
