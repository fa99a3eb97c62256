/* The switch-side Count-Min fragment of innet's sketch disaggregation (issue 4).
 *
 * Architecture: v1model (BMv2 simple_switch). P4_16.
 *
 * Every IPv4 TCP/UDP packet with a whole transport header, except the export traffic below, is
 * counted in a Count-Min sketch of INNET_SKETCH_DEPTH rows of INNET_SKETCH_WIDTH 32-bit
 * counters, one register array per row, and forwarded unchanged (forwarding itself is out of
 * scope: the egress port the rest of the pipeline chose, or the one the `forward` table picks,
 * is kept). A request packet from the collector makes the switch export the counters, a chunk
 * of INNET_SKETCH_COUNTERS_PER_EXPORT per packet, in innet's export format
 * (include/innet/sketch/export_format.hpp).
 *
 * Every constant shared with C++ (dimensions, ports, magic, flags, the export header's layout,
 * the CRC lanes, SplitMix64's constants) comes from include/sketch_constants.p4, which
 * p4/generate_constants.cpp generates from the C++ headers; ctest p4.constants_match checks
 * the checked-in copy.
 *
 * Rows. The digest of the flow key {src_addr, dst_addr, src_port, dst_port, protocol} (the 13
 * bytes of innet::net::five_tuple::to_bytes(), in this field order) is
 *
 *     lanes    crc32, and three crc32_custom calculations the control plane sets to
 *              CRC-32C, CRC-32D and CRC-32/AUTOSAR (INNET_SKETCH_LANE{1,2,3}_*)
 *     low      = (lane0 ++ lane1) * m0 + a0
 *     high     = ((lane2 ++ lane3) * m1 + a1) | 1
 *     column r = (low + r * high) >> INNET_SKETCH_INDEX_SHIFT
 *
 * which is innet::sketch::switch_digest (include/innet/sketch/switch_digest.hpp, where the
 * choice is explained) fed to innet::hash_family::index_pow2: the collector queries an exported
 * fragment with count_min::estimate(hash_family(switch_digest(key, seed))). m0, a0, m1, a1 are
 * switch_seed_params(seed), which derive_seed_params computes here from the seed the control
 * plane installs in the sketch_config table (with the node id, epoch, sub-epoch and the
 * collector's port), so the seed and the multipliers cannot disagree.
 *
 * Banks. Each row's register holds two banks of INNET_SKETCH_WIDTH counters. Packets are
 * counted in bank (sub_epoch & 1); the control plane ends a sub-epoch by installing
 * sub_epoch + 1, after which the previous sub-epoch's bank is idle: nothing counts into it, and
 * the collector reads it (repeating any chunk whose reply was lost) and then resets it. A RESET
 * request is honoured for the idle bank only.
 *
 * Export. The collector sends, from the port sketch_config names, a UDP datagram to port
 * INNET_SKETCH_EXPORT_UDP_PORT whose payload is an export header with flag REQUEST, count 0,
 * this switch's node id, the sub-epoch to read (the current one, read live, or the previous
 * one) and the row and offset (a multiple of INNET_SKETCH_COUNTERS_PER_EXPORT) to start from.
 * The switch fills the header (depth, width, seed, count) and appends the counters of that row
 * and sub-epoch from that offset, zeroing them behind the read if the request has flag RESET,
 * and returns the packet to the requester (addresses and ports swapped, so the reply comes from
 * the export port) on the collector's port. A request that is not valid (wrong sub-epoch, row
 * or offset out of range, counters attached, RESET of the live bank, switch not configured) is
 * dropped. Export-format packets that are not this switch's to serve (requests for other
 * nodes or from other ports, other nodes' replies) are forwarded untouched and not counted.
 * With flag WALK it exports the whole fragment from one request: egress clones each filled
 * chunk to the collector's mirror session (INNET_SKETCH_EXPORT_CLONE_SESSION) and recirculates
 * the packet; the next pass advances past the chunk it carries and fills the next one, until
 * the chunk that ends the last row, flagged LAST, goes to the collector directly.
 *
 * Atomicity: BMv2 runs each action's register accesses under a lock, so the read-add-write of
 * one counter is atomic with respect to other packets (v1model.p4, register::write).
 */
