// numa_topology_check: holds the innet_numa module's topology file to two references that
// do not go through the module, inside a QEMU guest started by tests/qemu/guest-run:
//
//   what QEMU was told   INNET_GUEST_NUMA_NODES, INNET_GUEST_NUMA_NODE_MIB,
//                        INNET_GUEST_NUMA_DISTANCE, INNET_GUEST_CPUS (guest-run sets them
//                        from the -smp/-numa options it passed)
//   what the kernel says /sys/devices/system/node/{online,node<N>/cpulist,distance,meminfo}
//   elsewhere            and /proc/zoneinfo (per-zone present and managed pages)
//
// usage: numa_topology_check <topology file>
// Prints one line per check; exits 0 when all pass, 1 when one fails, 2 when it cannot run.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "numa_topology.hpp"

namespace {

using innet::kernel_module::numa_node;
using innet::kernel_module::numa_topology;

constexpr const char* node_sysfs = "/sys/devices/system/node";
constexpr int local_distance = 10;  // ACPI SLIT: a node's distance to itself

[[noreturn]] void cannot_run(const std::string& why) {
  std::fprintf(stderr, "numa_topology_check: %s\n", why.c_str());
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) cannot_run(absl::StrCat("cannot open ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::int64_t env_number(const char* name) {
  const char* value = std::getenv(name);
  std::int64_t number = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &number)) {
    cannot_run(absl::StrCat(name, " is not set: run me under tests/qemu/guest-run"));
  }
  return number;
}

std::vector<int> numbers(absl::string_view text) {
  std::vector<int> out;
  for (absl::string_view word : absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    int n = 0;
    if (!absl::SimpleAtoi(word, &n)) cannot_run(absl::StrCat("not a number: \"", word, "\""));
    out.push_back(n);
  }
  return out;
}

std::vector<int> cpu_list(const std::string& path) {
  absl::StatusOr<std::vector<int>> cpus =
      innet::kernel_module::parse_cpu_list(absl::StripTrailingAsciiWhitespace(read_file(path)));
  if (!cpus.ok()) cannot_run(absl::StrCat(path, ": ", cpus.status().ToString()));
  return *std::move(cpus);
}

