// A tour of innet on the embedded host runtime: every area that exists shows its
// main structure at work on generated data, in a few lines of output each.
#include "tour.hpp"

int main() {
  std::printf("innet tour (host runtime)\n");
  tour::core_section();
  tour::workload_section();
  tour::sketch_section();
  tour::telemetry_section();
  std::printf("\ntour complete\n");
  return 0;
}
