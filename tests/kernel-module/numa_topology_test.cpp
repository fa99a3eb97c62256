// Host checks of the innet_numa topology parser (numa_topology.hpp): the documented
// example parses to the values written in it, every structural fault is refused with a
// message naming the line, and unknown keys are skipped as the format promises. The
// kernel side is checked against this parser in a QEMU guest (innet_numa_guest_test.sh).
#include "numa_topology.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"

namespace {

using innet::kernel_module::numa_topology;
using innet::kernel_module::parse_cpu_list;
using innet::kernel_module::parse_numa_topology;

// The example in the comment at the top of kernel-module/innet_numa.c: its lines are the
// only ones there that start with " *" and a tab. Read from the source, so that the
// documentation cannot drift from what the parser accepts.
std::string documented_example() {
  std::ifstream source(INNET_NUMA_MODULE_SOURCE);
  REQUIRE(source.good());
  std::string example;
  for (std::string line; std::getline(source, line);) {
    if (line.rfind(" *\t", 0) == 0) example += line.substr(3) + "\n";
  }
  return example;
}

void check_refused(const std::string& text, const char* problem) {
  const absl::StatusOr<numa_topology> parsed = parse_numa_topology(text);
  CAPTURE(text);
  CAPTURE(problem);
  REQUIRE_FALSE(parsed.ok());
  INFO(parsed.status().ToString());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(parsed.status().message(), problem));
}

}  // namespace

TEST_CASE("cpu lists parse like the kernel prints them") {
  CHECK(*parse_cpu_list("") == std::vector<int>{});
  CHECK(*parse_cpu_list("0") == std::vector<int>{0});
  CHECK(*parse_cpu_list("0-3,8,10-11") == std::vector<int>{0, 1, 2, 3, 8, 10, 11});
  CHECK(*parse_cpu_list("8191") == std::vector<int>{8191});
  for (const char* bad :
       {"-1", "1-", "3-1", "1,1", "2,1", "a", "1,,2", "1 2", "0-8192", "+1", "99999999999", "0,"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cpu_list(bad).ok());
  }
}

TEST_CASE("the example in the module's documentation parses to its values") {
  const std::string example = documented_example();
  CAPTURE(example);
  const absl::StatusOr<numa_topology> parsed = parse_numa_topology(example);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->nodes.size() == 2);
  CHECK(parsed->nodes[0].id == 0);
  CHECK(parsed->nodes[0].cpus == std::vector<int>{0});
  CHECK(parsed->nodes[0].present_kib == 523896);
  CHECK(parsed->nodes[0].managed_kib == 514636);
  CHECK(parsed->nodes[1].id == 1);
  CHECK(parsed->nodes[1].cpus == std::vector<int>{1});
  CHECK(parsed->nodes[1].present_kib == 524160);
  CHECK(parsed->nodes[1].managed_kib == 470220);
  CHECK(parsed->distance == std::vector<std::vector<int>>{{10, 20}, {20, 10}});
}

TEST_CASE("sparse node ids, memory-only nodes and unknown keys") {
  const absl::StatusOr<numa_topology> parsed = parse_numa_topology(
      "innet_numa 1\n"
      "nodes 2\n"
      "node 0 cpus=0-1 hugepages=4 present_kib=1 managed_kib=1\n"
      "node 3 cpus= present_kib=18446744073709551615 managed_kib=0 future=x=y\n"
      "distance 0 10 31\n"
      "distance 3 31 10\n");
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  CHECK(parsed->nodes[1].id == 3);
  CHECK(parsed->nodes[1].cpus.empty());
  CHECK(parsed->nodes[1].present_kib == UINT64_MAX);
  CHECK(parsed->distance[1] == std::vector<int>{31, 10});
}

TEST_CASE("structural faults are refused, naming the problem") {
  const std::string header = "innet_numa 1\nnodes 1\n";
  const std::string node = "node 0 cpus=0 present_kib=2 managed_kib=1\n";
  const std::string row = "distance 0 10\n";
  check_refused("", "truncated");
  check_refused(header + node + "distance 0 10", "truncated");
  check_refused("innet_numa 2\nnodes 1\n" + node + row, "format version 2");
  check_refused("innet_numa one\nnodes 1\n" + node + row, "innet_numa <version>");
  check_refused("nodes 1\n" + node + row, "expected a \"innet_numa\" line");
  check_refused("innet_numa 1\nnodes 0\n", "nodes <1..1024>");
  check_refused("innet_numa 1\nnodes 1025\n", "nodes <1..1024>");
  check_refused(header + row, "line 3");
  check_refused(header, "ends before the \"node\" line 3");
  check_refused(header + node, "ends before the \"distance\" line 4");
  check_refused(header + "node 0  cpus=0 present_kib=2 managed_kib=1\n" + row, "empty field");
  check_refused(header + "node 0 cpus=0 present_kib=2 managed_kib=1 \n" + row, "empty field");
  check_refused(header + "node 0 cpus=0 present_kib=2\n" + row, "needs cpus=");
  check_refused(header + "node 0 cpus=0 cpus=0 present_kib=2 managed_kib=1\n" + row,
                "repeated key cpus");
  check_refused(header + "node 0 cpus=0 present_kib=2 present_kib=2 managed_kib=1\n" + row,
                "repeated key present_kib");
  check_refused(header + "node 0 cpus=x present_kib=2 managed_kib=1\n" + row, "CPU list");
  check_refused(header + "node 0 cpus=0 present_kib=-2 managed_kib=1\n" + row,
                "present_kib is not a number");
  check_refused(header + "node 0 cpus=0 present_kib=2 managed_kib=1 junk\n" + row, "not key=value");
  check_refused(header + "node 1024 cpus=0 present_kib=2 managed_kib=1\n" + row,
                "node id is not a number below 1024");
  check_refused(header + node + "distance 1 10\n", "row of node 0");
  check_refused(header + node + "distance 0 10 20\n", "expected 1 distances");
  check_refused(header + node + "distance 0 256\n", "0..255");
  check_refused(header + node + row + "extra\n", "unexpected line");
  check_refused("innet_numa 1\nnodes 2\n" + node + node + "distance 0 10 20\ndistance 0 20 10\n",
                "not ascending");
}
