#include "innet/host/soft_rnic_wire.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace {

using namespace innet::host;
using innet::errc;

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> encode(const soft_rnic_message& m) {
  std::vector<std::byte> out(soft_rnic_encoded_size(m));
  const auto n = encode_soft_rnic_message(out, m);
  REQUIRE(n.ok());
  REQUIRE(*n == out.size());
  return out;
}

constexpr std::uint64_t session = 0x1122334455667788;

// One of each message shape the protocol has.
std::vector<soft_rnic_message> samples(std::span<const std::byte> data) {
  using op = soft_rnic_opcode;
  using syn = soft_rnic_syndrome;
  return {
      {.opcode = op::connect, .session = session},
      {.opcode = op::read,
       .sequence = 7,
       .session = session,
       .rkey = 9,
       .offset = 64,
       .length = 100},
      {.opcode = op::write,
       .sequence = 8,
       .session = session,
       .rkey = 9,
       .offset = 3,
       .length = static_cast<std::uint32_t>(data.size()),
       .payload = data},
      {.opcode = op::write, .sequence = 8, .session = session, .rkey = 9, .offset = 3},
      {.opcode = op::fetch_add,
       .sequence = 9,
       .session = session,
       .rkey = 9,
       .length = 8,
       .operand = 5},
      {.opcode = op::compare_swap,
       .sequence = 0xFFFFFFFF,
       .session = session,
       .rkey = ~std::uint64_t{0},
       .offset = 8,
       .length = 8,
       .operand = 1,
       .swap = 2},
      {.opcode = op::connect_response,
       .session = session,
       .responder_depth = 64,
       .max_datagram = 9000},
      {.opcode = op::read_response, .sequence = 7, .session = session, .payload = data},
      {.opcode = op::read_response, .sequence = 7, .session = session},
      {.opcode = op::write_response, .sequence = 8, .session = session},
      {.opcode = op::fetch_add_response, .sequence = 9, .session = session, .original = 42},
      {.opcode = op::compare_swap_response, .sequence = 9, .session = session, .original = 1},
      {.opcode = op::read_response,
       .sequence = 3,
       .session = session,
       .syndrome = syn::out_of_range},
      {.opcode = op::write_response,
       .sequence = 3,
       .session = session,
       .syndrome = syn::access_error},
      {.opcode = op::fetch_add_response,
       .sequence = 3,
       .session = session,
       .syndrome = syn::sequence_error},
      {.opcode = op::connect_response,
       .sequence = 3,
       .session = session,
       .syndrome = syn::unknown_session},
  };
}

bool same(const soft_rnic_message& a, const soft_rnic_message& b) {
  return a.opcode == b.opcode && a.sequence == b.sequence && a.session == b.session &&
         a.rkey == b.rkey && a.offset == b.offset && a.length == b.length &&
         a.operand == b.operand && a.swap == b.swap && a.syndrome == b.syndrome &&
         a.original == b.original && a.responder_depth == b.responder_depth &&
         a.max_datagram == b.max_datagram &&
         std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

// Parses at compile time: the format is constexpr data, as the P4/Verilog twins need.
constexpr bool constexpr_round_trip() {
  std::array<std::byte, soft_rnic_atomic_size> buffer{};
  const soft_rnic_message m{.opcode = soft_rnic_opcode::compare_swap,
                            .sequence = 5,
                            .session = 6,
                            .rkey = 7,
                            .offset = 8,
                            .length = 8,
                            .operand = 9,
                            .swap = 10};
  const auto n = encode_soft_rnic_message(buffer, m);
  if (!n.ok() || *n != buffer.size()) return false;
  const auto back = parse_soft_rnic_message(buffer);
  return back.ok() && back->swap == 10 && back->offset == 8 && back->rkey == 7;
}
static_assert(constexpr_round_trip());

}  // namespace

