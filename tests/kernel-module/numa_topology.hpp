// Parser for the topology file of the innet_numa kernel module
// (/sys/kernel/debug/innet_numa/topology; the format is specified at the top of
// kernel-module/innet_numa.c), and for the kernel's CPU-list notation it uses.
//
//   innet_numa 1
//   nodes 2
//   node 0 cpus=0 present_kib=523896 managed_kib=514636
//   node 1 cpus=1 present_kib=524160 managed_kib=470220
//   distance 0 10 20
//   distance 1 20 10
//
// The parser is strict about structure (line order, counts, ascending node ids, one
// space between fields, a final newline: a truncated read must not parse) and lenient
// only where the format promises growth: unknown key=value fields on a node line.
// Every failure is an InvalidArgument status naming the line.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace innet::kernel_module {

inline constexpr int numa_topology_format_version = 1;

// Bounds that keep a hostile or corrupted file from making the parser allocate without
// limit: the kernel's own maxima on x86-64 (MAX_NUMNODES, NR_CPUS with MAXSMP).
inline constexpr int max_numa_nodes = 1024;
inline constexpr int max_cpus = 8192;

struct numa_node {
  int id = 0;
  std::vector<int> cpus;  // ascending
  std::uint64_t present_kib = 0;
  std::uint64_t managed_kib = 0;
};

struct numa_topology {
  std::vector<numa_node> nodes;            // ascending ids
  std::vector<std::vector<int>> distance;  // distance[i][j]: nodes[i] to nodes[j]
};

namespace detail {

// A decimal number with no sign, no leading '+', nothing after it.
template <class T>
bool parse_decimal(absl::string_view text, T& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

// Splits on single spaces; an empty field (two spaces, or a leading/trailing one) is
// reported as an empty string_view so that the caller can refuse it.
inline std::vector<absl::string_view> split_fields(absl::string_view line) {
  std::vector<absl::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == absl::string_view::npos) return fields;
    start = space + 1;
  }
}

inline absl::Status line_error(std::size_t line_number, absl::string_view line,
                               absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("innet_numa topology, line ", line_number, " \"", line, "\": ", problem));
}

}  // namespace detail

// The kernel's "%*pbl" CPU list: comma-separated ids or ranges "a-b" (a <= b), ascending
// and disjoint; the empty string is the empty list. Trailing newline not accepted.
inline absl::StatusOr<std::vector<int>> parse_cpu_list(absl::string_view text) {
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const absl::string_view item = text.substr(start, comma - start);
    const std::size_t dash = item.find('-');
    const absl::string_view first_text = item.substr(0, dash);
    const absl::string_view last_text =
        dash == absl::string_view::npos ? first_text : item.substr(dash + 1);
    int first = 0;
    int last = 0;
    if (!detail::parse_decimal(first_text, first) || !detail::parse_decimal(last_text, last)) {
      return absl::InvalidArgumentError(
          absl::StrCat("CPU list \"", text, "\": \"", item, "\" is not an id or a range a-b"));
    }
    if (first > last || last >= max_cpus) {
      return absl::InvalidArgumentError(absl::StrCat("CPU list \"", text, "\": range \"", item,
                                                     "\" is empty or beyond ", max_cpus));
    }
    if (!cpus.empty() && first <= cpus.back()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CPU list \"", text, "\": \"", item, "\" is not ascending"));
    }
    for (int cpu = first; cpu <= last; ++cpu)
      cpus.push_back(cpu);
    if (comma == absl::string_view::npos) return cpus;
    start = comma + 1;
  }
}

