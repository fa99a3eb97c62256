// workload: the YCSB request streams that the kv and naam areas are measured with.
#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "innet/workload/ycsb.hpp"
#include "innet/workload/zipfian.hpp"
#include "tour.hpp"

namespace {
const char* op_name(innet::workload::ycsb_op op) {
  switch (op) {
    case innet::workload::ycsb_op::read:
      return "read";
    case innet::workload::ycsb_op::update:
      return "update";
    case innet::workload::ycsb_op::insert:
      return "insert";
    case innet::workload::ycsb_op::scan:
      return "scan";
    case innet::workload::ycsb_op::read_modify_write:
      return "rmw";
  }
  return "?";
}
}  // namespace

void tour::workload_section() {
  using namespace innet::workload;
  heading("workload", "YCSB request streams");
  constexpr std::size_t requests = 200'000;
  const std::array<std::pair<char, ycsb_workload_spec>, 3> workloads{
      {{'B', ycsb_workload_spec::b()},
       {'D', ycsb_workload_spec::d()},
       {'E', ycsb_workload_spec::e()}}};
  for (const auto& [letter, base] : workloads) {
    auto spec = base;
    spec.record_count = 10'000;
    spec.operation_count = requests;
    auto generator = ycsb_generator::create(spec, 42);
    if (!generator.ok()) {
      std::fprintf(stderr, "%s\n", generator.status().ToString().c_str());
      std::exit(1);
    }
    std::array<std::size_t, 5> ops{};
    std::vector<std::uint32_t> hits(spec.record_count + requests, 0);
    std::size_t reads = 0, reads_of_newest = 0;  // "newest": among the 10 latest records
    for (std::size_t i = 0; i < requests; ++i) {
      const auto r = generator->next();
      ++ops[static_cast<std::size_t>(r.op)];
      if (r.op == ycsb_op::insert) continue;
      ++hits[r.key];
      ++reads;
      if (r.key + 10 >= generator->record_count()) ++reads_of_newest;
    }
    std::printf("workload %c over %" PRIu64 " records:", letter, spec.record_count);
    for (std::size_t op = 0; op < ops.size(); ++op) {
      if (ops[op] != 0) {
        std::printf(" %s %.1f%%", op_name(static_cast<ycsb_op>(op)),
                    100.0 * static_cast<double>(ops[op]) / requests);
      }
    }
    if (spec.request_distribution == ycsb_distribution::latest) {
      std::printf("; %.1f%% of accesses go to the 10 newest records\n",
                  100.0 * static_cast<double>(reads_of_newest) / static_cast<double>(reads));
    } else {
      const auto hottest = std::max_element(hits.begin(), hits.end()) - hits.begin();
      std::printf("; hottest key %td gets %.2f%% of accesses\n", hottest,
                  100.0 * hits[static_cast<std::size_t>(hottest)] / static_cast<double>(reads));
    }
  }
  std::printf("Zipfian theta=0.99 over 10^4 items: P(rank 0) = %.2f%%, P(rank 9) = %.2f%%\n",
              100.0 * zipf_pmf(10'000, 0.99, 0), 100.0 * zipf_pmf(10'000, 0.99, 9));
}