TEST_CASE("soft_rnic wire: a fetch_add request has the documented big-endian layout") {
  const soft_rnic_message m{.opcode = soft_rnic_opcode::fetch_add,
                            .sequence = 0x01020304,
                            .session = session,
                            .rkey = 0xA1A2A3A4A5A6A7A8,
                            .offset = 0x10,
                            .length = 8,
                            .operand = 5};
  // Written out by hand from the diagram in soft_rnic_wire.hpp.
  const auto expected = bytes({0x53, 0x52, 0x01, 0x04, 0x01, 0x02, 0x03, 0x04,    // base
                               0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,    // session
                               0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8,    // rkey
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,    // offset
                               0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,    // length, rsvd
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,    // addend
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // swap
  CHECK(encode(m) == expected);
}

TEST_CASE("soft_rnic wire: a NAK is the base header plus the syndrome word") {
  const soft_rnic_message m{.opcode = soft_rnic_opcode::read_response,
                            .sequence = 7,
                            .session = session,
                            .syndrome = soft_rnic_syndrome::out_of_range};
  const auto expected = bytes({0x53, 0x52, 0x01, 0x82, 0x00, 0x00, 0x00, 0x07,  //
                               0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  //
                               0x02, 0x00, 0x00, 0x00});
  CHECK(encode(m) == expected);
}

TEST_CASE("soft_rnic wire: every message shape round-trips through parse") {
  const auto data = bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  for (const soft_rnic_message& m : samples(data)) {
    INFO("opcode " << static_cast<int>(m.opcode) << " syndrome " << static_cast<int>(m.syndrome));
    const auto wire = encode(m);
    const auto back = innet::host::parse_soft_rnic_message(wire);
    REQUIRE(back.ok());
    CHECK(same(*back, m));
    // The payload is a view into the datagram, after the headers.
    if (!back->payload.empty())
      CHECK(back->payload.data() + back->payload.size() == wire.data() + wire.size());
  }
}

TEST_CASE("soft_rnic wire: every strict prefix of a fixed-size message is refused") {
  const auto data = bytes({1, 2, 3});
  for (const soft_rnic_message& m : samples(data)) {
    // A read response's data is open-ended, so its prefixes are other valid responses.
    if (m.opcode == soft_rnic_opcode::read_response && m.syndrome == soft_rnic_syndrome::ok)
      continue;
    const auto wire = encode(m);
    for (std::size_t n = 0; n < wire.size(); ++n) {
      INFO("opcode " << static_cast<int>(m.opcode) << " prefix " << n);
      const auto r = parse_soft_rnic_message(std::span(wire).first(n));
      CHECK_FALSE(r.ok());
      CHECK((r.error() == errc::truncated || r.error() == errc::malformed));
    }
  }
}

TEST_CASE("soft_rnic wire: non-canonical encodings are refused") {
  const soft_rnic_message fa{.opcode = soft_rnic_opcode::fetch_add,
                             .sequence = 1,
                             .session = session,
                             .rkey = 2,
                             .length = 8,
                             .operand = 3};
  const auto good = encode(fa);
  REQUIRE(parse_soft_rnic_message(good).ok());
  const auto parse_with = [&](std::size_t at, std::byte value) {
    auto copy = good;
    copy[at] = value;
    return parse_soft_rnic_message(copy).error();
  };
  CHECK(parse_with(0, std::byte{0x54}) == errc::malformed);    // magic
  CHECK(parse_with(2, std::byte{0x02}) == errc::unsupported);  // version
  CHECK(parse_with(3, std::byte{0x00}) == errc::malformed);    // opcode 0
  CHECK(parse_with(3, std::byte{0x06}) == errc::malformed);    // opcode past the last
  CHECK(parse_with(3, std::byte{0x86}) == errc::malformed);    // response past the last
  CHECK(parse_with(39, std::byte{0x01}) == errc::malformed);   // reserved bits
  CHECK(parse_with(35, std::byte{0x10}) == errc::malformed);   // atomic length != 8
  CHECK(parse_with(55, std::byte{0x01}) == errc::malformed);   // fetch_add with a swap value

  auto longer = good;
  longer.push_back(std::byte{0});
  CHECK(parse_soft_rnic_message(longer).error() == errc::malformed);  // trailing byte

  // A connect carries sequence 0 and nothing else.
  auto connect = encode({.opcode = soft_rnic_opcode::connect, .session = session});
  connect[7] = std::byte{1};
  CHECK(parse_soft_rnic_message(connect).error() == errc::malformed);

  // A NAK carries no data; a syndrome must be known; the ack's reserved bits are zero.
  auto nak = encode({.opcode = soft_rnic_opcode::read_response,
                     .session = session,
                     .syndrome = soft_rnic_syndrome::access_error});
  auto nak_with_data = nak;
  nak_with_data.push_back(std::byte{0});
  CHECK(parse_soft_rnic_message(nak_with_data).error() == errc::malformed);
  auto unknown_syndrome = nak;
  unknown_syndrome[16] = std::byte{7};
  CHECK(parse_soft_rnic_message(unknown_syndrome).error() == errc::malformed);
  auto reserved = nak;
  reserved[19] = std::byte{1};
  CHECK(parse_soft_rnic_message(reserved).error() == errc::malformed);

  // A write's length must match the data that follows.
  const auto data = bytes({9, 9, 9, 9});
  auto write =
      encode({.opcode = soft_rnic_opcode::write, .session = session, .length = 4, .payload = data});
  write.pop_back();
  CHECK(parse_soft_rnic_message(write).error() == errc::truncated);
}

TEST_CASE("soft_rnic wire: the encoder refuses inconsistent messages and short buffers") {
  const auto data = bytes({1, 2, 3});
  std::array<std::byte, 128> out{};
  using op = soft_rnic_opcode;
  CHECK(encode_soft_rnic_message(out, {.opcode = static_cast<op>(0x42)}).error() ==
        errc::malformed);
  CHECK(
      encode_soft_rnic_message(out, {.opcode = op::write, .length = 2, .payload = data}).error() ==
      errc::malformed);
  CHECK(encode_soft_rnic_message(out, {.opcode = op::fetch_add, .length = 8, .swap = 1}).error() ==
        errc::malformed);
  CHECK(encode_soft_rnic_message(out, {.opcode = op::compare_swap, .length = 4}).error() ==
        errc::malformed);
  CHECK(encode_soft_rnic_message(out, {.opcode = op::read, .payload = data}).error() ==
        errc::malformed);
  CHECK(encode_soft_rnic_message(out, {.opcode = op::connect, .sequence = 1}).error() ==
        errc::malformed);
  CHECK(encode_soft_rnic_message(out, {.opcode = op::read_response,
                                       .syndrome = soft_rnic_syndrome::out_of_range,
                                       .payload = data})
            .error() == errc::malformed);
  CHECK(encode_soft_rnic_message(
            out, {.opcode = op::write_response, .syndrome = static_cast<soft_rnic_syndrome>(9)})
            .error() == errc::malformed);
  CHECK(encode_soft_rnic_message(std::span(out).first(soft_rnic_atomic_size - 1),
                                 {.opcode = op::fetch_add, .length = 8})
            .error() == errc::truncated);
  // The header alone needs room only for itself: the payload is gathered separately.
  const soft_rnic_message write{.opcode = op::write, .length = 3, .payload = data};
  CHECK(encode_soft_rnic_message(std::span(out).first(soft_rnic_access_size), write).error() ==
        errc::truncated);
  CHECK(encode_soft_rnic_header(std::span(out).first(soft_rnic_access_size), write).value_or(0) ==
        soft_rnic_access_size);
  CHECK(encode_soft_rnic_header(std::span(out).first(soft_rnic_access_size - 1), write).error() ==
        errc::truncated);
}

TEST_CASE("soft_rnic wire: NAK syndromes map to the memory-region errors") {
  CHECK(to_errc(soft_rnic_syndrome::ok) == errc::ok);
  CHECK(to_errc(soft_rnic_syndrome::access_error) == errc::remote_error);
  CHECK(to_errc(soft_rnic_syndrome::out_of_range) == errc::out_of_range);
  CHECK(to_errc(soft_rnic_syndrome::misaligned) == errc::misaligned);
  CHECK(to_errc(soft_rnic_syndrome::invalid_request) == errc::remote_error);
  CHECK(to_errc(soft_rnic_syndrome::unknown_session) == errc::unavailable);
  CHECK(response_to(soft_rnic_opcode::compare_swap) == soft_rnic_opcode::compare_swap_response);
  CHECK(is_response(soft_rnic_opcode::read_response));
  CHECK_FALSE(is_response(soft_rnic_opcode::read));
}