#include <core.p4>
#include <v1model.p4>

#include "include/sketch_constants.p4"

#if INNET_SKETCH_DEPTH != 4
#error "the row arithmetic and register arrays below are written out for four rows"
#endif
#if INNET_SKETCH_BANKS != 2
#error "the counting bank is the sub-epoch's parity"
#endif
#if INNET_SKETCH_REGISTER_SIZE != INNET_SKETCH_BANKS * INNET_SKETCH_WIDTH
#error "each row's register holds every bank"
#endif
#if INNET_SKETCH_COUNTERS_PER_EXPORT != 32
#error "the export fill below is written out for 32 counters per packet"
#endif

header ethernet_t {
    bit<48> dst_addr;
    bit<48> src_addr;
    bit<16> ether_type;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  diffserv;
    bit<16> total_len;
    bit<16> identification;
    bit<3>  flags;
    bit<13> frag_offset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdr_checksum;
    bit<32> src_addr;
    bit<32> dst_addr;
}

header ipv4_options_t {
    varbit<320> options;
}

// The first four bytes of TCP and UDP: the ports the flow key needs.
header ports_t {
    bit<16> src_port;
    bit<16> dst_port;
}

// The rest of a minimal TCP header, parsed only to insist that the header is whole.
header tcp_rest_t {
    bit<32> seq_no;
    bit<32> ack_no;
    bit<4>  data_offset;
    bit<4>  reserved;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgent_ptr;
}

header udp_rest_t {
    bit<16> length;
    bit<16> checksum;
}

header sketch_counter_t {
    bit<INNET_SKETCH_COUNTER_BITS> value;
}

struct headers_t {
    ethernet_t       ethernet;
    ipv4_t           ipv4;
    ipv4_options_t   ipv4_options;
    ports_t          ports;
    tcp_rest_t       tcp_rest;
    udp_rest_t       udp_rest;
    sketch_export_t  sketch_export;
    sketch_counter_t[INNET_SKETCH_COUNTERS_PER_EXPORT] counters;
}

struct metadata_t {
    bit<1>  configured;
    @field_list(0)
    bit<1>  is_export;
    bit<1>  walk_on;      // egress: clone this chunk and recirculate for the next
    bit<32> node;
    bit<32> epoch;
    bit<16> sub_epoch;
    bit<64> seed;
    bit<64> m0;           // switch_seed_params(seed), derived per packet
    bit<64> a0;
    bit<64> m1;
    bit<64> a1;
    bit<9>  collector_port;
    bit<32> export_base;  // register index of the chunk's first counter (bank and column)
    bit<INNET_SKETCH_COUNTER_BITS> export_keep;  // ANDed into what an export reads back
}

parser SketchParser(packet_in packet, out headers_t hdr, inout metadata_t meta,
                    inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            INNET_ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        // Only version 4, a sane header length, and first fragments carry the ports.
        transition select(hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.frag_offset) {
            (4w4, 4w5, 13w0): parse_transport;
            (4w4, 4w6 .. 4w15, 13w0): parse_ipv4_options;
            default: accept;
        }
    }

    state parse_ipv4_options {
        packet.extract(hdr.ipv4_options, (bit<32>)(((bit<16>)hdr.ipv4.ihl - 5) * 32));
        transition parse_transport;
    }

    state parse_transport {
        transition select(hdr.ipv4.protocol) {
            INNET_PROTOCOL_TCP: parse_tcp;
            INNET_PROTOCOL_UDP: parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        packet.extract(hdr.ports);
        packet.extract(hdr.tcp_rest);
        transition accept;
    }

    state parse_udp {
        packet.extract(hdr.ports);
        packet.extract(hdr.udp_rest);
        // Requests go to the export port; replies (and a walk's recirculated reply) come
        // from it.
        transition select(hdr.ports.dst_port, hdr.ports.src_port) {
            (INNET_SKETCH_EXPORT_UDP_PORT, _): maybe_export;
            (_, INNET_SKETCH_EXPORT_UDP_PORT): maybe_export;
            default: accept;
        }
    }

    // Only a payload that starts with the magic and version is an export; any other datagram
    // to or from the port is ordinary traffic, and counted as such.
    state maybe_export {
        transition select(packet.lookahead<bit<40>>()) {
            INNET_SKETCH_EXPORT_MAGIC_VERSION: parse_export;
            default: accept;
        }
    }

    state parse_export {
        packet.extract(hdr.sketch_export);
        transition select(hdr.sketch_export.count) {
            INNET_SKETCH_COUNTERS_PER_EXPORT: parse_counters;
            default: accept;
        }
    }

    // A recirculated walk carries the chunk its last pass filled; parsed so that it is
    // overwritten rather than left behind as payload.
    state parse_counters {
        packet.extract(hdr.counters.next);
        transition select(hdr.counters.lastIndex) {
            INNET_SKETCH_COUNTERS_PER_EXPORT - 1: accept;
            default: parse_counters;
        }
    }
}

control SketchVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

control SketchIngress(inout headers_t hdr, inout metadata_t meta,
                      inout standard_metadata_t standard_metadata) {
    // Bank b's column c of a row at index b * INNET_SKETCH_WIDTH + c.
    register<bit<INNET_SKETCH_COUNTER_BITS>>(INNET_SKETCH_REGISTER_SIZE) row0;
    register<bit<INNET_SKETCH_COUNTER_BITS>>(INNET_SKETCH_REGISTER_SIZE) row1;
    register<bit<INNET_SKETCH_COUNTER_BITS>>(INNET_SKETCH_REGISTER_SIZE) row2;
    register<bit<INNET_SKETCH_COUNTER_BITS>>(INNET_SKETCH_REGISTER_SIZE) row3;

    // Installed by the control plane as the table's default action (the table has no key).
    action set_fragment(bit<32> node, bit<32> epoch, bit<16> sub_epoch, bit<64> seed,
                        bit<9> collector_port) {
        meta.configured = 1;
        meta.node = node;
        meta.epoch = epoch;
        meta.sub_epoch = sub_epoch;
        meta.seed = seed;
        meta.collector_port = collector_port;
    }

    table sketch_config {
        actions = { set_fragment; NoAction; }
        default_action = NoAction();
        size = 1;
    }

    // switch_seed_params(seed) (switch_digest.hpp): SplitMix64's output at steps 1 to 4,
    // multipliers made odd.
#define INNET_SPLITMIX64(out, step)                                                          \
        z = meta.seed + step * INNET_SKETCH_SPLITMIX_GAMMA;                                   \
        z = (z ^ (z >> INNET_SKETCH_SPLITMIX_SHIFT1)) * INNET_SKETCH_SPLITMIX_MULTIPLIER1;  \
        z = (z ^ (z >> INNET_SKETCH_SPLITMIX_SHIFT2)) * INNET_SKETCH_SPLITMIX_MULTIPLIER2;  \
        out = z ^ (z >> INNET_SKETCH_SPLITMIX_SHIFT3);
    action derive_seed_params() {
        bit<64> z;
        INNET_SPLITMIX64(meta.m0, 64w1)
        INNET_SPLITMIX64(meta.a0, 64w2)
        INNET_SPLITMIX64(meta.m1, 64w3)
        INNET_SPLITMIX64(meta.a1, 64w4)
        meta.m0 = meta.m0 | 64w1;
        meta.m1 = meta.m1 | 64w1;
    }
#undef INNET_SPLITMIX64

    // Forwarding of ordinary traffic, whatever the deployment needs; counting does not
    // depend on it.
    action forward_to(bit<9> port) {
        standard_metadata.egress_spec = port;
    }

    table forward {
        key = { standard_metadata.ingress_port: exact; }
        actions = { forward_to; NoAction; }
        default_action = NoAction();
        size = 64;
    }

    action count_flow() {
        bit<32> lane0;
        bit<32> lane1;
        bit<32> lane2;
        bit<32> lane3;
        hash(lane0, HashAlgorithm.crc32, 32w0,
             { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ports.src_port, hdr.ports.dst_port,
               hdr.ipv4.protocol }, 64w0x100000000);
        hash(lane1, HashAlgorithm.crc32_custom, 32w0,
             { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ports.src_port, hdr.ports.dst_port,
               hdr.ipv4.protocol }, 64w0x100000000);
        hash(lane2, HashAlgorithm.crc32_custom, 32w0,
             { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ports.src_port, hdr.ports.dst_port,
               hdr.ipv4.protocol }, 64w0x100000000);
        hash(lane3, HashAlgorithm.crc32_custom, 32w0,
             { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ports.src_port, hdr.ports.dst_port,
               hdr.ipv4.protocol }, 64w0x100000000);

        bit<64> low = (lane0 ++ lane1) * meta.m0 + meta.a0;
        bit<64> high = ((lane2 ++ lane3) * meta.m1 + meta.a1) | 64w1;
        // low + r * high for r = 0..3, as shifts and adds.
        bit<64> x0 = low;
        bit<64> x1 = low + high;
        bit<64> x2 = low + (high << 1);
        bit<64> x3 = x2 + high;
        // The counting bank: the current sub-epoch's parity.
        bit<32> bank = ((bit<32>)(meta.sub_epoch & 16w1)) << INNET_SKETCH_WIDTH_BITS;
        bit<32> i0 = bank | (bit<32>)(x0 >> INNET_SKETCH_INDEX_SHIFT);
        bit<32> i1 = bank | (bit<32>)(x1 >> INNET_SKETCH_INDEX_SHIFT);
        bit<32> i2 = bank | (bit<32>)(x2 >> INNET_SKETCH_INDEX_SHIFT);
        bit<32> i3 = bank | (bit<32>)(x3 >> INNET_SKETCH_INDEX_SHIFT);

        // 32-bit counters wrap, as innet's u32 counters do.
        bit<INNET_SKETCH_COUNTER_BITS> c;
        row0.read(c, i0);
        row0.write(i0, c + 1);
        row1.read(c, i1);
        row1.write(i1, c + 1);
        row2.read(c, i2);
        row2.write(i2, c + 1);
        row3.read(c, i3);
        row3.write(i3, c + 1);
    }

    // One chunk of one row: counters export_base .. export_base + 31 of the register into
    // hdr.counters, each written back ANDed with export_keep (all ones: kept; zero: reset).
    // Every register access is unconditional, a form every p4c midend accepts in an action.
#define INNET_EXPORT_ONE(reg, i)                                                    \
        hdr.counters[i].setValid();                                                 \
        reg.read(hdr.counters[i].value, meta.export_base + i);                      \
        reg.write(meta.export_base + i, hdr.counters[i].value & meta.export_keep);
#define INNET_EXPORT_CHUNK(reg)                                                     \
        INNET_EXPORT_ONE(reg, 0)  INNET_EXPORT_ONE(reg, 1)  INNET_EXPORT_ONE(reg, 2)  \
        INNET_EXPORT_ONE(reg, 3)  INNET_EXPORT_ONE(reg, 4)  INNET_EXPORT_ONE(reg, 5)  \
        INNET_EXPORT_ONE(reg, 6)  INNET_EXPORT_ONE(reg, 7)  INNET_EXPORT_ONE(reg, 8)  \
        INNET_EXPORT_ONE(reg, 9)  INNET_EXPORT_ONE(reg, 10) INNET_EXPORT_ONE(reg, 11) \
        INNET_EXPORT_ONE(reg, 12) INNET_EXPORT_ONE(reg, 13) INNET_EXPORT_ONE(reg, 14) \
        INNET_EXPORT_ONE(reg, 15) INNET_EXPORT_ONE(reg, 16) INNET_EXPORT_ONE(reg, 17) \
        INNET_EXPORT_ONE(reg, 18) INNET_EXPORT_ONE(reg, 19) INNET_EXPORT_ONE(reg, 20) \
        INNET_EXPORT_ONE(reg, 21) INNET_EXPORT_ONE(reg, 22) INNET_EXPORT_ONE(reg, 23) \
        INNET_EXPORT_ONE(reg, 24) INNET_EXPORT_ONE(reg, 25) INNET_EXPORT_ONE(reg, 26) \
        INNET_EXPORT_ONE(reg, 27) INNET_EXPORT_ONE(reg, 28) INNET_EXPORT_ONE(reg, 29) \
        INNET_EXPORT_ONE(reg, 30) INNET_EXPORT_ONE(reg, 31)
    action export_row0() { INNET_EXPORT_CHUNK(row0) }
    action export_row1() { INNET_EXPORT_CHUNK(row1) }
    action export_row2() { INNET_EXPORT_CHUNK(row2) }
    action export_row3() { INNET_EXPORT_CHUNK(row3) }
#undef INNET_EXPORT_CHUNK
#undef INNET_EXPORT_ONE

    apply {
        sketch_config.apply();
        if (meta.configured == 1) {
            derive_seed_params();
        }
        if (hdr.sketch_export.isValid() && hdr.udp_rest.isValid()) {
            // Magic and version matched in the parser. A request is this switch's to serve
            // only from the collector's port and for its node; a walk coming back is its own
            // (is_export is zero for every packet entering ingress except one that egress
            // recirculated, which keeps it: field list 0).
            bool request = (hdr.sketch_export.flags & INNET_SKETCH_FLAG_REQUEST) != 0;
            bool walking = meta.is_export == 1;
            bool served = walking ||
                          (request && meta.configured == 1 &&
                           standard_metadata.ingress_port == meta.collector_port &&
                           hdr.sketch_export.node == meta.node);
            if (!served) {
                // Another node's export or request passing through: forwarded untouched,
                // and not a flow to count.
                forward.apply();
                return;
            }
            // The sub-epoch asked for: the previous one (the idle bank) or, without RESET,
            // the current one (the counting bank, read live).
            bool reset = (hdr.sketch_export.flags & INNET_SKETCH_FLAG_RESET) != 0;
            bit<16> asked = hdr.sketch_export.sub_epoch;
            bool idle = asked == meta.sub_epoch - 1;
            bool live = asked == meta.sub_epoch;
            if (meta.configured == 0 || (request && hdr.sketch_export.count != 0) ||
                hdr.sketch_export.row >= INNET_SKETCH_DEPTH ||
                hdr.sketch_export.offset >= INNET_SKETCH_WIDTH ||
                (hdr.sketch_export.offset & (INNET_SKETCH_COUNTERS_PER_EXPORT - 1)) != 0 ||
                !(idle || (live && !reset))) {
                mark_to_drop(standard_metadata);
                return;
            }
            // Advance past the chunk this packet carries (none for the first request).
            bit<16> row = hdr.sketch_export.row;
            bit<32> offset = hdr.sketch_export.offset + (bit<32>)hdr.sketch_export.count;
            if (offset >= INNET_SKETCH_WIDTH) {
                offset = 0;
                row = row + 1;
            }
            if (row >= INNET_SKETCH_DEPTH) {
                mark_to_drop(standard_metadata);
                return;
            }
            bool grows = hdr.sketch_export.count == 0;

            meta.export_base = (((bit<32>)(asked & 16w1)) << INNET_SKETCH_WIDTH_BITS) + offset;
            if (reset) {
                meta.export_keep = 0;
            } else {
                meta.export_keep = ~(bit<INNET_SKETCH_COUNTER_BITS>)0;
            }
            if (row == 0) {
                export_row0();
            } else if (row == 1) {
                export_row1();
            } else if (row == 2) {
                export_row2();
            } else {
                export_row3();
            }

            bool last = row == INNET_SKETCH_DEPTH - 1 &&
                        offset + INNET_SKETCH_COUNTERS_PER_EXPORT == INNET_SKETCH_WIDTH;
            hdr.sketch_export.family = INNET_SKETCH_FAMILY_COUNT_MIN;
            hdr.sketch_export.counter_code = INNET_SKETCH_COUNTER_CODE;
            hdr.sketch_export.flags = hdr.sketch_export.flags &
                                      ~(INNET_SKETCH_FLAG_REQUEST | INNET_SKETCH_FLAG_LAST);
            if (last) {
                hdr.sketch_export.flags = hdr.sketch_export.flags | INNET_SKETCH_FLAG_LAST;
            }
            // node, epoch and sub_epoch stay as the request named them (node checked
            // above, sub_epoch too: it says which bank the counters are).
            hdr.sketch_export.row = row;
            hdr.sketch_export.depth = INNET_SKETCH_DEPTH;
            hdr.sketch_export.count = INNET_SKETCH_COUNTERS_PER_EXPORT;
            hdr.sketch_export.width = INNET_SKETCH_WIDTH;
            hdr.sketch_export.offset = offset;
            hdr.sketch_export.seed = meta.seed;

            if (grows) {
                // The request had no counters; the reply carries them, so the lengths grow.
                hdr.ipv4.total_len = hdr.ipv4.total_len +
                                     INNET_SKETCH_COUNTERS_PER_EXPORT * INNET_SKETCH_COUNTER_BYTES;
                hdr.udp_rest.length = hdr.udp_rest.length +
                                      INNET_SKETCH_COUNTERS_PER_EXPORT * INNET_SKETCH_COUNTER_BYTES;
                // Back to the requester.
                bit<32> ip = hdr.ipv4.src_addr;
                hdr.ipv4.src_addr = hdr.ipv4.dst_addr;
                hdr.ipv4.dst_addr = ip;
                bit<16> port = hdr.ports.src_port;
                hdr.ports.src_port = hdr.ports.dst_port;
                hdr.ports.dst_port = port;
                bit<48> mac = hdr.ethernet.src_addr;
                hdr.ethernet.src_addr = hdr.ethernet.dst_addr;
                hdr.ethernet.dst_addr = mac;
            }
            hdr.udp_rest.checksum = 0;  // optional over IPv4; the counters changed
            meta.is_export = 1;
            bool walk = (hdr.sketch_export.flags & INNET_SKETCH_FLAG_WALK) != 0;
            if (walk && !last) {
                meta.walk_on = 1;
            } else {
                meta.walk_on = 0;
            }
            standard_metadata.egress_spec = meta.collector_port;
            return;
        }

        forward.apply();
        if (meta.configured == 1 && hdr.ipv4.isValid() && hdr.ports.isValid()) {
            // The whole transport header is present and inside the IPv4 packet.
            bit<16> header_bytes = ((bit<16>)hdr.ipv4.ihl) << 2;
            if (hdr.tcp_rest.isValid() && hdr.ipv4.total_len >= header_bytes + 20) {
                count_flow();
            } else if (hdr.udp_rest.isValid() && hdr.ipv4.total_len >= header_bytes + 8) {
                count_flow();
            }
        }
    }
}

