// Compiles and links against the installed innet::cuda (its host-only part).
#include "innet/cuda/capabilities.hpp"

int main() {
  // Without a GPU the probe returns a status saying so; either way it must link.
  return innet::cuda::probe().status().code() == absl::StatusCode::kInternal ? 1 : 0;
}
