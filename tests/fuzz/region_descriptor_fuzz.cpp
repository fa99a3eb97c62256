// Fuzzes decode_region_descriptor, which reads what a remote server put in an
// RDMA-CM accept: never reads outside the input (ASan), and whatever it accepts
// describes an addressable region and re-encodes to the same 32 bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "innet/rdma/region_descriptor.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using innet::rdma::region_descriptor;
  const auto input = std::as_bytes(std::span(data, size));
  const auto decoded = innet::rdma::decode_region_descriptor(input);
  if (!decoded) return 0;
  require(size >= region_descriptor::wire_size);
  require(decoded->size <= ~std::uint64_t{0} - decoded->base);
  // Reserved fields are ignored on receipt and written as zero, so compare the
  // fields that carry meaning: magic, version, base, size, rkey.
  const auto again = innet::rdma::encode(*decoded);
  require(std::equal(again.begin(), again.begin() + 6, input.begin()));
  require(std::equal(again.begin() + 8, again.begin() + 28, input.begin() + 8));
  const auto round_trip = innet::rdma::decode_region_descriptor(again);
  require(round_trip.ok() && *round_trip == *decoded);
  return 0;
}
