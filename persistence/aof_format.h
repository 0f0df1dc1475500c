// Constants of the AOF file format. The format is specified in docs/aof-format.md; change both
// together.
//
//   file   := file_header record*
//   file_header (8 bytes) := "AKVAOF" version:u16le            (version = kFormatVersion)
//   record := header_crc:u32le length:u32le type:u8 payload_crc:u32le payload[length]
//     header_crc  = crc32c::Mask(crc32c(bytes 4..12 of the record: length, type, payload_crc))
//     payload_crc = crc32c::Mask(crc32c(payload))
#pragma once

#include <cstddef>
#include <cstdint>

namespace activekv::persistence::aof {

inline constexpr char kMagic[6] = {'A', 'K', 'V', 'A', 'O', 'F'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = sizeof(kMagic) + 2;  // magic + u16 version

// Record header layout.
inline constexpr size_t kHeaderCrcOffset = 0;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kTypeOffset = 8;
inline constexpr size_t kPayloadCrcOffset = 9;
inline constexpr size_t kRecordHeaderSize = 13;

enum RecordType : uint8_t {
  kZeroType = 0,      // never written: zero-filled space (preallocated or torn) must not parse
  kOpBatchType = 1,   // payload: a serialized activekv.v1.OpBatch (opaque to this layer)
  kSnapshotType = 2,  // payload: a serialized activekv.v1.Snapshot chunk (opaque to this layer)
};
inline constexpr uint8_t kMaxRecordType = kSnapshotType;

// The largest payload a writer produces and a reader accepts: a 512 MiB value (Redis's
// proto-max-bulk-len) plus 1 MiB for the rest of the op batch. A header claiming more is corrupt.
inline constexpr uint32_t kMaxPayloadSize = (512u + 1u) << 20;

}  // namespace activekv::persistence::aof
