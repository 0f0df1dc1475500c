// Helpers shared by the persistence unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "persistence/aof_reader.h"
#include "persistence/aof_writer.h"
#include "persistence/env.h"

namespace activekv::persistence::testing {

// The seed GoogleTest uses (--gtest_random_seed), so a failure replays.
inline std::mt19937_64 SeededRng() {
  int seed = ::testing::UnitTest::GetInstance()->random_seed();
  std::printf("random seed: %d (replay with --gtest_random_seed=%d)\n", seed, seed);
  return std::mt19937_64(static_cast<uint64_t>(seed));
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Payload i of a test log: distinct and easy to recognize.
inline std::string Payload(int i, size_t size = 20) {
  std::string s = "record-" + std::to_string(i) + "-";
  while (s.size() < size) s.push_back(static_cast<char>('a' + (s.size() + i) % 26));
  s.resize(size);
  return s;
}

// A complete AOF image: file header + one record per payload. `*offsets` (optional) receives the
// offset of each record.
inline std::string MakeAof(const std::vector<std::string>& payloads,
                           std::vector<uint64_t>* offsets = nullptr) {
  std::string image = aof::FileHeader();
  for (const std::string& p : payloads) {
    if (offsets != nullptr) offsets->push_back(image.size());
    aof::EncodeRecord(p, &image);
  }
  return image;
}

struct ReadOutcome {
  std::vector<std::string> records;
  aof::Reader::Result end = aof::Reader::Result::kEof;  // the first non-kRecord result
  uint64_t damage_offset = 0;
  uint64_t end_offset = 0;
};

// Reads records until the first non-kRecord result.
inline ReadOutcome ReadAof(Env* env, const std::string& path) {
  ReadOutcome out;
  auto file = env->NewSequentialFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return out;
  aof::Reader reader(file->get(), nullptr);
  std::string payload;
  while ((out.end = reader.ReadRecord(&payload)) == aof::Reader::Result::kRecord) {
    out.records.push_back(payload);
  }
  out.damage_offset = reader.damage_offset();
  out.end_offset = reader.end_offset();
  return out;
}

// Polls `condition` until it holds or `timeout` passes (for background-thread tests only).
inline bool WaitFor(const std::function<bool()>& condition,
                    absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Microseconds(200));
  }
  return true;
}

}  // namespace activekv::persistence::testing
