// main() of the CUDA test binaries that need GPUs.
//
// A case that needs a GPU can neither pass nor fail honestly on a machine without one. So
// before any case runs, main() probes; when fewer than INNET_CUDA_TEST_DEVICES devices of
// compute capability 8.0 or newer (what the binaries are built for: sm_80, sm_90 and their
// PTX) are visible, it prints the reason and exits 77, which ctest reports as skipped.
// Listing the cases, which doctest_discover_tests does at build time, needs no GPU and
// does not probe.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "innet/cuda/capabilities.hpp"

namespace {

constexpr int skip_exit_code = 77;

// True when doctest is only asked to describe itself (list cases or suites, help, version,
// count), in any of its spellings: -ltc, --list-test-cases, --dt-list-test-cases=...
bool describes_only(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    const std::size_t name = arg.find_first_not_of('-');
    if (name == 0 || name == std::string_view::npos) continue;
    arg.remove_prefix(name);
    if (arg.starts_with("dt-")) arg.remove_prefix(3);
    arg = arg.substr(0, arg.find('='));
    for (const std::string_view option :
         {"ltc", "list-test-cases", "lts", "list-test-suites", "lr", "list-reporters", "h", "help",
          "?", "v", "version", "c", "count"}) {
      if (arg == option) return true;
    }
  }
  return false;
}

// Empty when the first INNET_CUDA_TEST_DEVICES devices can run the tests; else why not.
std::string skip_reason() {
  const absl::StatusOr<innet::cuda::capabilities> caps = innet::cuda::probe();
  if (!caps.ok()) return std::string(caps.status().message());
  std::printf("%s", caps->summary().c_str());
  const int needed = INNET_CUDA_TEST_DEVICES;
  if (static_cast<int>(caps->devices.size()) < needed) {
    return absl::StrCat("these tests need ", needed, " CUDA devices; ", caps->devices.size(),
                        " visible");
  }
  for (int d = 0; d < needed; ++d) {
    const innet::cuda::device_properties& p = caps->devices[static_cast<std::size_t>(d)];
    if (p.compute_major < 8) {
      return absl::StrCat("device ", d, " (", p.name, ") is sm_", p.compute_major, p.compute_minor,
                          "; the tests are built for sm_80 and newer: choose devices with "
                          "CUDA_VISIBLE_DEVICES");
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (!describes_only(argc, argv)) {
    if (const std::string reason = skip_reason(); !reason.empty()) {
      std::printf("skipped: %s\n", reason.c_str());
      return skip_exit_code;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
