// libbpf links and is the version pkg-config reported ("1.1.2" -> 1.1).
#include <bpf/libbpf.h>

#include <cstdio>
#include <string>

int main() {
  const std::string linked =
      std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
  const std::string expected = INNET_EXPECTED_VERSION;
  std::printf("linked libbpf %s (%s), expected %s\n", linked.c_str(), libbpf_version_string(),
              expected.c_str());
  return expected.starts_with(linked + ".") || expected == linked ? 0 : 1;
}