control SketchEgress(inout headers_t hdr, inout metadata_t meta,
                     inout standard_metadata_t standard_metadata) {
    apply {
        if (meta.is_export == 1 && meta.walk_on == 1) {
            // This chunk goes to the collector as a clone; the packet itself comes back
            // through ingress, which advances past the chunk and fills the next. BMv2 copies
            // an egress clone before the deparser and resets its metadata except the field
            // list named here: the clone keeps is_export = 1, so SketchComputeChecksum
            // updates its IPv4 checksum (the first chunk's addresses and lengths changed),
            // and gets walk_on = 0, so its own egress pass neither clones nor recirculates.
            clone_preserving_field_list(CloneType.E2E, INNET_SKETCH_EXPORT_CLONE_SESSION, 0);
            recirculate_preserving_field_list(0);
        }
    }
}

control SketchComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        update_checksum(
            meta.is_export == 1 && hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv, hdr.ipv4.total_len,
              hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.frag_offset, hdr.ipv4.ttl,
              hdr.ipv4.protocol, hdr.ipv4.src_addr, hdr.ipv4.dst_addr,
              hdr.ipv4_options.options },
            hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);
    }
}

control SketchDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ipv4_options);
        packet.emit(hdr.ports);
        packet.emit(hdr.tcp_rest);
        packet.emit(hdr.udp_rest);
        packet.emit(hdr.sketch_export);
        packet.emit(hdr.counters);
    }
}

V1Switch(SketchParser(), SketchVerifyChecksum(), SketchIngress(), SketchEgress(),
         SketchComputeChecksum(), SketchDeparser()) main;
