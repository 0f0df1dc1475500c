// libFuzzer target for the AOF reader and RecoverAof (docs/aof-format.md). Must never crash,
// hang or leak, and the damage classification must obey its invariants.
//
// The first input byte picks a mode:
//   even: the rest is a raw file image (garbage, torn headers, ...).
//   odd:  the rest describes payloads that are framed into a VALID log (libFuzzer cannot forge
//         CRC32Cs), which is then damaged by a cut, bit flips or inserted garbage. This reaches
//         the resync and torn-tail logic with checksums that really hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "persistence/aof_format.h"
#include "persistence/aof_reader.h"
#include "persistence/aof_writer.h"
#include "persistence/mem_env.h"
#include "persistence/recovery.h"

namespace activekv::persistence {
namespace {

const std::string kPath = "fuzz.aof";

struct Damage {
  bool any = false;
  bool only_cut = true;  // the image is a prefix of the valid log
};

// Builds a valid log from `in` and damages it as `in` says. `*payloads` gets the framed payloads.
std::string BuildDamagedLog(std::string_view in, std::vector<std::string>* payloads,
                            Damage* damage) {
  size_t pos = 0;
  auto next = [&]() -> uint8_t { return pos < in.size() ? static_cast<uint8_t>(in[pos++]) : 0; };
  int count = next() % 16;
  std::string image = aof::FileHeader();
  for (int i = 0; i < count && pos < in.size(); ++i) {
    size_t len = next();
    std::string payload(in.substr(pos, len));
    pos += payload.size();
    payloads->push_back(payload);
    aof::EncodeRecord(payload, &image);
  }
  int ops = next() % 4;
  for (int i = 0; i < ops; ++i) {
    uint8_t kind = next() % 3;
    size_t at = ((static_cast<size_t>(next()) << 8) | next()) % (image.size() + 1);
    damage->any = true;
    if (kind == 0) {
      image.resize(at);
    } else if (kind == 1 && at < image.size()) {
      image[at] = static_cast<char>(image[at] ^ (1 << (next() % 8)));
      damage->only_cut = false;
    } else if (kind == 2) {
      size_t len = next() % 32;
      image.insert(at, std::string(in.substr(std::min(pos, in.size()), len)));
      pos += len;
      damage->only_cut = false;
    }
  }
  return image;
}

void Check(const std::string& image, const std::vector<std::string>* payloads, Damage damage) {
  MemEnv env;
  FUZZ_CHECK(WriteStringToFile(&env, image, kPath, /*sync=*/true).ok());

  // 1. The reader: keep reading past kCorruption like activekv-check-aof does.
  std::vector<std::string> before_damage;
  bool damaged = false;
  uint64_t last_end = 0;
  {
    auto file = env.NewSequentialFile(kPath);
    FUZZ_CHECK(file.ok());
    aof::Reader reader(file->get(), nullptr);
    std::string payload;
    for (int steps = 0;; ++steps) {
      FUZZ_CHECK(steps <= static_cast<int>(image.size()) + 2);  // always makes progress
      aof::Reader::Result r = reader.ReadRecord(&payload);
      if (r == aof::Reader::Result::kRecord) {
        FUZZ_CHECK(reader.record_offset() >= last_end);
        FUZZ_CHECK(reader.end_offset() <= image.size());
        FUZZ_CHECK(reader.end_offset() - reader.record_offset() ==
                   aof::kRecordHeaderSize + payload.size());
        last_end = reader.end_offset();
        if (!damaged) before_damage.push_back(payload);
        continue;
      }
      if (r == aof::Reader::Result::kIoError) std::abort();  // MemEnv never fails
      if (r == aof::Reader::Result::kEof) break;
      FUZZ_CHECK(reader.damage_offset() + reader.damage_bytes() <= image.size());
      FUZZ_CHECK(reader.damage_bytes() > 0);
      damaged = true;
      if (r == aof::Reader::Result::kTornTail) {
        FUZZ_CHECK(reader.damage_offset() + reader.damage_bytes() == image.size());
        break;
      }
      if (r == aof::Reader::Result::kBadFileHeader) break;
    }
  }
  if (payloads != nullptr && !damage.any) {
    FUZZ_CHECK(!damaged && before_damage == *payloads);
  }
  if (payloads != nullptr && damage.only_cut) {
    // A cut log reads back as a prefix of what was written, and at worst has a torn tail.
    FUZZ_CHECK(before_damage.size() <= payloads->size());
    for (size_t i = 0; i < before_damage.size(); ++i)
      FUZZ_CHECK(before_damage[i] == (*payloads)[i]);
  }

  // 2. Recovery applies exactly the records before the first damage.
  std::vector<std::string> applied;
  RecoveryResult result;
  absl::Status status = RecoverAof(
      &env, kPath,
      [&](std::string_view p) {
        applied.emplace_back(p);
        return absl::OkStatus();
      },
      &result);
  FUZZ_CHECK(applied == before_damage);
  FUZZ_CHECK(result.records_applied == applied.size());
  if (payloads != nullptr && damage.only_cut) FUZZ_CHECK(status.ok());
  if (status.ok()) {
    // Whatever was truncated, the file now reads back cleanly with the same records.
    auto size = env.GetFileSize(kPath);
    FUZZ_CHECK(size.ok() && *size == result.valid_bytes);
    FUZZ_CHECK(result.valid_bytes + result.truncated_bytes == image.size());
    std::vector<std::string> again;
    RecoveryResult second;
    FUZZ_CHECK(RecoverAof(
                   &env, kPath,
                   [&](std::string_view p) {
                     again.emplace_back(p);
                     return absl::OkStatus();
                   },
                   &second)
                   .ok());
    FUZZ_CHECK(!second.torn_tail && again == applied);
  } else {
    auto after = ReadFileToString(&env, kPath);
    FUZZ_CHECK(after.ok() && *after == image);  // refused: nothing truncated
  }
}

}  // namespace
}  // namespace activekv::persistence

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace activekv::persistence;  // NOLINT(build/namespaces)
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    Check(std::string(in), nullptr, Damage{});
  } else {
    std::vector<std::string> payloads;
    Damage damage;
    std::string image = BuildDamagedLog(in, &payloads, &damage);
    Check(image, &payloads, damage);
  }
  return 0;
}