inline absl::StatusOr<numa_topology> parse_numa_topology(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError(
        "innet_numa topology: empty, or the last line has no newline (truncated read?)");
  }
  std::vector<absl::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = text.find('\n', start);
    lines.push_back(text.substr(start, newline - start));
    start = newline + 1;
  }

  std::size_t at = 0;  // index of the next line to read
  auto fields_of = [&](absl::string_view keyword,
                       std::size_t min_fields) -> absl::StatusOr<std::vector<absl::string_view>> {
    if (at >= lines.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("innet_numa topology: ends before the \"", keyword, "\" line ", at + 1));
    }
    const absl::string_view line = lines[at++];
    std::vector<absl::string_view> fields = detail::split_fields(line);
    if (fields[0] != keyword) {
      return detail::line_error(at, line, absl::StrCat("expected a \"", keyword, "\" line"));
    }
    for (const absl::string_view field : fields) {
      if (field.empty()) return detail::line_error(at, line, "empty field (extra space?)");
    }
    if (fields.size() < min_fields) return detail::line_error(at, line, "too few fields");
    return fields;
  };

  auto header = fields_of("innet_numa", 2);
  if (!header.ok()) return header.status();
  int version = 0;
  if (header->size() != 2 || !detail::parse_decimal((*header)[1], version)) {
    return detail::line_error(at, lines[at - 1], "expected \"innet_numa <version>\"");
  }
  if (version != numa_topology_format_version) {
    return absl::InvalidArgumentError(absl::StrCat("innet_numa topology: format version ", version,
                                                   ", this parser reads version ",
                                                   numa_topology_format_version));
  }

  auto count_line = fields_of("nodes", 2);
  if (!count_line.ok()) return count_line.status();
  int count = 0;
  if (count_line->size() != 2 || !detail::parse_decimal((*count_line)[1], count) || count < 1 ||
      count > max_numa_nodes) {
    return detail::line_error(at, lines[at - 1],
                              absl::StrCat("expected \"nodes <1..", max_numa_nodes, ">\""));
  }

  numa_topology topology;
  topology.nodes.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto fields = fields_of("node", 2);
    if (!fields.ok()) return fields.status();
    const absl::string_view line = lines[at - 1];
    numa_node node;
    if (!detail::parse_decimal((*fields)[1], node.id) || node.id >= max_numa_nodes) {
      return detail::line_error(at, line,
                                absl::StrCat("node id is not a number below ", max_numa_nodes));
    }
    if (!topology.nodes.empty() && node.id <= topology.nodes.back().id) {
      return detail::line_error(at, line, "node ids are not ascending");
    }
    bool have_cpus = false;
    bool have_present = false;
    bool have_managed = false;
    for (std::size_t f = 2; f < fields->size(); ++f) {
      const absl::string_view field = (*fields)[f];
      const std::size_t equals = field.find('=');
      if (equals == absl::string_view::npos || equals == 0) {
        return detail::line_error(at, line, absl::StrCat("\"", field, "\" is not key=value"));
      }
      const absl::string_view key = field.substr(0, equals);
      const absl::string_view value = field.substr(equals + 1);
      auto take_kib = [&](bool& seen, std::uint64_t& out) -> absl::Status {
        if (seen) return detail::line_error(at, line, absl::StrCat("repeated key ", key));
        seen = true;
        if (!detail::parse_decimal(value, out)) {
          return detail::line_error(at, line, absl::StrCat(key, " is not a number"));
        }
        return absl::OkStatus();
      };
      if (key == "cpus") {
        if (have_cpus) return detail::line_error(at, line, "repeated key cpus");
        have_cpus = true;
        auto cpus = parse_cpu_list(value);
        if (!cpus.ok()) return detail::line_error(at, line, cpus.status().message());
        node.cpus = *std::move(cpus);
      } else if (key == "present_kib") {
        if (absl::Status s = take_kib(have_present, node.present_kib); !s.ok()) return s;
      } else if (key == "managed_kib") {
        if (absl::Status s = take_kib(have_managed, node.managed_kib); !s.ok()) return s;
      }
      // Any other key is a later addition to the format: skipped, as promised.
    }
    if (!have_cpus || !have_present || !have_managed) {
      return detail::line_error(at, line, "needs cpus=, present_kib= and managed_kib=");
    }
    topology.nodes.push_back(std::move(node));
  }

  topology.distance.reserve(topology.nodes.size());
  for (const numa_node& from : topology.nodes) {
    auto fields = fields_of("distance", 2);
    if (!fields.ok()) return fields.status();
    const absl::string_view line = lines[at - 1];
    int id = 0;
    if (!detail::parse_decimal((*fields)[1], id) || id != from.id) {
      return detail::line_error(at, line, absl::StrCat("expected the row of node ", from.id));
    }
    if (fields->size() != topology.nodes.size() + 2) {
      return detail::line_error(
          at, line, absl::StrCat("expected ", topology.nodes.size(), " distances (one per node)"));
    }
    std::vector<int> row(topology.nodes.size());
    for (std::size_t j = 0; j < row.size(); ++j) {
      // ACPI SLIT entries are one byte.
      if (!detail::parse_decimal((*fields)[j + 2], row[j]) || row[j] > 255) {
        return detail::line_error(at, line, "a distance is not a number in 0..255");
      }
    }
    topology.distance.push_back(std::move(row));
  }

  if (at != lines.size()) {
    return detail::line_error(at + 1, lines[at], "unexpected line after the distance matrix");
  }
  return topology;
}

}  // namespace innet::kernel_module
