// TSTInfo.serialNumber scheme (RFC 3161 §2.4.2: unique for the life of the TSA, "preserved even
// after a possible interruption (e.g. crash)"; positive; clients must accept up to 160 bits).
//
//   serial = instance (16 bits) || epoch (56 bits) || counter (64 bits)      136 bits, 18 octets max
//
// - instance: configured per tsad instance (0..65535); instances behind one URL use distinct ids.
// - epoch:    the wall-clock time in microseconds at which this process claimed its serial space,
//             strictly greater than every epoch recorded in the database (see store/), so a crash,
//             restart or restore from an older backup always starts a fresh space.
// - counter:  starts at 1 in each epoch, in memory only: it never needs to be made durable.
// Uniqueness therefore needs no write per token. ARCHITECTURE.md explains why this holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsa::core {

struct SerialSpace {
  std::uint16_t instance = 0;
  std::uint64_t epoch_us = 0;  // < 2^56 (until the year 4253)
};

// Big-endian magnitude, minimal (no leading zero octets); the value is never zero.
std::vector<std::uint8_t> EncodeSerial(const SerialSpace& space, std::uint64_t counter);

// Lower-case hex of the DER INTEGER content octets (minimal, "00" first only when the top bit is
// set): the same string tsa-verify, the JSON reply and the log show for the token.
std::string SerialHex(const SerialSpace& space, std::uint64_t counter);

// The canonical form above of any hex spelling of a positive serial (upper case, leading zeros);
// nullopt when not hex or zero.
std::optional<std::string> CanonicalSerialHex(std::string_view hex);

}  // namespace tsa::core