// "Node <n> MemTotal: <kib> kB" from the node's meminfo.
std::uint64_t sysfs_mem_total_kib(int node) {
  const std::string path = absl::StrCat(node_sysfs, "/node", node, "/meminfo");
  for (absl::string_view line : absl::StrSplit(read_file(path), '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::uint64_t kib = 0;
    if (words.size() == 5 && words[2] == "MemTotal:" && absl::SimpleAtoi(words[3], &kib)) {
      return kib;
    }
  }
  cannot_run(absl::StrCat(path, " has no MemTotal line"));
}

struct zone_pages {
  std::uint64_t present = 0;
  std::uint64_t managed = 0;
};

// Sums of the "present" and "managed" counters of every zone, per node.
std::map<int, zone_pages> zoneinfo_pages() {
  std::map<int, zone_pages> pages;
  std::optional<int> node;
  for (absl::string_view line : absl::StrSplit(read_file("/proc/zoneinfo"), '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" ,"), absl::SkipEmpty());
    if (words.size() >= 2 && words[0] == "Node") {
      int n = 0;
      if (!absl::SimpleAtoi(words[1], &n)) cannot_run("/proc/zoneinfo: bad Node line");
      node = n;
      continue;
    }
    std::uint64_t value = 0;
    if (!node || words.size() != 2 || !absl::SimpleAtoi(words[1], &value)) continue;
    if (words[0] == "present") pages[*node].present += value;
    if (words[0] == "managed") pages[*node].managed += value;
  }
  return pages;
}

class checker {
 public:
  template <class T>
  void equal(const std::string& what, const T& got, const T& expected) {
    report(got == expected, what, absl::StrCat("got ", show(got), ", expected ", show(expected)));
  }
  void holds(bool ok, const std::string& what, const std::string& detail) {
    report(ok, what, detail);
  }
  int exit_status() const { return failures_ == 0 ? 0 : 1; }
  int failures() const { return failures_; }

 private:
  static std::string show(std::uint64_t v) { return absl::StrCat(v); }
  static std::string show(int v) { return absl::StrCat(v); }
  static std::string show(const std::vector<int>& v) {
    return absl::StrCat("[", absl::StrJoin(v, " "), "]");
  }

  void report(bool ok, const std::string& what, const std::string& detail) {
    std::printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.c_str());
    if (!ok) ++failures_;
  }

  int failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) cannot_run("usage: numa_topology_check <topology file>");
  const int told_nodes = static_cast<int>(env_number("INNET_GUEST_NUMA_NODES"));
  const std::uint64_t told_node_kib =
      static_cast<std::uint64_t>(env_number("INNET_GUEST_NUMA_NODE_MIB")) * 1024;
  const int told_distance = static_cast<int>(env_number("INNET_GUEST_NUMA_DISTANCE"));
  const int told_cpus = static_cast<int>(env_number("INNET_GUEST_CPUS"));
  const std::uint64_t page_kib = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;

  const absl::StatusOr<numa_topology> parsed =
      innet::kernel_module::parse_numa_topology(read_file(argv[1]));
  if (!parsed.ok()) {
    std::printf("FAIL the module's file parses: %s\n", parsed.status().ToString().c_str());
    return 1;
  }
  const numa_topology& topology = *parsed;
  checker check;

  std::vector<int> ids;
  for (const numa_node& node : topology.nodes)
    ids.push_back(node.id);
  check.equal("node count = QEMU's -numa nodes", static_cast<int>(ids.size()), told_nodes);
  check.equal("node ids = sysfs online nodes", ids, cpu_list(absl::StrCat(node_sysfs, "/online")));

  const std::map<int, zone_pages> zones = zoneinfo_pages();
  std::set<int> all_cpus;
  for (std::size_t i = 0; i < topology.nodes.size(); ++i) {
    const numa_node& node = topology.nodes[i];
    const std::string name = absl::StrCat("node ", node.id);
    const std::string dir = absl::StrCat(node_sysfs, "/node", node.id);

    check.equal(name + " cpus = sysfs cpulist", node.cpus, cpu_list(dir + "/cpulist"));
    check.equal(name + " cpu count = QEMU's CPUs per node", static_cast<int>(node.cpus.size()),
                told_cpus / told_nodes);
    for (int cpu : node.cpus) {
      check.holds(all_cpus.insert(cpu).second, absl::StrCat(name, " cpu ", cpu),
                  "on no other node");
    }

    const auto zone = zones.find(node.id);
    const zone_pages pages = zone == zones.end() ? zone_pages{} : zone->second;
    check.equal(name + " present_kib = zoneinfo present pages", node.present_kib,
                pages.present * page_kib);
    check.equal(name + " managed_kib = zoneinfo managed pages", node.managed_kib,
                pages.managed * page_kib);
    check.equal(name + " managed_kib = sysfs MemTotal", node.managed_kib,
                sysfs_mem_total_kib(node.id));
    // QEMU gives each node exactly told_node_kib; the firmware's reserved ranges (the
    // legacy VGA/BIOS hole, ACPI tables) are not present, and they are far below 1%.
    check.holds(node.present_kib <= told_node_kib && node.present_kib >= told_node_kib / 100 * 99,
                name + " present_kib within 1% below QEMU's node memory",
                absl::StrCat(node.present_kib, " of ", told_node_kib, " KiB"));
    check.holds(node.managed_kib > 0 && node.managed_kib <= node.present_kib,
                name + " 0 < managed_kib <= present_kib",
                absl::StrCat(node.managed_kib, " <= ", node.present_kib));

    check.equal(name + " distance row = sysfs distance", topology.distance[i],
                numbers(read_file(dir + "/distance")));
    for (std::size_t j = 0; j < topology.nodes.size(); ++j) {
      check.equal(absl::StrCat(name, " distance to node ", topology.nodes[j].id,
                               i == j ? " = local (10)" : " = QEMU's -numa dist"),
                  topology.distance[i][j], i == j ? local_distance : told_distance);
    }
  }
  std::vector<int> every_cpu;
  for (int cpu = 0; cpu < told_cpus; ++cpu)
    every_cpu.push_back(cpu);
  check.equal("the nodes' cpus together = QEMU's CPUs",
              std::vector<int>(all_cpus.begin(), all_cpus.end()), every_cpu);

  std::printf("numa_topology_check: %s (%d failed)\n", check.failures() == 0 ? "PASS" : "FAIL",
              check.failures());
  return check.exit_status();
}
