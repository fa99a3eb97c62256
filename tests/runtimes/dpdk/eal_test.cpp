// The EAL lifecycle, in its own test binary: cleaning the EAL up ends DPDK for
// the rest of the process, which the main suite cannot afford.
#include "innet/dpdk/eal.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace innet::dpdk {
namespace {

bool directory_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

TEST_CASE("eal_arguments spells out the defaults for a machine without hugepages") {
  const std::vector<std::string> expected{"innet",
                                          "--no-huge",
                                          "-m256",
                                          "--no-pci",
                                          "--no-shconf",
                                          "--no-telemetry",
                                          absl::StrCat("--file-prefix=innet-", ::getpid()),
                                          "--log-level=notice"};
  CHECK(eal_arguments({}) == expected);
}

TEST_CASE("eal_arguments passes lcores vdevs and extra arguments through in order") {
  const eal_params params{.program_name = "app",
                          .lcores = "0@2,1@3",
                          .hugepages = true,
                          .memory_mb = 1024,
                          .pci = true,
                          .shared_config = true,
                          .telemetry = true,
                          .file_prefix = "mine",
                          .log_level = "",
                          .vdevs = {"net_ring0", "net_af_packet0,iface=veth0"},
                          .extra_args = {"--iova-mode=va"}};
  const std::vector<std::string> expected{"app",
                                          "--lcores=0@2,1@3",
                                          "-m1024",
                                          "--file-prefix=mine",
                                          "--vdev=net_ring0",
                                          "--vdev=net_af_packet0,iface=veth0",
                                          "--iova-mode=va"};
  CHECK(eal_arguments(params) == expected);
}

TEST_CASE("the EAL initialises once per process and never after cleanup") {
  CHECK(eal_cleanup().code() == absl::StatusCode::kFailedPrecondition);  // nothing to clean yet

  // A rejected argument leaves the EAL startable.
  const absl::Status bad = eal_init({.extra_args = {"--no-such-eal-option"}});
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.message().find("--no-such-eal-option") != absl::string_view::npos);
  CHECK_FALSE(eal_running());

  const eal_params params{.lcores = "0", .vdevs = {"net_null0"}};
  REQUIRE_MESSAGE(eal_init(params).ok(), "the EAL must start without hugepages as root");
  CHECK(eal_running());
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  CHECK(directory_exists(runtime_dir));

  CHECK(eal_init(params).ok());  // the same params: already done
  eal_params other = params;
  other.vdevs.emplace_back("net_null1");
  const absl::Status second = eal_init(other);
  CHECK(second.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(second.message().find("--vdev=net_null1") != absl::string_view::npos);

  CHECK(eal_cleanup().ok());
  CHECK_FALSE(eal_running());
  CHECK_FALSE(directory_exists(runtime_dir));
  CHECK(eal_cleanup().ok());  // a second cleanup has nothing to do
  CHECK(eal_init(params).code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace innet::dpdk
