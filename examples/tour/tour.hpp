// The example tour: one short section per area, each in its own file.
#pragma once

#include <cstdio>

namespace tour {

inline void heading(const char* area, const char* what) {
  std::printf("\n== %s: %s\n", area, what);
}

void core_section();
void workload_section();
void sketch_section();
void telemetry_section();

}  // namespace tour
